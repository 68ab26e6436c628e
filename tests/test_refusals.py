"""Every refused answer names the variable, suggests a fix, and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException

from .support.template import generate

REFUSED = [
    pytest.param("prod_origins", "https://app.example.com/app", "https://app.example.com", id="path"),
    pytest.param("prod_origins", "https://app.example.com?x=1", "https://app.example.com", id="query"),
    pytest.param("prod_origins", "app.example.com", "https://app.example.com", id="missing-scheme"),
    pytest.param("dev_origins", "ftp://files.example.com", "https://files.example.com", id="non-http-scheme"),
    pytest.param("prod_origins", "https://user:secret@app.example.com", "https://app.example.com", id="userinfo"),
    pytest.param("staging_origins", "*", "List the frontend origins", id="all-origins-in-staging"),
    pytest.param("prod_origins", "*", "List the frontend origins", id="all-origins-in-production"),
    pytest.param("dev_origins", "*", "allow_credentials to false", id="all-origins-with-credentials"),
    pytest.param("prod_origins", "http://app.example.com", "https://app.example.com", id="http-in-production"),
    pytest.param("prod_origins", "", "List them", id="empty-production"),
    pytest.param("prod_origins", "https://*.com", "at least two labels", id="wildcard-over-a-tld"),
    pytest.param("prod_origins", "https://*", "at least two labels", id="wildcard-alone"),
    pytest.param("prod_origins", "https://*example.com", "whole leftmost label", id="wildcard-inside-a-label"),
    pytest.param("prod_origins", "https://a.*.example.com", "whole leftmost label", id="wildcard-not-leftmost"),
    pytest.param("prod_origins", "https://bücher.example", "https://xn--bcher-kva.example", id="unicode-host"),
    pytest.param("prod_origins", "https://app.example.com:99999", "1 to 65535", id="bad-port"),
    pytest.param("max_age", "ten", "600", id="max-age-not-integer"),
    pytest.param("max_age", "-1", "600", id="max-age-negative"),
    pytest.param("allow_methods", "P@ST", "such as GET", id="method-not-a-token"),
    pytest.param("allow_headers", "X Trace", "such as Authorization", id="header-not-a-token"),
    pytest.param("expose_headers", "X-Total:Count", "such as Authorization", id="exposed-header-not-a-token"),
    pytest.param("project_slug", "My Service", "my-service", id="slug-not-lowercase"),
    pytest.param("package_name", "my-service", "my_service", id="package-not-identifier"),
    pytest.param("package_name", "class", "identifier", id="package-is-keyword"),
    pytest.param("dev_origins", '["http://localhost:3000"', "JSON array", id="broken-json-list"),
    pytest.param("dev_origins", '["http://localhost:3000", 1]', "JSON array of strings", id="json-list-not-strings"),
    pytest.param("prod_origins", "https://*.co.uk", "public suffix", id="wildcard-over-public-suffix"),
    pytest.param("prod_origins", "https://*.github.io", "public suffix", id="wildcard-over-private-suffix"),
    pytest.param("staging_origins", "https://*.herokuapp.com", "public suffix", id="wildcard-over-hosting-suffix"),
    pytest.param("prod_origins", "https://*.2.3.4", "numeric address", id="wildcard-over-numbers"),
    pytest.param("prod_origins", "https://1.2.3", "IPv4", id="host-ending-in-a-number"),
    pytest.param("prod_origins", "https://app.example.com:8\u0663", "1 to 65535", id="non-ascii-digit-port"),
    pytest.param("max_age", "6\u0660\u0660", "600", id="non-ascii-digit-max-age"),
    pytest.param("project_slug", "a" * 64, "at most 63", id="slug-too-long"),
    pytest.param("package_name", "email", "standard library", id="package-shadows-stdlib"),
    pytest.param("package_name", "secrets", "standard library", id="package-shadows-secrets"),
    pytest.param("package_name", "fastapi", "dependency", id="package-shadows-dependency"),
    pytest.param("package_name", "café", "identifier", id="package-not-ascii"),
    pytest.param("package_name", "../evil", "identifier", id="package-escapes-the-output-directory"),
    pytest.param("author_email", "ada@", "e-mail address", id="email-without-domain"),
    pytest.param("author_email", "Ada <ada@example.com>", "e-mail address", id="email-with-display-name"),
    pytest.param("description", "first line\nsecond line", "one line", id="description-with-newline"),
    pytest.param("project_name", "Tab\there", "one line", id="name-with-tab"),
    pytest.param("description", "   ", "empty", id="description-empty"),
    pytest.param("owner", "platform team", "group:default/platform-team", id="owner-not-an-entity-ref"),
    pytest.param("system", "default/team/x", "entity reference", id="system-not-an-entity-ref"),
]


@pytest.mark.parametrize(("variable", "value", "fix"), REFUSED)
def test_refused_answer(tmp_path: Path, capfd: pytest.CaptureFixture[str], variable: str, value: str, fix: str) -> None:
    with pytest.raises(FailedHookException):
        generate(tmp_path, {variable: value})

    message = capfd.readouterr().err
    assert f"{variable}: {value!r}" in message
    assert fix in message
    assert "--replay-file" in message  # pre_gen_project's hint: refused before any file was written
    assert list(tmp_path.iterdir()) == []
    assert list(tmp_path.parent.glob("evil*")) == []


def test_normalised_answers_are_reported(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    generate(tmp_path, {"dev_origins": "HTTP://LocalHost:3000/", "prod_origins": "https://app.example.com:443"})

    output = capfd.readouterr().out
    assert "dev_origins: read as 'http://localhost:3000' (lower-cased the scheme" in output
    assert "prod_origins: read as 'https://app.example.com' (dropped the default port :443)" in output
