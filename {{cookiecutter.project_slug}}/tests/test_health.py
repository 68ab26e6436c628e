"""``GET /health`` answers that the service is up."""

from __future__ import annotations

from .cors_requests import ClientFactory


def test_health_reports_ok(client_for: ClientFactory) -> None:
    response = client_for().get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
