"""`cors explain` agrees with the running service; `cors verify` passes against it and fails, naming the
check, against broken ones (reflecting any origin, behind a proxy adding `*`, started for another environment)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .support.commands import run, run_in, run_tool, service_environment
from .support.cors_battery import Answer, Origin, adversarial_origins, exchange
from .support.header_proxy import header_adding_proxy
from .support.servers import generated_service, package_of, uvicorn_server
from .support.template import TEMPLATE, GenerateOnce
from .support.variants import ENVIRONMENT_ANSWERS, VARIANTS, intended_policy

VARIANT = "wildcard-patterns"
METHOD = "PUT"
"""Not a simple method, so a browser asks with a preflight first."""

EXPLAIN_ALL = """
import importlib, json, sys
package, environment, method, origins = json.load(sys.stdin)
explain = importlib.import_module(package + ".cors_explain")
reasons = importlib.import_module(package + ".cors_reasons")
policy = importlib.import_module(package + ".cors_policy")
requests = [reasons.CrossOriginRequest(origin, method) for origin in origins]
json.dump([e.as_json() for e in explain.explain(requests, policy.Environment(environment))], sys.stdout)
"""


@pytest.fixture(scope="module")
def project(generated: GenerateOnce) -> Path:
    return generated(VARIANT, VARIANTS[VARIANT])


class Servers(dict[str, str]):
    """The generated service under uvicorn, one server per environment, started when first asked for."""

    def __init__(self, project: Path, logs: Path, stack: ExitStack) -> None:
        super().__init__()
        self.project, self.logs, self.stack = project, logs, stack

    def __missing__(self, environment: str) -> str:
        env = {**service_environment(), "APP_ENV": environment}
        url = self.stack.enter_context(generated_service(self.project, env, self.logs / f"{environment}.log"))
        self[environment] = url
        return url


@pytest.fixture(scope="module")
def servers(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with ExitStack() as stack:
        yield Servers(project, tmp_path_factory.mktemp("cors-cli-logs"), stack)


def header_text(origin: Origin) -> str:
    """An ``Origin`` value as the server reads it: bytes as Latin-1."""
    return origin.decode("latin-1") if isinstance(origin, bytes) else origin


def allow_origins(headers: list[list[str]] | list[tuple[str, str]]) -> list[str]:
    return [value for name, value in headers if name.lower() == "access-control-allow-origin"]


def explain_all(project: Path, environment: str, origins: list[str]) -> list[dict[str, Any]]:
    script = project / "explain_all.py"
    script.write_text(EXPLAIN_ALL, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=project,
        env={**service_environment(), "PYTHONPATH": str(project / "src")},
        input=json.dumps([package_of(project), environment, METHOD, origins]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    script.unlink()
    assert result.returncode == 0, result.stderr
    explained: list[dict[str, Any]] = json.loads(result.stdout)
    return explained


def explained_answers(explanation: dict[str, Any]) -> tuple[int, list[str], list[str], bool]:
    """Preflight status and Access-Control-Allow-Origin values, simple request's values, and the verdict."""
    preflight, response = explanation["preflight"], explanation["response"]
    return (
        preflight["status"],
        allow_origins(preflight["headers"]),
        allow_origins(response["headers"]),
        explanation["allowed"],
    )


def served_answers(preflight: Answer, simple: Answer) -> tuple[int, list[str], list[str], bool]:
    """The same from the real answers; a browser allows the request when both carry the origin."""
    preflight_origin, simple_origin = (a.values("access-control-allow-origin") for a in (preflight, simple))
    allowed = preflight.status == 200 and bool(preflight_origin) and bool(simple_origin)
    return preflight.status, preflight_origin, simple_origin, allowed


