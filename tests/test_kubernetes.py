"""The kustomize overlays render with a recent kubectl, validate, and carry each environment's answers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import answers_for, cors_policy_module, run_tool, service_environment
from .test_container import read_stages
from .test_generation import VARIANTS, variants_where

ENVIRONMENTS = {"development": "dev_origins", "staging": "staging_origins", "production": "prod_origins"}


def render(project: Path, environment: str) -> list[dict[str, Any]]:
    result = run_tool(project, "kubectl", "kustomize", f"deploy/kubernetes/overlays/{environment}")
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(result.stdout))


def one(resources: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [resource] = [r for r in resources if r["kind"] == kind]
    return resource


def expected_origins(answers: Mapping[str, Any], environment: str) -> list[str]:
    """The environment's answered origins, normalised by the service's own rules."""
    variable = ENVIRONMENTS[environment]
    return [origin.text for origin in cors_policy_module().normalise_origins(answers[variable], variable)]


@pytest.fixture(scope="module", params=variants_where(deploy="kubernetes"))
def variant(request: pytest.FixtureRequest, generated: Callable[[str, Mapping[str, Any]], Path]) -> tuple[Path, str]:
    return generated(request.param, VARIANTS[request.param]), request.param


def test_kubectl_bundles_kustomize_v4_or_later() -> None:
    result = run_tool(Path.cwd(), "kubectl", "version", "--client", "--output=json")

    version = json.loads(result.stdout)["kustomizeVersion"]
    assert int(re.fullmatch(r"v(\d+)\.\d+\.\d+", version)[1]) >= 4, version  # type: ignore[index]


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_overlay_renders_and_validates_strictly(variant: tuple[Path, str], environment: str, tmp_path: Path) -> None:
    project, _ = variant
    manifests = tmp_path / f"{environment}.yaml"
    manifests.write_text(yaml.safe_dump_all(render(project, environment)))

    result = run_tool(tmp_path, "kubernetes-validate", "--strict", manifests.name)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == 3, result.stdout


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_overlay_config_carries_the_environments_answers(variant: tuple[Path, str], environment: str) -> None:
    project, name = variant
    config = one(render(project, environment), "ConfigMap")["data"]

    assert config["APP_ENV"] == environment
    assert config["CORS_ALLOW_ORIGINS"] == ",".join(expected_origins(answers_for(VARIANTS[name]), environment))


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_service_accepts_the_rendered_config(variant: tuple[Path, str], environment: str) -> None:
    """The ConfigMap's values, given to the service as its environment, become its CORS policy."""
    project, name = variant
    config = one(render(project, environment), "ConfigMap")["data"]
    package = next((project / "src").iterdir()).name
    read_policy = (
        f"import json; from {package}.settings import load_cors_policy; p = load_cors_policy(); "
        "print(json.dumps([p.environment, list(p.allow_origins)]))"
    )

    result = subprocess.run(
        [sys.executable, "-c", read_policy],
        cwd=project,
        env=service_environment() | config | {"PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [environment, expected_origins(answers_for(VARIANTS[name]), environment)]


def test_deployment_probes_health_on_the_port_the_image_serves(variant: tuple[Path, str]) -> None:
    project, _ = variant
    resources = render(project, "production")
    pod = one(resources, "Deployment")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    image = read_stages(project / "Dockerfile")[-1]

    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": int(image.environment()["UVICORN_PORT"])}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}
    config_name = one(resources, "ConfigMap")["metadata"]["name"]
    assert [source["configMapRef"]["name"] for source in container["envFrom"]] == [config_name]
    assert one(resources, "Service")["spec"]["ports"][0]["targetPort"] == "http"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == image.last("USER").split(":")[0]


@pytest.mark.parametrize("name", variants_where(deploy="kubernetes", origin_registry="database"))
def test_registry_replicas_share_the_database_from_a_secret(
    name: str, generated: Callable[[str, Mapping[str, Any]], Path]
) -> None:
    project = generated(name, VARIANTS[name])
    [container] = one(render(project, "production"), "Deployment")["spec"]["template"]["spec"]["containers"]

    from_secrets = {item["name"]: item["valueFrom"]["secretKeyRef"] for item in container["env"]}
    assert set(from_secrets) == {"DATABASE_URL", "ADMIN_TOKEN"}
    assert "optional" not in from_secrets["DATABASE_URL"], "a replica must not fall back to its own SQLite file"
    installs = [args for keyword, args in read_stages(project / "Dockerfile")[0].instructions if "pip install" in args]
    assert any("[postgresql]" in install for install in installs)
