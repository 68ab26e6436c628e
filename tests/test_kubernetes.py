"""The kustomize overlays render with a recent kubectl, validate, and carry each environment's answers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from .support.commands import run_tool, service_environment
from .support.dockerfile import read_stages
from .support.template import GenerateOnce, generate, service_module
from .support.variants import ENVIRONMENT_ANSWERS, VARIANTS, answers_for, variants_where

DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
DIGEST = "sha256:" + "0123456789abcdef" * 4


def render(project: Path, environment: str) -> list[dict[str, Any]]:
    result = run_tool(project, "kubectl", "kustomize", f"deploy/kubernetes/overlays/{environment}")
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(result.stdout))


def one(resources: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [resource] = [r for r in resources if r["kind"] == kind]
    return resource


def expected_origins(answers: Mapping[str, Any], environment: str) -> list[str]:
    """The environment's answered origins, normalised by the service's own rules."""
    variable = ENVIRONMENT_ANSWERS[environment]
    return [origin.text for origin in service_module("origin_grammar").normalise_origins(answers[variable], variable)]


@pytest.fixture(scope="module", params=variants_where(deploy="kubernetes"))
def project_and_name(request: pytest.FixtureRequest, generated: GenerateOnce) -> tuple[Path, str]:
    return generated(request.param, VARIANTS[request.param]), request.param


def test_kubectl_bundles_kustomize_v4_or_later() -> None:
    result = run_tool(Path.cwd(), "kubectl", "version", "--client", "--output=json")

    version = json.loads(result.stdout)["kustomizeVersion"]
    assert int(re.fullmatch(r"v(\d+)\.\d+\.\d+", version)[1]) >= 4, version  # type: ignore[index]


@pytest.mark.parametrize("environment", sorted(ENVIRONMENT_ANSWERS))
def test_overlay_renders_and_validates_strictly(
    project_and_name: tuple[Path, str], environment: str, tmp_path: Path
) -> None:
    project, _ = project_and_name
    manifests = tmp_path / f"{environment}.yaml"
    manifests.write_text(yaml.safe_dump_all(render(project, environment)))

    result = run_tool(tmp_path, "kubernetes-validate", "--strict", manifests.name)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == 4, result.stdout


@pytest.mark.parametrize("environment", sorted(ENVIRONMENT_ANSWERS))
def test_overlay_config_carries_the_environments_answers(project_and_name: tuple[Path, str], environment: str) -> None:
    project, name = project_and_name
    config = one(render(project, environment), "ConfigMap")["data"]

    assert config["APP_ENV"] == environment
    assert config["CORS_ALLOW_ORIGINS"] == ",".join(expected_origins(answers_for(VARIANTS[name]), environment))


@pytest.mark.parametrize("environment", sorted(ENVIRONMENT_ANSWERS))
def test_service_accepts_the_rendered_config(project_and_name: tuple[Path, str], environment: str) -> None:
    """The ConfigMap's values, given to the service as its environment, become its CORS policy."""
    project, name = project_and_name
    config = one(render(project, environment), "ConfigMap")["data"]
    package = next((project / "src").iterdir()).name
    read_policy = (
        f"import json; from {package}.settings import load_settings; p = load_settings().cors_policy; "
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


def test_deployment_probes_health_on_the_port_the_image_serves(project_and_name: tuple[Path, str]) -> None:
    project, _ = project_and_name
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
def test_registry_replicas_share_the_database_from_a_secret(name: str, generated: GenerateOnce) -> None:
    project = generated(name, VARIANTS[name])
    [container] = one(render(project, "production"), "Deployment")["spec"]["template"]["spec"]["containers"]

    from_secrets = {item["name"]: item["valueFrom"]["secretKeyRef"] for item in container["env"]}
    assert set(from_secrets) == {"DATABASE_URL", "ADMIN_TOKEN"}
    assert "optional" not in from_secrets["DATABASE_URL"], "a replica must not fall back to its own SQLite file"
    installs = [args for keyword, args in read_stages(project / "Dockerfile")[0].instructions if "uv sync" in args]
    assert installs and all("--extra postgresql" in install for install in installs)


@pytest.mark.parametrize("environment", sorted(ENVIRONMENT_ANSWERS))
def test_overlay_deploys_to_a_namespace_named_after_the_service_and_environment(
    project_and_name: tuple[Path, str], environment: str
) -> None:
    project, _ = project_and_name

    namespaces = {resource["metadata"].get("namespace") for resource in render(project, environment)}

    assert namespaces == {f"{project.name}-{environment}"}, "the project directory is named by the slug"


def test_long_service_names_give_distinct_namespaces_that_kubernetes_accepts(tmp_path: Path) -> None:
    slug = "a-very-long-service-name-that-fills-every-character-of-a-label1"
    assert len(slug) == 63
    project = generate(tmp_path, {"project_name": slug})
    rendered = {environment: render(project, environment) for environment in ENVIRONMENT_ANSWERS}
    (tmp_path / "production.yaml").write_text(yaml.safe_dump_all(rendered["production"]))

    namespaces = {env: {r["metadata"]["namespace"] for r in resources} for env, resources in rendered.items()}

    assert run_tool(tmp_path, "kubernetes-validate", "--strict", "production.yaml").returncode == 0
    assert all(len(names) == 1 for names in namespaces.values())
    labels = [name for names in namespaces.values() for name in names]
    assert len(set(labels)) == len(ENVIRONMENT_ANSWERS)
    for label in labels:
        assert DNS_LABEL.fullmatch(label) and label.startswith(slug[:40]), label


def test_pods_get_no_service_account_token_and_a_cpu_limit_per_worker(project_and_name: tuple[Path, str]) -> None:
    project, _ = project_and_name
    resources = render(project, "production")
    pod = one(resources, "Deployment")["spec"]["template"]["spec"]
    [container] = pod["containers"]

    assert pod["automountServiceAccountToken"] is False
    workers = int(one(resources, "ConfigMap")["data"]["WEB_CONCURRENCY"])
    assert str(container["resources"]["limits"]["cpu"]) == str(workers)
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(container["resources"]["limits"])


def test_network_policy_admits_only_the_ingress_controller_to_the_service_port(
    project_and_name: tuple[Path, str],
) -> None:
    project, _ = project_and_name
    resources = render(project, "production")
    pod = one(resources, "Deployment")["spec"]["template"]
    policy = one(resources, "NetworkPolicy")["spec"]

    selected = policy["podSelector"]["matchLabels"]
    assert selected.items() <= pod["metadata"]["labels"].items()
    assert policy["policyTypes"] == ["Ingress"]
    [rule] = policy["ingress"]
    assert [port["port"] for port in rule["ports"]] == [p["name"] for p in pod["spec"]["containers"][0]["ports"]]
    [source] = rule["from"]
    assert set(source) == {"namespaceSelector", "podSelector"}, "both the namespace and its pods are named"


def test_overlay_pins_the_image_by_digest_as_the_readme_shows(
    project_and_name: tuple[Path, str], tmp_path: Path
) -> None:
    project, _ = project_and_name
    readme = (project / "deploy/kubernetes/README.md").read_text(encoding="utf-8")
    [pin] = [block for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL) if "digest:" in block]
    shutil.copytree(project / "deploy", tmp_path / "deploy")
    overlay = tmp_path / "deploy/kubernetes/overlays/production/kustomization.yaml"
    overlay.write_text(overlay.read_text() + pin.replace("sha256:<digest>", DIGEST))

    [container] = one(render(tmp_path, "production"), "Deployment")["spec"]["template"]["spec"]["containers"]

    assert container["image"] == f"registry.example.com/{project.name}@{DIGEST}"
    assert container["imagePullPolicy"] == "Always"
