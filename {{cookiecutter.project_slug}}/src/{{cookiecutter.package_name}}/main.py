"""The ASGI entry point: ``uvicorn {{ cookiecutter.package_name }}.main:app``.

A refused configuration stops the process here, before it serves anything,
with one line naming the variable and the value.
"""

from __future__ import annotations

import sys

from .app import create_app
from .settings import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:
    sys.exit(f"{{ cookiecutter.project_slug }}: configuration refused: {error}")
