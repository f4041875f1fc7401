"""deploy/k8s: every overlay renders with kubectl kustomize, validates offline against the Kubernetes schemas,
and keeps the invariants of the deployment (gRPC probes, limits, PDBs, anti-affinity, NetworkPolicies, secrets
by reference only, a topology that load_settings accepts and that names the rendered Services)."""
from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import re
import subprocess

import kubernetes_validate
import pytest
import yaml

from shared.auth import keys
from shared.auth.tokens import Signer, Verifier
from shared.pg.login import PG_SERVICES, role_of
from shared.settings import SERVICES
from tests.unit.k8s_render import (
    K8S,
    TARGETS,
    WORKLOADS,
    env_of,
    named,
    of_kind,
    pod_labels,
    pod_spec,
    render,
    selects,
    service_selects,
    tool_env,
)

# The oldest Kubernetes we support (gRPC probes are GA since 1.27) and the newest schema shipped.
SCHEMA_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
PROCESSES = (*SERVICES, "gateway")
CREDENTIAL = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)


@pytest.fixture(scope="module", params=TARGETS)
def objects(request) -> list[dict]:
    return render(K8S / request.param)


def _containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def _topology(objects: list[dict]) -> dict:
    maps = [o for o in of_kind(objects, "ConfigMap") if o["metadata"]["name"].startswith("elearn-topology")]
    assert len(maps) == 1, "expected one elearn-topology ConfigMap"
    return json.loads(maps[0]["data"]["topology.json"])


def _health_name(service: str) -> str:
    module = importlib.import_module(f"elearning.{service}.v1.{service}_service_pb2")
    (full_name,) = [s.full_name for s in module.DESCRIPTOR.services_by_name.values()]
    return full_name


@pytest.mark.slow
@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_every_object_validates_against_the_kubernetes_schemas_offline(objects, version):
    failures = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not failures, "\n".join(failures)


def test_every_deployment_probes_grpc_health_and_drains_before_it_is_killed(objects):
    deployments = of_kind(objects, "Deployment")
    assert sorted(d["metadata"]["name"] for d in deployments) == sorted(PROCESSES)
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        (app,) = pod_spec(deployment)["containers"]
        port = next(p["containerPort"] for p in app["ports"] if p["name"] == "grpc")
        env = env_of(app)
        assert env["ELEARN_LISTEN"]["value"] == f"0.0.0.0:{port}", name
        metrics = next(p["containerPort"] for p in app["ports"] if p["name"] == "metrics")
        assert env["ELEARN_METRICS_LISTEN"]["value"] == f"0.0.0.0:{metrics}", name  # the port Prometheus scrapes
        expected = "" if name == "gateway" else _health_name(name)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert app[probe]["grpc"]["port"] == port, f"{name} {probe}"
        assert app["readinessProbe"]["grpc"].get("service", "") == expected, name
        assert app["livenessProbe"]["grpc"].get("service", "") == "", name
        module = "gateway.main" if name == "gateway" else f"services.{name}.main"
        assert app["command"] == ["python", "-m", module] and importlib.util.find_spec(module), name
        drain, grace = float(env["ELEARN_DRAIN_S"]["value"]), float(env["ELEARN_GRACE_S"]["value"])
        # Readiness must notice NOT_SERVING well inside the drain, and SIGKILL must come after drain + grace.
        readiness = app["readinessProbe"]
        assert readiness["periodSeconds"] * readiness.get("failureThreshold", 3) < drain, name
        assert pod_spec(deployment)["terminationGracePeriodSeconds"] > drain + grace, name


def test_every_container_has_requests_and_limits(objects):
    for workload in of_kind(objects, *WORKLOADS):
        names = [c["name"] for c in _containers(workload)]
        assert len(set(names)) == len(names), workload["metadata"]["name"]
        for container in _containers(workload):
            env = [e["name"] for e in container.get("env", [])]
            assert len(set(env)) == len(env), f"{workload['metadata']['name']}/{container['name']}: env twice"
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind, {})), \
                    f"{workload['metadata']['name']}/{container['name']}: no {kind}"


def test_every_deployment_has_an_autoscaler_a_budget_and_a_headless_service(objects):
    hpas = of_kind(objects, "HorizontalPodAutoscaler")
    pdbs = of_kind(objects, "PodDisruptionBudget")
    for deployment in of_kind(objects, "Deployment"):
        name, labels = deployment["metadata"]["name"], pod_labels(deployment)
        (hpa,) = [h for h in hpas if h["spec"]["scaleTargetRef"]["name"] == name]
        assert "replicas" not in deployment["spec"], f"{name}: an applied replica count fights the autoscaler"
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        (pdb,) = [p for p in pdbs if selects(p["spec"]["selector"], labels)]
        assert pdb["spec"].get("minAvailable", 0) < hpa["spec"]["minReplicas"] or "maxUnavailable" in pdb["spec"], \
            f"{name}: the PDB would block every drain at the autoscaler's minimum"
        service = named(objects, "Service", name)
        assert service["spec"]["clusterIP"] == "None" and service_selects(service, labels), name


