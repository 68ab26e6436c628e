"""openapi.json, the API definition catalog-info.yaml gives Backstage, is this service's own OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

DOCUMENT = Path(__file__).resolve().parents[1] / "openapi.json"


def test_openapi_json_is_the_services_current_document() -> None:
    committed = json.loads(DOCUMENT.read_text(encoding="utf-8"))

    assert committed == create_app(Settings()).openapi(), "openapi.json is out of date: run `make openapi`, commit it"
