"""The template's own Python (hooks, tests, benchmarks) is lint-clean, and its tests share helpers the plain way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from .support.template import TEMPLATE

TESTS = TEMPLATE / "tests"


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


def imported_modules(source: str) -> list[str]:
    """The dotted names a module's source imports, relative ones with their leading dots kept."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names += [base] if node.module else []
            names += [f"{base}.{alias.name}" if node.module else f"{base}{alias.name}" for alias in node.names]
    return names


def borrowed_from_tests(source: str) -> list[str]:
    """The test modules and ``conftest`` modules a module's source imports: helpers belong in ``tests/support``."""
    return [
        name
        for name in imported_modules(source)
        if any(part.startswith("test_") or part == "conftest" for part in name.lstrip(".").split("."))
    ]


@pytest.mark.parametrize(
    ("source", "borrowed"),
    [
        ("from .test_generation import VARIANTS", [".test_generation", ".test_generation.VARIANTS"]),
        ("from .conftest import generate", [".conftest", ".conftest.generate"]),
        ("from . import test_container", [".test_container"]),
        ("import tests.test_kubernetes as k", ["tests.test_kubernetes"]),
        ("from tests.conftest import run", ["tests.conftest", "tests.conftest.run"]),
        ("from .support.variants import VARIANTS, variants_where", []),
        ("from .support import broken_services", []),
    ],
)
def test_the_import_check_reads_every_import_form(source: str, borrowed: list[str]) -> None:
    assert borrowed_from_tests(source) == borrowed


def test_no_test_module_imports_a_test_module_or_a_conftest() -> None:
    borrowed = {
        str(path.relative_to(TEMPLATE)): names
        for path in sorted(TESTS.rglob("*.py"))
        if (names := borrowed_from_tests(path.read_text(encoding="utf-8")))
    }

    assert borrowed == {}


def test_conftest_holds_fixtures_only() -> None:
    """Every function ``conftest.py`` defines at its top level is a fixture or a pytest hook (``pytest_*``)."""
    tree = ast.parse((TESTS / "conftest.py").read_text(encoding="utf-8"))
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]

    plain = [
        f.name
        for f in functions
        if not any("fixture" in ast.unparse(d) for d in f.decorator_list) and not f.name.startswith("pytest_")
    ]

    assert functions
    assert plain == []


def test_helpers_live_once_in_the_support_package() -> None:
    """Each helper of ``tests/support`` is defined there only: no test module keeps its own copy."""
    support = {
        node.name
        for path in (TESTS / "support").glob("*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }
    copies = {
        f"{path.name}: {node.name}"
        for path in TESTS.glob("test_*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in support
    }

    assert support
    assert copies == set()


def test_every_support_module_says_what_it_holds() -> None:
    undocumented = [
        path.name for path in Path(TESTS / "support").glob("*.py") if not ast.get_docstring(ast.parse(path.read_text()))
    ]

    assert undocumented == []
