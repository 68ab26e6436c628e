"""``/admin/origins``: manage the origin registry over HTTP, behind a bearer token.

The endpoints exist only when ``ADMIN_TOKEN`` is set, and stay out of the
OpenAPI schema. A write is checked as a whole before anything is stored, and
the serving process uses it at once. A database that fails or is locked gets a
503 answer with the reason; the service keeps serving its last snapshot.
"""

from __future__ import annotations

from secrets import compare_digest
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, SecretStr

from .origin_registry import OriginRegistry, RefusedOriginsError
from .origin_store import RegistryUnavailableError

bearer = HTTPBearer(auto_error=False, description="The service's ADMIN_TOKEN")


class OriginList(BaseModel):
    origins: list[str]


class NewOrigins(BaseModel):
    origins: Annotated[list[str], Field(min_length=1, examples=[["https://tenant-1.example.com"]])]


class Changed(BaseModel):
    changed: list[str]
    """The origins this request added or removed; the others were already in that state."""


def refused(error: RefusedOriginsError, location: tuple[str, ...], entries: list[str]) -> RequestValidationError:
    """A 422 answer naming each refused entry and why, in FastAPI's own error format."""
    return RequestValidationError(
        [
            {"type": "value_error", "loc": (*location, position), "msg": reason, "input": entries[position]}
            for position, reason in error.reasons.items()
        ]
    )


async def registry_unavailable(request: Request, error: Exception) -> JSONResponse:
    """503 with the database's reason (no URL, no password): the client may try again later."""
    reason = error.reason if isinstance(error, RegistryUnavailableError) else "unknown"
    detail = f"The origin registry's database cannot be used now ({reason}); nothing was changed. Try again later"
    return JSONResponse({"detail": detail}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


def admin_router(registry: OriginRegistry, token: SecretStr) -> APIRouter:
    expected = token.get_secret_value().encode()

    def require_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        if credentials is None or not compare_digest(credentials.credentials.encode(), expected):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "Send the admin token as 'Authorization: Bearer <ADMIN_TOKEN>'",
                headers={"WWW-Authenticate": "Bearer"},
            )

    router = APIRouter(
        prefix="/admin/origins", tags=["admin"], dependencies=[Depends(require_token)], include_in_schema=False
    )

    @router.get("")
    def list_origins() -> OriginList:
        """Every stored origin, including any that this environment ignores."""
        return OriginList(origins=registry.stored_origins())

    @router.post("", status_code=status.HTTP_201_CREATED)
    def add_origins(new: NewOrigins) -> Changed:
        """Allow more origins; a single refused entry refuses the whole request."""
        try:
            return Changed(changed=registry.add(new.origins).changed)
        except RefusedOriginsError as error:
            raise refused(error, ("body", "origins"), new.origins) from None

    @router.delete("")
    def remove_origins(origin: Annotated[list[str], Query(min_length=1)]) -> Changed:
        """Stop allowing origins, given as ``?origin=...&origin=...``."""
        try:
            return Changed(changed=registry.remove(origin).changed)
        except RefusedOriginsError as error:
            raise refused(error, ("query", "origin"), origin) from None

    return router


def mount_admin(app: FastAPI, registry: OriginRegistry, token: SecretStr | None) -> None:
    """Add the admin endpoints when a token is configured; without one they do not exist."""
    if token is not None and token.get_secret_value():
        app.include_router(admin_router(registry, token))
        app.add_exception_handler(RegistryUnavailableError, registry_unavailable)
