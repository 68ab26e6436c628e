"""The application factory."""

from __future__ import annotations

from fastapi import FastAPI

import {{ cookiecutter.package_name }}

from .cors_middleware import add_cors
from .routes import router
from .settings import Settings, load_cors_policy


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from ``settings``, read from the environment when omitted.

    Raises :class:`~{{ cookiecutter.package_name }}.settings.ConfigurationError`
    when the CORS configuration is refused.
    """
    app = FastAPI(title={{ cookiecutter.project_name | tojson }}, description={{ cookiecutter.package_name }}.__doc__ or "")
    app.include_router(router)
    add_cors(app, load_cors_policy(settings))
    return app
