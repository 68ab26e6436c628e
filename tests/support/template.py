"""The template on disk: where it is, generating from it, and importing its hooks and policy modules."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[2]
HOOKS = TEMPLATE / "hooks"

GenerateOnce = Callable[[str, Mapping[str, Any]], Path]
"""The ``generated`` fixture: ``generated(name, answers)`` is the project of ``answers``, once per answer set."""


def generate(output_dir: Path, answers: Mapping[str, Any] | None = None) -> Path:
    """Generate a service with the default answers, changed by ``answers``."""
    project = cookiecutter(str(TEMPLATE), no_input=True, extra_context=dict(answers or {}), output_dir=str(output_dir))
    return Path(project)


def hook_module(name: str) -> ModuleType:
    """A hook script as a module (its Jinja line sits under the ``__main__`` guard).

    Imported as ``pre_gen_project`` imports ``post_gen_project``: from the
    template's ``hooks`` directory, first on the module search path.
    """
    if str(HOOKS) not in sys.path:
        sys.path.insert(0, str(HOOKS))
    return importlib.import_module(name)


def service_module(name: str) -> ModuleType:
    """One of the template's own policy modules (``cors_policy``, ``origin_grammar``, ...), as the hook loads them."""
    module: ModuleType = getattr(policy_package(), name)
    return module


@functools.cache
def policy_package() -> ModuleType:
    """The template's policy modules, loaded once by ``post_gen_project.load_policy``, the hooks' one loader.

    Once, so that every module's ``PolicyError`` is the same class.
    """
    return hook_module("post_gen_project").load_policy(TEMPLATE / "{{cookiecutter.project_slug}}")
