"""deploy/k8s wiring: the NetworkPolicies let each component be reached only by whom it serves, and the
topology ConfigMap passes load_settings and names Services and pods that the manifests really define."""
from __future__ import annotations

import json
import pathlib
import re

import pytest

from shared.settings import SERVICES, load_settings
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
)

ANYWHERE = "anywhere"
MONITORING = "namespace:monitoring"
METRICS_PORTS = {9464, 8008}


@pytest.fixture(scope="module", params=TARGETS)
def objects(request) -> list[dict]:
    return render(K8S / request.param)


def _port_number(port, workload: dict) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for c in pod_spec(workload)["containers"] for p in c.get("ports", [])
                if p.get("name") == port)


def sources(objects: list[dict], target: dict, port: int) -> set[str]:
    """Who may open a connection to `target`'s pods on `port`: workload names, ANYWHERE, or a namespace."""
    labels = pod_labels(target)
    policies = [p for p in of_kind(objects, "NetworkPolicy") if selects(p["spec"]["podSelector"], labels)
                and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])]
    if not policies:
        return {ANYWHERE}  # a pod no policy selects is open to all
    allowed = set()
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            ports = [_port_number(p["port"], target) for p in rule.get("ports", [])]
            if ports and port not in ports:
                continue
            if "from" not in rule or not rule["from"]:
                allowed.add(ANYWHERE)
            for peer in rule.get("from", []):
                if "namespaceSelector" in peer:
                    name = peer["namespaceSelector"].get("matchLabels", {}).get("kubernetes.io/metadata.name", "*")
                    allowed.add(f"namespace:{name}")
                elif "ipBlock" in peer:
                    allowed.add(ANYWHERE)
                else:
                    allowed |= {w["metadata"]["name"] for w in of_kind(objects, *WORKLOADS)
                                if selects(peer["podSelector"], pod_labels(w))}
    return allowed


def _by_component(objects: list[dict], *components: str) -> set[str]:
    return {w["metadata"]["name"] for w in of_kind(objects, *WORKLOADS)
            if pod_labels(w).get("app.kubernetes.io/component") in components}


def test_every_workload_is_selected_by_a_network_policy_and_ingress_is_denied_by_default(objects):
    deny = [p for p in of_kind(objects, "NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert deny and all(not p["spec"].get("ingress") for p in deny)
    for workload in of_kind(objects, "Deployment", "StatefulSet"):
        named_policies = [p for p in of_kind(objects, "NetworkPolicy") if p["spec"]["podSelector"]
                          and selects(p["spec"]["podSelector"], pod_labels(workload))]
        assert named_policies, f"{workload['metadata']['name']}: no NetworkPolicy of its own"


def test_only_the_gateway_is_reachable_from_outside(objects):
    gateway = named(objects, "Deployment", "gateway")
    assert ANYWHERE in sources(objects, gateway, 50051)
    for workload in of_kind(objects, *WORKLOADS):
        for container in pod_spec(workload)["containers"]:
            for port in container.get("ports", []):
                if workload is gateway and port["containerPort"] == 50051:
                    continue
                reach = sources(objects, workload, port["containerPort"])
                assert ANYWHERE not in reach, f"{workload['metadata']['name']}:{port['containerPort']} is open"
                if MONITORING in reach:
                    assert port["containerPort"] in METRICS_PORTS, workload["metadata"]["name"]


def test_services_take_calls_only_from_the_gateway_and_each_other(objects):
    callers = _by_component(objects, "gateway", "service")
    for name in SERVICES:
        service = named(objects, "Deployment", name)
        port = _port_number("grpc", service)
        assert sources(objects, service, port) == callers, name


def test_databases_take_connections_only_from_the_services_and_their_peers(objects):
    clients = _by_component(objects, "service")
    for sts in of_kind(objects, "StatefulSet"):
        name = sts["metadata"]["name"]
        if pod_labels(sts)["app.kubernetes.io/name"] == "patroni":
            assert sources(objects, sts, 5432) == clients | _by_component(objects, "migrate") | {name}, name
            assert sources(objects, sts, 8008) == {name, MONITORING}, name
        else:
            assert sources(objects, sts, 27017) == clients | _by_component(objects, "mongo-init") | {name}, name


def _host(dsn: str) -> str:
    return dict(part.split("=", 1) for part in dsn.split())["host"]


def _topology(objects: list[dict]) -> dict:
    (config,) = [o for o in of_kind(objects, "ConfigMap") if o["metadata"]["name"].startswith("elearn-topology")]
    return json.loads(config["data"]["topology.json"])


def test_the_topology_config_map_passes_load_settings(objects):
    document = json.dumps(_topology(objects))
    for process in (*SERVICES, "gateway"):
        settings = load_settings(process, {"ELEARN_TOPOLOGY": document})
        assert [s.name for s in settings.shard_map.shards] == ["na", "eu", "apac"]


def test_the_topology_names_the_rendered_services_and_pods(objects):
    topology = _topology(objects)
    for shard in topology["shards"]:
        for key, role in (("primary_dsn", "primary"), ("replica_dsn", "replica")):
            assert not re.search(r"\b(user|password)=", shard[key]), "credentials come from PGUSER/PGPASSWORD"
            service = named(objects, "Service", _host(shard[key]))
            (sts,) = [s for s in of_kind(objects, "StatefulSet")
                      if service_selects(service, {**pod_labels(s), "role": role})]
            assert pod_labels(sts)["cluster-name"] == f"pg-{shard['name']}"
        members = re.match(r"mongodb://([^/@]+)/", shard["mongo_uri"]).group(1).split(",")
        mongo = named(objects, "StatefulSet", "mongo")
        assert members == [f"mongo-{i}.{mongo['spec']['serviceName']}:27017" for i in range(mongo["spec"]["replicas"])]
        init = env_of(pod_spec(named(objects, "Job", "mongo-init"))["containers"][0])
        assert shard["mongo_db"] in init["DATABASES"]["value"].split(",")
        assert init["MEMBERS"]["value"].split(",") == members
    for name, address in {**topology["services"], "gateway": topology["gateway"]}.items():
        host, port = re.fullmatch(r"dns:///([a-z-]+):(\d+)", address).groups()
        service = named(objects, "Service", host)
        assert service["spec"]["clusterIP"] == "None", f"{name}: DNS round_robin needs a headless Service"
        assert int(port) in [p["port"] for p in service["spec"]["ports"]]
        assert service_selects(service, pod_labels(named(objects, "Deployment", name)))


def test_every_app_pod_reads_the_topology_from_the_config_map(objects):
    for deployment in of_kind(objects, "Deployment"):
        spec = pod_spec(deployment)
        (app,) = spec["containers"]
        path = pathlib.PurePosixPath(env_of(app)["ELEARN_CONFIG"]["value"])
        writers = [c for c in spec.get("initContainers", []) if str(path) in c.get("command", [])]
        mounts = {m["mountPath"]: m["name"] for m in app["volumeMounts"]}
        volume = next(v for v in spec["volumes"] if v["name"] == mounts[str(path.parent)])
        if writers:  # rendered with the MongoDB credentials by render_topology.py from the ConfigMap
            assert writers[0]["command"][:2] == ["python", "/app/deploy/k8s/render_topology.py"]
            assert "emptyDir" in volume
            volume = next(v for v in spec["volumes"] if v["name"] == "topology")
        assert volume["configMap"]["name"].startswith("elearn-topology"), deployment["metadata"]["name"]
