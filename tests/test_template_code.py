"""The template's own Python (hooks and tests) is lint-clean."""

from __future__ import annotations

import subprocess
import sys

from .conftest import TEMPLATE


def test_hooks_and_tests_pass_ruff() -> None:
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "hooks", "tests"],
            cwd=TEMPLATE,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
