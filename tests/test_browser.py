"""CORS in a real browser: each variant's own Chromium tests pass, and they catch a broken service.

The browser tests live in the generated project (``tests/e2e``, run with
``pytest -m e2e``) so that every team gets them; here they run against each
variant, and against two deliberately broken services to show they can fail.
Locally they are skipped when Chromium is missing; under ``CI=true`` they fail.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .support.commands import run_in
from .support.servers import package_of
from .support.template import generate
from .support.variants import own_code_variants

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
E2E = ("pytest", "-m", "e2e", "-p", "no:cacheprovider", "-q", "-rfEs", "tests/e2e")
FAILED = re.compile(r"^FAILED (tests/e2e/\S+\.py::[^\[\s]+(?:\[[^\]]*\])?)", re.MULTILINE)
ALLOWED_ORIGIN_TESTS = {
    "test_the_allowed_origin_reads_the_json",
    "test_only_exposed_response_headers_are_readable",
    "test_a_preflight_answer_is_cached_for_max_age",
    "test_the_request_id_is_readable_only_when_exposed[exposed]",
    "test_the_request_id_is_readable_only_when_exposed[not-exposed]",
    "test_the_allowed_frontend_writes_with_fetch",
}
FORGED_WRITE_TESTS = {
    "test_a_form_post_from_a_foreign_page_never_reaches_the_route",
    "test_a_text_plain_fetch_from_a_foreign_page_never_reaches_the_route",
}
FOREIGN_ORIGIN_TESTS = {
    "test_a_foreign_origin_is_blocked_unless_the_answers_allow_it[another port]",
    "test_a_foreign_origin_is_blocked_unless_the_answers_allow_it[lookalike host]",
    "test_an_unlisted_page_reads_a_public_path",  # outside the public path it must be refused
}


@pytest.fixture(autouse=True)
def chromium() -> None:
    if CHROMIUM.is_file():
        return
    reason = f"no Chromium at {CHROMIUM}: `make test` installs it (apt-get install chromium), or set CHROMIUM_PATH"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}. CI=true, so the browser tests must run")
    pytest.skip(reason)


def run_e2e(project: Path, env: dict[str, str] | None = None, *options: str) -> subprocess.CompletedProcess[str]:
    return run_in(project, *E2E, *options, env={"CI": "true", **(env or {})})


def failed_tests(result: subprocess.CompletedProcess[str]) -> set[str]:
    return {name.partition("::")[2] for name in FAILED.findall(result.stdout)}


@pytest.mark.parametrize("variant", own_code_variants())  # the others have their code: support.variants
def test_the_generated_browser_tests_pass_in_chromium(variant: str, generated_variant: Callable[[str], Path]) -> None:
    result = run_e2e(generated_variant(variant))

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    assert "skipped" not in summary, output
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed[1]) >= len(ALLOWED_ORIGIN_TESTS | FOREIGN_ORIGIN_TESTS | FORGED_WRITE_TESTS), output


def test_they_fail_when_the_allowed_origin_is_removed_from_the_configuration(
    generated_variant: Callable[[str], Path],
) -> None:
    project = generated_variant("defaults")

    result = run_e2e(project, env={"CORS_ALLOW_ORIGINS": "http://127.0.0.1:3000,http://localhost:5173"})

    assert result.returncode == 1, result.stdout + result.stderr
    assert failed_tests(result) == ALLOWED_ORIGIN_TESTS, result.stdout


def test_they_fail_when_the_service_reflects_any_origin(tmp_path: Path) -> None:
    project = generate(tmp_path)
    middleware = project / "src" / package_of(project) / "cors_middleware.py"
    source = middleware.read_text()
    assert "return self.current_matcher()(origin)" in source
    middleware.write_text(source.replace("return self.current_matcher()(origin)", "return True"))

    result = run_e2e(project)

    assert result.returncode == 1, result.stdout + result.stderr
    assert failed_tests(result) == FOREIGN_ORIGIN_TESTS, result.stdout


def test_they_fail_when_the_write_protection_is_switched_off(generated_variant: Callable[[str], Path]) -> None:
    project = generated_variant("defaults")

    result = run_e2e(project, {"CSRF_PROTECTION": "false"}, "-k", "foreign_page")

    assert result.returncode == 1, result.stdout + result.stderr
    assert failed_tests(result) == FORGED_WRITE_TESTS, result.stdout
