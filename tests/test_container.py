"""The generated Dockerfile: lint-clean, shaped for production, and running the documented command.

No Docker engine runs here, so the image is never built. Instead hadolint checks
the file, and the command and health check the image would run are run as they
are, against the generated service, with the environment the image sets.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .support.commands import run_tool, service_environment
from .support.dockerfile import read_stages
from .support.servers import free_port
from .support.template import GenerateOnce
from .support.variants import VARIANTS


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form CMD (or of a HEALTHCHECK's CMD)."""
    command = json.loads(arguments[arguments.index("[") :])
    assert isinstance(command, list)
    return command


def documented_commands(readme: Path) -> list[list[str]]:
    """Every command of the README's console blocks, split as a shell would.

    In a block with ``$`` prompts only the prompted lines are commands; the rest is output.
    """
    commands = []
    for block in re.findall(r"```console\n(.*?)```", readme.read_text(encoding="utf-8"), flags=re.DOTALL):
        lines = [line.split(" #")[0].strip() for line in re.sub(r"\\\n\s*", " ", block).splitlines()]
        if any(line.startswith("$ ") for line in lines):
            lines = [line.removeprefix("$ ") for line in lines if line.startswith("$ ")]
        commands += [shlex.split(line) for line in lines if line]
    return commands


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def project(request: pytest.FixtureRequest, generated: GenerateOnce) -> Path:
    return generated(request.param, VARIANTS[request.param])


def test_dockerfile_passes_hadolint(project: Path) -> None:
    result = run_tool(project, "hadolint", "--no-color", "Dockerfile")

    assert result.returncode == 0, result.stdout + result.stderr


def test_image_is_multi_stage_slim_and_unprivileged(project: Path) -> None:
    *builders, runtime = read_stages(project / "Dockerfile")

    assert builders, "the build stage is separate from the runtime stage"
    assert runtime.base.endswith("-slim")
    copies = [arguments for keyword, arguments in runtime.instructions if keyword == "COPY"]
    assert copies and all(c.startswith("--from=") for c in copies), "the runtime stage takes built files only"
    installs = [shlex.split(arguments) for keyword, arguments in builders[-1].instructions if "uv sync" in arguments]
    assert installs, "the build stage installs with uv"
    for install in installs:
        assert {"--locked", "--no-dev", "--no-editable"} <= set(install), "exactly uv.lock's pins, not editable"
        assert not {"dev", "e2e", "--all-extras"} & set(install), "no [dev] or [e2e] tools"
    user = runtime.last("USER").split(":")[0]
    assert user not in ("root", "0")


def test_dockerfile_runs_the_command_the_readme_documents(project: Path) -> None:
    command = exec_form(read_stages(project / "Dockerfile")[-1].last("CMD"))

    assert command in documented_commands(project / "README.md")


def test_dockerignore_keeps_secrets_and_environments_out(project: Path) -> None:
    patterns = [line.strip() for line in (project / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]

    assert patterns[0] == "*", "everything is excluded unless listed"
    included = {p.removeprefix("!").rstrip("/") for p in patterns if p.startswith("!")}
    copied = {
        source.rstrip("/").removesuffix("*")  # uv.lock*: copied when present, so a missing lock gets a clear error
        for stage in read_stages(project / "Dockerfile")
        for keyword, arguments in stage.instructions
        if keyword == "COPY" and not arguments.startswith("--from=")
        for source in shlex.split(arguments)[:-1]
    }
    assert copied == included
    assert not included & {".env", ".git", ".venv", "tests"}


def test_image_command_serves_health_with_its_workers(project: Path) -> None:
    """Run the image's CMD and HEALTHCHECK with the image's environment, on a loopback port."""
    runtime = read_stages(project / "Dockerfile")[-1]
    image_environment = runtime.environment()
    image_environment.pop("PATH")
    port = free_port()
    environment = service_environment() | image_environment
    environment |= {"UVICORN_HOST": "127.0.0.1", "UVICORN_PORT": str(port), "PYTHONPATH": "src"}
    program, *arguments = exec_form(runtime.last("CMD"))
    health_program, *health_arguments = exec_form(runtime.last("HEALTHCHECK"))
    assert (program, health_program) == ("uvicorn", "python")

    def health_check() -> int:
        check = [sys.executable, *health_arguments]
        return subprocess.run(check, env=environment, capture_output=True, timeout=10, check=False).returncode

    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *arguments],
        cwd=project,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while health_check() != 0:
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "the health check never passed"
            time.sleep(0.3)
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0]

    workers = int(image_environment["WEB_CONCURRENCY"])
    assert workers > 1
    assert len(re.findall(r"Started server process", log)) == workers, log
    assert health_check() != 0, "the health check fails once the service is gone"