def test_every_statefulset_has_a_budget_and_anti_affinity_on_its_own_pods(objects):
    pdbs = of_kind(objects, "PodDisruptionBudget")
    for sts in of_kind(objects, "StatefulSet"):
        name, labels = sts["metadata"]["name"], pod_labels(sts)
        (pdb,) = [p for p in pdbs if selects(p["spec"]["selector"], labels)]
        assert pdb["spec"].get("maxUnavailable") == 1 or pdb["spec"].get("minAvailable", 0) >= 1, name
        anti = pod_spec(sts)["affinity"]["podAntiAffinity"]
        terms = anti.get("requiredDuringSchedulingIgnoredDuringExecution", []) + [
            t["podAffinityTerm"] for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution", [])]
        by_host = [t for t in terms if t["topologyKey"] == "kubernetes.io/hostname"]
        assert by_host and all(selects(t["labelSelector"], labels) for t in by_host), name
        # Only this StatefulSet's pods: another shard's nodes must not count against it.
        others = [pod_labels(o) for o in of_kind(objects, "StatefulSet") if o is not sts]
        assert not any(selects(t["labelSelector"], other) for t in by_host for other in others), name
        assert sts["spec"]["volumeClaimTemplates"], f"{name}: no PersistentVolumeClaim"


def test_production_keeps_shard_nodes_on_separate_machines():
    for sts in of_kind(render(K8S / "overlays" / "production"), "StatefulSet"):
        required = pod_spec(sts)["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert any(t["topologyKey"] == "kubernetes.io/hostname" for t in required), sts["metadata"]["name"]


def test_no_secret_value_is_written_in_the_manifests(objects):
    assert not of_kind(objects, "Secret"), "Secrets come from the secret store or dev-secrets.sh"
    for workload in of_kind(objects, *WORKLOADS):
        for container in _containers(workload):
            for name, entry in env_of(container).items():
                if CREDENTIAL.search(name) and not name.endswith(("_FILE", "_DIR")):  # those name mounted files
                    assert "secretKeyRef" in entry.get("valueFrom", {}), \
                        f"{workload['metadata']['name']}/{container['name']}: {name} is not from a Secret"
    for path in K8S.rglob("kustomization.yaml"):
        for generator in yaml.safe_load(path.read_text()).get("secretGenerator", []):
            assert not generator.get("literals"), f"{path}: literal secret values"


@pytest.fixture(scope="module")
def dev_secrets() -> list[dict]:
    out = subprocess.run(["bash", str(K8S / "dev-secrets.sh"), "elearn"], capture_output=True, text=True,
                         timeout=120, env=tool_env())
    assert out.returncode == 0, out.stderr
    return [s for s in yaml.safe_load_all(out.stdout) if s]


@pytest.mark.slow
def test_dev_secrets_script_provides_every_referenced_secret_key(objects, dev_secrets):
    secrets = dev_secrets
    for secret in secrets:
        kubernetes_validate.validate(secret, SCHEMA_VERSIONS[-1], strict=True)
    provided = {(s["metadata"]["name"], key) for s in secrets for key in s["data"]}
    referenced = set()
    for workload in of_kind(objects, *WORKLOADS):
        for container in _containers(workload):
            for entry in env_of(container).values():
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    referenced.add((ref["name"], ref["key"]))
        for volume in pod_spec(workload).get("volumes", []):
            if "secret" in volume:
                keys = [i["key"] for i in volume["secret"].get("items", [])] or ["tls.crt", "tls.key", "ca.crt"]
                referenced |= {(volume["secret"]["secretName"], key) for key in keys}
            for source in volume.get("projected", {}).get("sources", []):
                if "secret" in source:
                    referenced |= {(source["secret"]["name"], i["key"]) for i in source["secret"]["items"]}
    assert referenced and referenced <= provided, f"not provided: {sorted(referenced - provided)}"


def test_each_shard_is_a_patroni_cluster_on_the_kubernetes_dcs(objects):
    bootstrap = yaml.safe_load(named(objects, "ConfigMap", "patroni-bootstrap")["data"]["patroni.yml"])
    dcs = bootstrap["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True and dcs["synchronous_mode_strict"] is False
    assert dcs["maximum_lag_on_failover"] > 0 and dcs["postgresql"]["use_pg_rewind"] is True
    assert dcs["postgresql"]["parameters"]["max_prepared_transactions"] > 0  # the services' two-phase commit
    topology = _topology(objects)
    patroni = [s for s in of_kind(objects, "StatefulSet") if pod_labels(s).get("app.kubernetes.io/name") == "patroni"]
    assert sorted(pod_labels(s)["cluster-name"] for s in patroni) == sorted(f"pg-{s['name']}"
                                                                              for s in topology["shards"])
    for sts in patroni:
        labels, spec = pod_labels(sts), pod_spec(sts)
        assert sts["spec"]["replicas"] >= 2
        env = env_of(spec["containers"][0])
        assert env["PATRONI_SCOPE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.labels['cluster-name']"
        assert env["PATRONI_KUBERNETES_SCOPE_LABEL"]["value"] == "cluster-name"
        assert selects({"matchLabels": yaml.safe_load(env["PATRONI_KUBERNETES_LABELS"]["value"])}, labels)
        for role in ("primary", "replica"):
            service = named(objects, "Service", f"{labels['cluster-name']}-{role}")
            assert service_selects(service, {**labels, "role": role})
            assert not service_selects(service, {**labels, "role": "primary" if role == "replica" else "replica"})
        account = spec["serviceAccountName"]
        (binding,) = [b for b in of_kind(objects, "RoleBinding")
                      if {"kind": "ServiceAccount", "name": account} in
                      [{"kind": s["kind"], "name": s["name"]} for s in b["subjects"]]]
        role = named(objects, "Role", binding["roleRef"]["name"])
        granted = {(r, v) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}
        for resource in ("configmaps", "endpoints", "pods"):
            assert {(resource, v) for v in ("get", "list", "watch", "patch", "update")} <= granted, resource


def test_migrations_run_in_a_job_and_services_wait_for_them(objects):
    job = named(objects, "Job", "elearn-migrate")
    assert pod_spec(job)["containers"][0]["command"][:4] == ["python", "-m", "launcher.migrate_cli", "apply"]
    for deployment in of_kind(objects, "Deployment"):
        if deployment["metadata"]["name"] == "gateway":
            continue
        commands = [c["command"] for c in pod_spec(deployment).get("initContainers", [])]
        assert ["python", "-m", "launcher.migrate_cli", "wait"] in [c[:4] for c in commands]


def test_prometheus_scrapes_every_workload_on_a_declared_port(objects):
    for workload in of_kind(objects, "Deployment", "StatefulSet"):
        annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
        if pod_labels(workload).get("app.kubernetes.io/name") == "mongo":
            continue  # mongod has no Prometheus endpoint of its own (README: an exporter is left to the operator)
        assert annotations.get("prometheus.io/scrape") == "true", workload["metadata"]["name"]
        ports = {p["containerPort"] for c in pod_spec(workload)["containers"] for p in c.get("ports", [])}
        assert int(annotations["prometheus.io/port"]) in ports, workload["metadata"]["name"]


@pytest.mark.slow
def test_each_app_pod_mounts_the_jwks_and_only_its_own_signing_keys(objects, dev_secrets, tmp_path):
    """The keys dev-secrets.sh makes with openssl, laid out as each pod's volume mounts them, sign and verify."""
    jwt = {key: base64.b64decode(value) for s in dev_secrets if s["metadata"]["name"] == "elearn-jwt"
           for key, value in s["data"].items()}
    for name in [*SERVICES, "gateway"]:
        workload = named(objects, "Deployment", name)
        container = next(c for c in pod_spec(workload)["containers"] if c["name"] == "app")
        mount = next(m for m in container["volumeMounts"] if m["name"] == "auth")
        assert env_of(container)["ELEARN_AUTH_DIR"]["value"] == mount["mountPath"]
        volume = next(v for v in pod_spec(workload)["volumes"] if v["name"] == "auth")
        folder = tmp_path / name
        for item in volume["secret"]["items"]:
            (folder / item["path"]).parent.mkdir(parents=True, exist_ok=True)
            (folder / item["path"]).write_bytes(jwt[item["key"]])
        own = {keys.service_signer(name), *([keys.PEOPLE] if name == "users" else [])}
        assert {p.name for p in (folder / "signers").iterdir()} == own
        verifier = Verifier(folder)
        for signer in own:
            subject, role = ("7", "STUDENT") if signer == keys.PEOPLE else (f"service:{name}", "SERVICE")
            assert verifier.verify(Signer(folder, signer).mint(subject, role).token).identity in (
                "student", f"service:{name}")


def test_each_service_logs_in_to_postgresql_as_its_own_role_with_only_its_own_secret(objects):
    for name in [*SERVICES, "gateway"]:
        workload = named(objects, "Deployment", name)
        container = next(c for c in pod_spec(workload)["containers"] if c["name"] == "app")
        env = env_of(container)
        assert "PGPASSWORD" not in env and "PGUSER" not in env, name  # the owner's login stays out of the app
        pg_secrets = [v["secret"]["secretName"] for v in pod_spec(workload)["volumes"]
                      if v.get("secret", {}).get("secretName", "").startswith("elearn-pg-")]
        if name not in PG_SERVICES:
            assert pg_secrets == [] and "ELEARN_PG_USER" not in env, name
            continue
        assert pg_secrets == [f"elearn-pg-{name}"], name
        assert env["ELEARN_PG_USER"]["value"] == role_of(name)
        mount = next(m for m in container["volumeMounts"] if m["name"] == "pg")
        assert env["ELEARN_PG_PASSWORD_FILE"]["value"] == f"{mount['mountPath']}/password"
    job = named(objects, "Job", "elearn-migrate")
    (volume,) = [v for v in pod_spec(job)["volumes"] if v["name"] == "pg-passwords"]
    paths = sorted(i["path"] for s in volume["projected"]["sources"] for i in s["secret"]["items"])
    assert paths == sorted(f"pg-{s}" for s in PG_SERVICES)
