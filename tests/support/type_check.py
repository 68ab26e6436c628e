"""mypy over generated projects: the types of their dependencies read once a session, never their own modules.

A generated project's ``make typecheck`` spends most of its time reading the
types of the standard library, FastAPI, Starlette, pydantic and SQLAlchemy,
which are the same for every project checked in this environment. So a session
checks, once, a module that only imports what a project imports from outside
itself, and each project's own ``.mypy_cache`` starts as a copy of that cache.
The copy holds no module of any project (they all name their test package
``tests``, so one cache shared by the projects would mix theirs up): every
module of a project is still checked from its source, and mypy re-reads any
cached dependency whose file or options differ.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

from .commands import run
from .servers import package_of

SEED_MODULE = "third_party_imports"


def external_imports(project: Path) -> set[str]:
    """The modules the project's sources and tests import from outside the project, by absolute name."""
    own = {package_of(project), "tests"}
    modules = set()
    for source in [*(project / "src").rglob("*.py"), *(project / "tests").rglob("*.py")]:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module)
    return {module for module in modules if module.split(".")[0] not in own | {"__future__"}}


def build_seed(project: Path, folder: Path) -> Path:
    """A mypy cache of what ``project`` imports from outside itself, checked with the project's own options."""
    seed_module = folder / f"{SEED_MODULE}.py"
    seed_module.write_text("".join(f"import {module}\n" for module in sorted(external_imports(project))))
    cache = folder / "mypy_cache"
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(cache), str(seed_module)]
    result = run(project, command, timeout=600)
    assert result.returncode in (0, 1) and cache.is_dir(), result.stdout + result.stderr
    return cache


def start_from_seed(project: Path, seed: Path) -> None:
    """Give ``project`` a copy of the seed as its mypy cache, unless it has a cache already."""
    if not (project / ".mypy_cache").exists():
        shutil.copytree(seed, project / ".mypy_cache")
