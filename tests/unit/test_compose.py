"""docker-compose.yml, validated offline by `docker-compose config` (no container engine needed): it names every
service, shard primary and replica, MongoDB, the migration and the gateway on 50051, checks every container's
health, orders start-up by health, and its environment is read by the same settings code as the local cluster."""
from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest
import yaml

from launcher.components import SERVICES
from shared.settings import DEFAULT_SHARDS, load_settings

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed (`make system-deps` "
                                                        "installs Debian's docker-compose)")
SHARDS = [name for name, _number, _regions in DEFAULT_SHARDS]
APPS = {c.name: c for c in SERVICES}


def compose(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([COMPOSE, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"),
                           "config", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.fixture(scope="module")
def config() -> dict:
    result = compose()
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_the_file_is_valid():
    result = compose("-q")
    assert result.returncode == 0 and result.stdout == "", result.stderr


def test_it_names_every_part(config):
    expected = {f"pg-{s}-{role}" for s in SHARDS for role in ("primary", "replica")}
    expected |= {"mongo", "migrate", "gateway", *APPS}
    assert set(config) == expected
    assert {config[f"pg-{s}-{r}"]["image"] for s in SHARDS for r in ("primary", "replica")} == {"postgres:15"}
    assert config["mongo"]["image"] == "mongo:7"
    assert config["migrate"]["command"] == ["elearn", "migrate"]


def test_only_the_gateway_is_published_on_50051(config):
    published = {name: service["ports"] for name, service in config.items() if service.get("ports")}
    assert list(published) == ["gateway"]
    assert [(p["target"], p["published"]) if isinstance(p, dict) else p.split(":")[-2:] for p in published["gateway"]
            ] in ([(50051, 50051)], [(50051, "50051")], [["50051", "50051/tcp"]])


def test_every_container_but_the_migration_has_a_health_check(config):
    for name, service in config.items():
        if name != "migrate":
            assert service.get("healthcheck", {}).get("test"), name
    for name, component in APPS.items():
        assert config[name]["healthcheck"]["test"][:4] == ["CMD", "python", "-m", "launcher.probe"]
        assert config[name]["healthcheck"]["test"][5] == component.health_names[0]


def test_start_up_is_ordered_by_health(config):
    def needs(name: str) -> dict:
        return {dep: spec["condition"] for dep, spec in config[name]["depends_on"].items()}

    for shard in SHARDS:
        assert needs(f"pg-{shard}-replica") == {f"pg-{shard}-primary": "service_healthy"}
        assert needs("migrate")[f"pg-{shard}-primary"] == "service_healthy"
    for name in APPS:
        assert needs(name)["migrate"] == "service_completed_successfully"
        assert needs(name)["mongo"] == "service_healthy"
    assert needs("gateway") == {name: "service_healthy" for name in APPS}


def test_replication_and_two_phase_commit_are_configured(config):
    for shard in SHARDS:
        for role in ("primary", "replica"):
            command = " ".join(config[f"pg-{shard}-{role}"]["command"])
            assert "wal_level=replica" in command and "max_prepared_transactions=100" in command
        assert "SELECT NOT pg_is_in_recovery()" in config[f"pg-{shard}-primary"]["healthcheck"]["test"][1]
        assert "SELECT pg_is_in_recovery()" in config[f"pg-{shard}-replica"]["healthcheck"]["test"][1]
        replica = config[f"pg-{shard}-replica"]
        assert replica["environment"]["PRIMARY_HOST"] == f"pg-{shard}-primary"
        assert replica["entrypoint"] == ["bash", "/deploy/replica-entrypoint.sh"]
        mounts = " ".join(map(str, config[f"pg-{shard}-primary"]["volumes"]))
        assert "primary-init.sh:/docker-entrypoint-initdb.d/" in mounts
    script = (ROOT / "deploy/postgres/replica-entrypoint.sh").read_text()
    assert "pg_basebackup" in script and "--write-recovery-conf" in script and "--wal-method=stream" in script


def test_the_settings_code_reads_each_container_environment(config):
    for name in [*APPS, "gateway"]:
        env = dict(config[name]["environment"])
        assert env["ELEARN_CONFIG"] == "/etc/elearn/topology.json"
        env["ELEARN_CONFIG"] = str(ROOT / "deploy" / "topology.json")
        settings = load_settings(name, env)
        port = (settings.gateway_address if name == "gateway" else settings.service_addresses[name]).split(":")[1]
        assert settings.listen == f"0.0.0.0:{port}"
        if name in APPS:
            assert config[name]["healthcheck"]["test"][4] == f"127.0.0.1:{port}"
            assert settings.service_addresses[name] == f"{name}:{port}"
    shards = load_settings("users", {"ELEARN_CONFIG": str(ROOT / "deploy" / "topology.json")}).shard_map.shards
    for shard in shards:
        assert f"host=pg-{shard.name}-primary " in shard.primary_dsn
        assert f"host=pg-{shard.name}-replica " in shard.replica_dsn
        assert shard.mongo_uri == "mongodb://mongo:27017/"
