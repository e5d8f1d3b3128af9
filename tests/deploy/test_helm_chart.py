"""The Helm chart (issue 14), rendered by Helm itself (Helm's Go SDK, bundled in the
helm-python-sdk wheel: the same template engine and `lint` as the `helm` CLI) and validated
against the Kubernetes API schemas (kubernetes-validate, strict: no unknown fields). Every pod
spec must pass the `restricted` Pod Security Standard; the migration is a pre-install /
pre-upgrade hook; the worker's probes ask its heartbeat, on its declared metrics port.

The ServiceMonitor is a Prometheus Operator CRD: its schema is not Kubernetes', so only its shape
is checked here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "stopship"
EXAMPLE = CHART / "values.example.yaml"
KUBERNETES = "1.30.0"  # the oldest version the chart's kubeVersion range is validated against
SECRET = {"secrets": {"existingSecret": "stopship"}}

ALL_ON = {
    **SECRET,
    "web": {"autoscaling": {"enabled": True}},
    "worker": {"autoscaling": {"enabled": True}},
    "serviceMonitor": {"enabled": True},
}
ALL_OFF = {
    **SECRET,
    "serviceAccount": {"create": False},
    "migration": {"enabled": False},
    "networkPolicy": {"enabled": False},
    "web": {"pdb": {"enabled": False}},
    "worker": {"pdb": {"enabled": False}},
}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    chart = helm_python.Chart.load(CHART)
    rendered = chart.render(values, name="stopship", namespace="stopship", is_install=True)
    documents = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        documents += [doc for doc in yaml.safe_load_all(text) if doc]
    return documents


def example_values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return loaded


VALUE_SETS = {
    "defaults": SECRET,
    "example": example_values(),
    "all-optional-on": ALL_ON,
    "all-optional-off": ALL_OFF,
}


@pytest.fixture(params=sorted(VALUE_SETS))
def manifests(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(VALUE_SETS[request.param])


def by_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in documents if d["kind"] == kind]


def pod_specs(documents: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"])
        for d in documents
        if d["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}
    ]


def workload(documents: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [found] = [d for d in by_kind(documents, "Deployment") if d["metadata"]["name"] == name]
    return found


@pytest.mark.parametrize("values", ["defaults", "example"])
def test_helm_lint_is_clean(values: str) -> None:
    report = helm_python.lint(CHART, VALUE_SETS[values], strict=True, kube_version=f"v{KUBERNETES}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # warnings and errors
    assert problems == [] and report["errors"] == [], report


def test_every_resource_is_valid_against_the_kubernetes_schemas(
    manifests: list[dict[str, Any]],
) -> None:
    for document in manifests:
        if document["apiVersion"].startswith("monitoring.coreos.com/"):
            continue
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_every_pod_passes_the_restricted_pod_security_standard(
    manifests: list[dict[str, Any]],
) -> None:
    pods = pod_specs(manifests)
    assert pods
    for name, pod in pods:
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] != 0, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
        writable = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for volume in pod["volumes"]:  # restricted: only these volume types
            assert {"emptyDir", "secret", "configMap", "projected"} & set(volume), (name, volume)
        for container in pod["containers"] + pod.get("initContainers", []):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security.get("privileged", False) is False, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["runAsNonRoot"] is True, name
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert [m["name"] for m in tmp] and tmp[0]["name"] in writable, name
            assert container["resources"]["limits"], name


def test_the_migration_is_a_pre_install_and_pre_upgrade_hook() -> None:
    documents = render(SECRET)
    [job] = by_kind(documents, "Job")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # the App's credentials are not the migration's business
    env = {e["name"] for e in container["env"]}
    assert env == {"STOPSHIP_QUEUE", "STOPSHIP_DATABASE_URL"}


def test_the_worker_probes_its_heartbeat_on_its_declared_metrics_port() -> None:
    worker = workload(render(SECRET), "stopship-worker")
    [container] = worker["spec"]["template"]["spec"]["containers"]
    assert container["ports"] == [{"name": "metrics", "containerPort": 9101, "protocol": "TCP"}]
    args = container["args"]
    assert args[args.index("--metrics-port") + 1] == "9101"
    assert args[args.index("--metrics-host") + 1] == "0.0.0.0"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}, probe
    assert "exec" not in str(container)  # not `stopship version`


def test_secrets_are_references_and_the_private_key_is_a_file() -> None:
    documents = render(SECRET)
    assert by_kind(documents, "Secret") == []  # created outside the chart
    for name in ("stopship-web", "stopship-worker"):
        pod = workload(documents, name)["spec"]["template"]["spec"]
        [container] = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert "STOPSHIP_GITHUB_PRIVATE_KEY" not in env
        key_file = env["STOPSHIP_GITHUB_PRIVATE_KEY_FILE"]["value"]
        for secret in ("STOPSHIP_DATABASE_URL", "STOPSHIP_GITHUB_APP_ID"):
            assert env[secret]["valueFrom"]["secretKeyRef"]["name"] == "stopship"
        [mount] = [m for m in container["volumeMounts"] if key_file.startswith(m["mountPath"])]
        assert mount["readOnly"] is True
        [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"] == "stopship"
        assert volume["secret"]["items"] == [{"key": "private-key", "path": "private-key.pem"}]
        assert key_file.endswith("/private-key.pem")
    [web] = workload(documents, "stopship-web")["spec"]["template"]["spec"]["containers"]
    assert "STOPSHIP_GITHUB_WEBHOOK_SECRET" in {e["name"] for e in web["env"]}


def test_the_secret_name_is_required() -> None:
    with pytest.raises(helm_python.HelmError, match=r"secrets\.existingSecret"):
        render({})


def test_the_service_account_mounts_no_token() -> None:
    [account] = by_kind(render(SECRET), "ServiceAccount")
    assert account["automountServiceAccountToken"] is False


def test_optional_resources_follow_their_switches() -> None:
    on, off = render(ALL_ON), render(ALL_OFF)
    assert {
        h["spec"]["scaleTargetRef"]["name"] for h in by_kind(on, "HorizontalPodAutoscaler")
    } == {
        "stopship-web",
        "stopship-worker",
    }
    # with an autoscaler the Deployment leaves the replica count to it
    assert "replicas" not in workload(on, "stopship-web")["spec"]
    [monitor] = by_kind(on, "ServiceMonitor")
    assert {e["port"] for e in monitor["spec"]["endpoints"]} == {"http", "metrics"}
    kinds = {d["kind"] for d in off}
    assert kinds == {"Deployment", "Service"}, kinds
    assert workload(off, "stopship-web")["spec"]["replicas"] == 2
    defaults = {d["kind"] for d in render(SECRET)}
    assert {"PodDisruptionBudget", "NetworkPolicy", "Job", "ServiceAccount"} <= defaults
    assert not {"HorizontalPodAutoscaler", "ServiceMonitor"} & defaults


def test_the_network_policy_admits_only_the_listening_ports_and_needed_egress() -> None:
    [policy] = by_kind(render(SECRET), "NetworkPolicy")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    ingress_ports = {p["port"] for rule in spec["ingress"] for p in rule["ports"]}
    assert ingress_ports == {8000, 9101}
    egress_ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
    assert egress_ports == {53, 5432, 443}