@pytest.mark.parametrize("environment", sorted(ENVIRONMENT_ANSWERS))
def test_explain_agrees_with_real_preflights_over_the_battery(
    project: Path, servers: dict[str, str], environment: str
) -> None:
    corpus = adversarial_origins(intended_policy(VARIANTS[VARIANT], environment))
    with httpx.Client(base_url=servers[environment], timeout=10) as client:
        real: list[tuple[Answer, Answer]] = [
            (
                exchange(
                    client, "OPTIONS", "/health", [("Origin", a.origin), ("Access-Control-Request-Method", METHOD)]
                ),
                exchange(client, METHOD, "/health", [("Origin", a.origin)]),
            )
            for a in corpus
        ]

    explained = explain_all(project, environment, [header_text(a.origin) for a in corpus])

    disagreements = [
        f"{attack.case}: {attack.origin!r}: explain says {said}, the service answered {answered}"
        for attack, explanation, answers in zip(corpus, explained, real, strict=True)
        for said, answered in [(explained_answers(explanation), served_answers(*answers))]
        if said != answered
    ]
    assert len(corpus) > 40
    assert any(said["allowed"] for said in explained) and not all(said["allowed"] for said in explained)
    assert disagreements == []


def verify(
    project: Path, url: str, environment: str, env: Mapping[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """Run the generated ``cors verify`` as a user would; its exit status and JSON report."""
    result = run_in(
        project,
        package_of(project),
        "cors",
        "verify",
        url,
        "--env",
        environment,
        "--json",
        "--timeout",
        "5",
        env={"PYTHONPATH": str(project / "src"), **(env or {})},
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def failed(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(c["kind"], c["case"].partition(" of ")[0], c["check"]) for c in report["checks"] if not c["passed"]}


@pytest.mark.parametrize("environment", sorted(ENVIRONMENT_ANSWERS))
def test_verify_passes_against_the_generated_service(project: Path, servers: dict[str, str], environment: str) -> None:
    status, report = verify(project, servers[environment], environment)

    assert (status, failed(report), report["error"]) == (0, set(), None)
    cases = {c["case"].partition(" of ")[0] for c in report["checks"]}
    assert cases >= {"suffix lookalike", "extra label", "sandboxed page"}


def test_verify_fails_against_a_service_started_for_another_environment(project: Path, servers: dict[str, str]) -> None:
    status, report = verify(project, servers["staging"], "production")

    assert status == 1
    assert {("preflight", "example", "allow-origin"), ("request", "example", "allow-origin")} <= failed(report)
    assert ("preflight", "allowed in staging only", "allow-origin") in failed(report)


def test_verify_fails_behind_a_proxy_adding_allow_origin_star(project: Path, servers: dict[str, str]) -> None:
    with header_adding_proxy(servers["production"], "Access-Control-Allow-Origin", "*") as proxy:
        status, report = verify(project, proxy, "production")

    assert status == 1
    assert {("request", "example", "allow-origin"), ("request", "suffix lookalike", "allow-origin")} <= failed(report)
    duplicated = [c for c in report["checks"] if c["kind"] == "request" and c["case"].startswith("example")]
    assert duplicated and all(c["got"].startswith("2 values") for c in duplicated if c["check"] == "allow-origin")


def test_verify_fails_against_a_service_reflecting_any_origin(project: Path, tmp_path: Path) -> None:
    """Starlette's ``allow_origins=["*"]`` with credentials, checked against the origin it was meant for."""
    intended = {
        "CORS_ALLOW_ORIGINS": "https://app.example.com",
        "CORS_ALLOW_METHODS": "GET",
        "CORS_ALLOW_HEADERS": "",
        "CORS_EXPOSE_HEADERS": "",
        "CORS_ALLOW_CREDENTIALS": "true",
    }
    app = "tests.support.broken_services:all_origins_with_credentials"
    log = tmp_path / "server.log"
    with uvicorn_server(app, app_dir=TEMPLATE, cwd=TEMPLATE, env=service_environment(), log=log, factory=True) as url:
        status, report = verify(project, url, "production", intended)

    assert status == 1
    assert {"suffix lookalike", "prefix lookalike", "extra label", "http twin", "other port", "sandboxed page"} == {
        case for kind, case, check in failed(report) if check == "allow-origin" and kind == "preflight"
    }
    assert not [c for c in report["checks"] if c["case"] == "configured" and not c["passed"]]


def ci_verify_script(project: Path, ci: str) -> str:
    """The shell the generated CI runs after a deployment: the guard and ``cors verify``, without the install."""
    if ci == "github":
        workflow = yaml.safe_load((project / ".github/workflows/cors-verify.yml").read_text(encoding="utf-8"))
        steps = workflow["jobs"]["cors-verify"]["steps"]
        return next(step["run"] for step in steps if "cors verify" in step.get("run", ""))
    pipeline = yaml.safe_load((project / ".gitlab/cors-verify.yml").read_text(encoding="utf-8"))
    return "\n".join(line for line in pipeline[".cors-verify"]["script"] if "pip install" not in line)


def run_ci_script(project: Path, script: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a CI job's script with this environment's Python (and no ``CORS_VERIFY_URL`` but ``env``'s)."""
    command = ["bash", "-ec", script.replace("python -m", f"{sys.executable} -m")]
    return run(project, command, timeout=120, env={"PYTHONPATH": str(project / "src"), **env})


def test_github_ci_verifies_after_a_deployment_and_skips_without_a_url(project: Path, servers: dict[str, str]) -> None:
    script = ci_verify_script(project, "github")

    skipped = run_ci_script(project, script, {"APP_ENV": "production"})
    passed = run_ci_script(project, script, {"APP_ENV": "production", "CORS_VERIFY_URL": servers["production"]})
    failed_run = run_ci_script(project, script, {"APP_ENV": "production", "CORS_VERIFY_URL": servers["staging"]})

    assert (skipped.returncode, skipped.stdout) == (
        0,
        "::notice::CORS_VERIFY_URL is not set for the production environment: cors verify skipped\n",
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert failed_run.returncode == 1
    assert (
        "FAIL preflight https://cors-verify.example.com (example of https://*.example.com) allow-origin"
        in failed_run.stdout
    )


def test_gitlab_ci_job_validates_and_skips_without_a_url(generated: GenerateOnce) -> None:
    project = generated("custom-protocol-options", VARIANTS["custom-protocol-options"])

    schema = run_tool(project, "check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", ".gitlab/cors-verify.yml")
    skipped = run_ci_script(project, ci_verify_script(project, "gitlab"), {"CORS_VERIFY_ENV": "production"})

    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert (skipped.returncode, skipped.stdout) == (0, "CORS_VERIFY_URL is not set: cors verify skipped\n")
    assert yaml.safe_load((project / ".gitlab-ci.yml").read_text())["include"] == [{"local": ".gitlab/cors-verify.yml"}]


def readme_sessions(project: Path, command: str) -> list[tuple[str, str]]:
    """The README's ``$ python -m <package> cors <command> ...`` lines, each with the output shown under it."""
    readme = (project / "README.md").read_text(encoding="utf-8")
    pattern = rf"^\$ python -m {package_of(project)} (cors {command} [^\n]*)\n(.*?)(?=^\$ |^```)"
    return re.findall(pattern, readme, flags=re.MULTILINE | re.DOTALL)


def test_the_readme_sessions_are_what_the_commands_print(generated: GenerateOnce, tmp_path: Path) -> None:
    """The README's troubleshooting sessions, run again in a service generated with the default answers."""
    project = generated("defaults", VARIANTS["defaults"])
    explained = readme_sessions(project, "explain")
    [(verify_command, verify_shown)] = readme_sessions(project, "verify")
    source = {"PYTHONPATH": str(project / "src")}

    for command, shown in explained:
        result = run_in(project, package_of(project), *shlex.split(command), env=source)
        assert result.stdout == shown, command
    env = {**service_environment(), "APP_ENV": "staging"}
    with generated_service(project, env, tmp_path / "staging.log") as url:
        arguments = shlex.split(verify_command.replace("http://127.0.0.1:8000", url))
        verified = run_in(project, package_of(project), *arguments, env=source)

    assert len(explained) >= 2
    printed = verified.stdout.replace(url, "http://127.0.0.1:8000").splitlines()
    shown_lines = [line for line in verify_shown.splitlines() if line != "..."]
    assert verified.returncode == 1
    assert len(shown_lines) >= 5
    assert [line for line in printed if line in shown_lines] == shown_lines
