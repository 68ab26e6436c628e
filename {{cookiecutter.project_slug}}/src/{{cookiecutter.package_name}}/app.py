"""The application factory."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

import {{ cookiecutter.package_name }}

{% if cookiecutter.origin_registry == "database" -%}
from .admin import mount_admin
{% endif -%}
from .cors_fastapi import CORSFastAPI
from .cross_origin_writes import protect_writes
{% if cookiecutter.origin_registry == "database" -%}
from .origin_registry import OriginRegistry
from .origin_store import OriginStore
{% endif -%}
from .request_id import RequestIdMiddleware, add_request_id_to_access_log
from .routes import router
from .settings import Settings, load_settings

TITLE = {{ cookiecutter.project_name | python_string }}
DESCRIPTION = {{ cookiecutter.package_name }}.__doc__ or ""


def create_app(settings: Settings | None = None) -> CORSFastAPI:
    """Build the service from ``settings``, read from the environment when omitted.

    Raises :class:`~{{ cookiecutter.package_name }}.settings.ConfigurationError`
    when the configuration is refused.
    """
    settings = settings or load_settings()
    policy = settings.cors_policy
{%- if cookiecutter.origin_registry == "database" %}
    store = OriginStore(settings.database_url)
    registry = OriginRegistry.open(store, policy, settings.cors_registry_refresh_seconds)
    app = CORSFastAPI(policy, registry.matcher, title=TITLE, description=DESCRIPTION, lifespan=registry.lifespan)
    app.state.origin_registry = registry
    app.include_router(router)
    mount_admin(app, registry, settings.admin_token)
{%- else %}
    matcher = policy.matcher()
    app = CORSFastAPI(policy, lambda: matcher, title=TITLE, description=DESCRIPTION)
    app.include_router(router)
{%- endif %}
    app.add_exception_handler(Exception, internal_error)
    protect_writes(app, policy, enabled=settings.csrf_protection, exempt_paths=settings.csrf_exempt_paths)
    app.add_front_middleware(RequestIdMiddleware)
    add_request_id_to_access_log()
    return app


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A crash's answer, in the API's JSON form; the exception still reaches the server's log."""
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
