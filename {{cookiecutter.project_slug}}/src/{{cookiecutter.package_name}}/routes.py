"""The service's own routes: ``GET /health``, which load balancers and the image's health check ask."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter()


class Health(BaseModel):
    status: str


@router.get("/health")
async def health() -> Health:
    """Liveness and readiness: the process is up and serving."""
    return Health(status="ok")
