"""The template on disk: where it is, generating from it, and loading its plain Python files."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[2]

GenerateOnce = Callable[[str, Mapping[str, Any]], Path]
"""The ``generated`` fixture: ``generated(name, answers)`` is the project of ``answers``, once per answer set."""


def generate(output_dir: Path, answers: Mapping[str, Any] | None = None) -> Path:
    """Generate a service with the default answers, changed by ``answers``."""
    project = cookiecutter(str(TEMPLATE), no_input=True, extra_context=dict(answers or {}), output_dir=str(output_dir))
    return Path(project)


def load_module(path: Path, name: str) -> ModuleType:
    """Import the Python file ``path`` as the module ``name`` (registered in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def hook_module(name: str) -> ModuleType:
    """A hook script as a module (the Jinja line sits under its ``__main__`` guard)."""
    return load_module(TEMPLATE / "hooks" / f"{name}.py", f"template_{name}")


def cors_policy_module() -> ModuleType:
    """The template's own ``cors_policy.py``, loaded by the generator hook's own loader."""
    return hook_module("post_gen_project").load_policy(TEMPLATE / "{{cookiecutter.project_slug}}")
