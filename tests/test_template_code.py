"""The template's own Python (hooks, tests, benchmarks) is lint-clean."""

from __future__ import annotations

import subprocess
import sys

from .conftest import TEMPLATE


def test_hooks_tests_and_benchmarks_pass_ruff() -> None:
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "hooks", "tests", "benchmarks"],
            cwd=TEMPLATE,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
