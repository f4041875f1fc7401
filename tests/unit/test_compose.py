"""docker-compose.yml, validated offline by `docker-compose config` (no container engine needed): it names every
service, etcd and each shard's two Patroni-run nodes, MongoDB, the migration and the gateway on 50051, checks
every container's health, orders start-up by health, and its environment is read by the same settings code as
the local cluster."""
from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

from launcher.components import SERVICES
from launcher.deploy_keys import export
from shared.auth import keys
from shared.auth.tokens import Signer, Verifier
from shared.pg.login import PG_SERVICES, role_of
from shared.settings import DEFAULT_SHARDS, load_settings, target_addresses

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed (`make system-deps` "
                                                        "installs Debian's docker-compose)")
SHARDS = [name for name, _number, _regions in DEFAULT_SHARDS]
NODES = ("a", "b")
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
    expected = {f"pg-{s}-{node}" for s in SHARDS for node in NODES}
    expected |= {"etcd", "mongo", "migrate", "gateway", "prometheus", "grafana", *APPS}
    assert set(config) == expected
    dockerfiles = {config[f"pg-{s}-{n}"]["build"]["dockerfile"] for s in SHARDS for n in NODES}
    assert dockerfiles == {"deploy/patroni/Dockerfile"}
    assert config["mongo"]["image"] == "mongo:7"
    assert config["migrate"]["command"] == ["elearn", "migrate"]


def test_only_the_gateway_is_published_on_50051_and_prometheus_and_grafana_on_the_loopback(config):
    published = {name: service["ports"] for name, service in config.items() if service.get("ports")}
    assert sorted(published) == ["gateway", "grafana", "prometheus"]
    assert [(p["host_ip"], p["target"], str(p["published"])) if isinstance(p, dict) else p
            for p in published["grafana"]] in ([("127.0.0.1", 3000, "3000")], ["127.0.0.1:3000:3000"],
                                                ["127.0.0.1:3000:3000/tcp"])
    assert [(p["host_ip"], p["target"], str(p["published"])) if isinstance(p, dict) else p
            for p in published["prometheus"]] in ([("127.0.0.1", 9090, "9090")], ["127.0.0.1:9090:9090"],
                                                   ["127.0.0.1:9090:9090/tcp"])
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
        for node in NODES:
            assert needs(f"pg-{shard}-{node}") == {"etcd": "service_healthy"}
            assert needs("migrate")[f"pg-{shard}-{node}"] == "service_healthy"
    for name in APPS:
        assert needs(name)["migrate"] == "service_completed_successfully"
        assert needs(name)["mongo"] == "service_healthy"
    assert needs("gateway") == {name: "service_healthy" for name in APPS}


def test_patroni_runs_every_node_and_decides_who_leads(config):
    """Two Patroni members per shard in one scope; the shared settings fix synchronous mode, the ttl, the
    server limits two-phase commit needs, and pg_rewind; no restart policy can bring back a stale primary,
    because no node starts as a primary by itself (nothing like the image's own entrypoint runs)."""
    settings = yaml.safe_load((ROOT / "deploy/patroni/patroni.yml").read_text())
    dcs = settings["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True and dcs["synchronous_mode_strict"] is False and dcs["ttl"] == 20
    assert dcs["postgresql"]["use_pg_rewind"] and dcs["postgresql"]["parameters"]["max_prepared_transactions"] == 100
    dockerfile = (ROOT / "deploy/patroni/Dockerfile").read_text()
    assert "patroni[etcd3,kubernetes]==4.1.5" in dockerfile and "USER postgres" in dockerfile
    assert 'CMD ["/etc/patroni/start.sh"' in dockerfile
    for shard in SHARDS:
        for node in NODES:
            env = config[f"pg-{shard}-{node}"]["environment"]
            assert env["PATRONI_SCOPE"] == shard and env["PATRONI_NAME"] == f"{shard}_{node}"
            assert env["PATRONI_ETCD3_HOSTS"] == "etcd:2379"
            # Every password from a secret file, which deploy/patroni/start.sh reads into Patroni's variable.
            assert not any(key.endswith("_PASSWORD") for key in env), env
            assert {s["source"] for s in config[f"pg-{shard}-{node}"]["secrets"]} == {
                "pg-admin-password", "pg-replicator-password"}
            assert env["PATRONI_SUPERUSER_PASSWORD_FILE"] == "/run/secrets/pg-admin-password"
            assert "8008/health" in " ".join(config[f"pg-{shard}-{node}"]["healthcheck"]["test"])


@pytest.fixture(scope="module")
def deploy_keys(tmp_path_factory) -> pathlib.Path:
    """What `python -m launcher.deploy_keys` makes for the compose secrets, in a temporary folder."""
    folder = tmp_path_factory.mktemp("secrets") / "auth"
    export(folder)
    return folder


def mounted(config: dict, name: str, source_folder: pathlib.Path, into: pathlib.Path) -> pathlib.Path:
    """`name`'s secrets copied from `source_folder` as the container sees them under /etc/elearn/auth."""
    files = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["secrets"]
    for secret in config[name]["secrets"]:
        if not secret["target"].startswith("/etc/elearn/auth/"):
            continue  # the TLS files (test_transport's concern) and the PostgreSQL passwords
        source = pathlib.Path(files[secret["source"]]["file"]).relative_to("deploy/secrets/auth")
        target = into / pathlib.Path(secret["target"]).relative_to("/etc/elearn/auth")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_folder / source, target)
    return into


def with_local_files(env: dict, folder: pathlib.Path) -> dict:
    """`env` with its password files (compose secrets under /run/secrets) made in `folder`."""
    env = dict(env)
    for variable in ("ELEARN_PG_PASSWORD_FILE", "ELEARN_MONGO_PASSWORD_FILE"):
        if variable in env:
            local = folder / pathlib.PurePath(env[variable]).name
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_text("not-a-real-password\n")
            env[variable] = str(local)
    return env


def test_the_settings_code_reads_each_container_environment(config, deploy_keys, tmp_path):
    for name in [*APPS, "gateway"]:
        env = dict(config[name]["environment"])
        assert env["ELEARN_CONFIG"] == "/etc/elearn/topology.json"
        env["ELEARN_CONFIG"] = str(ROOT / "deploy" / "topology.json")
        assert env["ELEARN_AUTH_DIR"] == "/etc/elearn/auth"
        env["ELEARN_AUTH_DIR"] = str(mounted(config, name, deploy_keys, tmp_path / name))
        settings = load_settings(name, with_local_files(env, tmp_path / name / "run"))
        assert settings.tls is not None and settings.tls.cert == "/run/secrets/tls.crt"
        targets = {m["target"] if isinstance(m, dict) else m for m in config[name]["secrets"]}
        assert {"tls-ca.crt", "tls.crt", "tls.key"} <= {pathlib.PurePath(t).name for t in targets}
        target = settings.gateway_address if name == "gateway" else settings.service_addresses[name]
        port = target_addresses(target)[0].split(":")[1]
        assert settings.listen == f"0.0.0.0:{port}"
        if name in APPS:
            assert config[name]["healthcheck"]["test"][4] == f"127.0.0.1:{port}"
            assert settings.service_addresses[name] == f"dns:///{name}:{port}"
    shards = load_settings("users", {"ELEARN_CONFIG": str(ROOT / "deploy" / "topology.json"),
                                     "ELEARN_TLS_INSECURE": "1"}).shard_map.shards
    for shard in shards:
        assert f"host=pg-{shard.name}-a " in shard.primary_dsn
        assert f"host=pg-{shard.name}-b " in shard.replica_dsn
        assert shard.mongo_uri == "mongodb://mongo:27017/"


def test_every_service_runs_two_replicas_balanced_by_dns(config):
    topology = json.loads((ROOT / "deploy" / "topology.json").read_text())
    for name in APPS:
        assert config[name]["deploy"]["replicas"] >= 2, name
        # One DNS name whose records are every replica: the channels balance round_robin over them.
        assert topology["services"][name].startswith("dns:///"), name


def test_each_service_logs_in_to_postgresql_as_its_own_role_with_only_its_own_secret(config, deploy_keys, tmp_path):
    secrets = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["secrets"]
    for name in [*APPS, "gateway"]:
        env = config[name]["environment"]
        assert "PGPASSWORD" not in env and "PGPASSFILE" not in env, name  # no admin password in any app
        pg_secrets = [s["source"] for s in config[name]["secrets"] if s["source"].startswith("pg-")]
        if name not in PG_SERVICES:
            assert pg_secrets == [] and "ELEARN_PG_USER" not in env, name
            continue
        assert pg_secrets == [f"pg-{name}"], name
        assert (env["ELEARN_PG_USER"], env["ELEARN_PG_PASSWORD_FILE"]) == (role_of(name), f"/run/secrets/pg-{name}")
        assert secrets[f"pg-{name}"] == {"file": f"./deploy/secrets/pg/pg-{name}"}
        env = {**env, "ELEARN_CONFIG": str(ROOT / "deploy" / "topology.json"), "ELEARN_AUTH_DIR": str(deploy_keys)}
        login = load_settings(name, with_local_files(env, tmp_path / name)).pg_login
        assert login is not None and login.user == role_of(name)
    migrate = config["migrate"]
    assert sorted(s["target"] for s in migrate["secrets"]) == sorted(
        ["pg-admin-pgpass", *(f"pg-{s}" for s in PG_SERVICES)])
    assert migrate["environment"]["PGPASSFILE"] == "/run/secrets/pg-admin-pgpass"
    assert "PGPASSWORD" not in migrate["environment"]
    assert migrate["environment"]["ELEARN_PG_PASSWORDS_DIR"] == "/run/secrets"


def test_prometheus_scrapes_every_process_where_it_serves_metrics(config, deploy_keys, tmp_path):
    scrape = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    # Every replica of a service is a target: found through DNS, not one static name (which is one replica).
    found = [(name, sd["port"]) for job in scrape["scrape_configs"] for sd in job["dns_sd_configs"]
             for name in sd["names"]]
    assert sorted(found) == sorted((name, 9464) for name in [*APPS, "gateway"])
    for name in [*APPS, "gateway"]:
        env = {**config[name]["environment"], "ELEARN_CONFIG": str(ROOT / "deploy" / "topology.json"),
               "ELEARN_AUTH_DIR": str(deploy_keys)}
        assert load_settings(name, with_local_files(env, tmp_path / name)).metrics_listen == "0.0.0.0:9464"
    mounted = {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in config["prometheus"]["volumes"]}
    assert {"/etc/prometheus/rules.yml", "/etc/prometheus/prometheus.yml"} <= mounted
    dashboard = json.loads((ROOT / "deploy/grafana/elearn-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    for series in ("grpc_server_handled_total", "grpc_server_handling_seconds_bucket", "elearn_db_query_seconds_bucket",
                   "elearn_replica_lag_seconds", "elearn_db_pool_waiting", "elearn_shed_calls_total",
                   "grpc_client_handling_seconds_bucket"):
        assert series in exprs, series


def test_each_process_gets_the_jwks_and_only_its_own_signing_keys_as_secrets(config, deploy_keys, tmp_path):
    for name in [*APPS, "gateway"]:
        folder = mounted(config, name, deploy_keys, tmp_path / name)
        own = {keys.service_signer(name), *([keys.PEOPLE] if name == "users" else [])}
        assert {p.name for p in (folder / "signers").iterdir()} == own
        assert {p.name for p in (folder / "keys").iterdir()} == {f"{signer}.pem" for signer in own}
        verifier = Verifier(folder)
        for signer in own:
            subject, role = ("7", "STUDENT") if signer == keys.PEOPLE else (f"service:{name}", "SERVICE")
            assert verifier.verify(Signer(folder, signer).mint(subject, role).token).identity in (
                "student", f"service:{name}")
    assert "PRIVATE KEY" not in (ROOT / "docker-compose.yml").read_text()


def _mounts(service: dict) -> dict[str, pathlib.Path]:
    """Container path → the repository file or folder mounted there (named volumes left out)."""
    found = {}
    for volume in service["volumes"]:
        source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")[:2]
        if source.startswith(("/", ".")):
            found[target] = (ROOT / source).resolve()
    return found


def test_grafana_is_provisioned_with_the_dashboard_and_the_prometheus_data_source(config):
    grafana = config["grafana"]
    assert grafana["depends_on"]["prometheus"]["condition"] == "service_healthy"
    mounts = _mounts(grafana)
    provisioning = mounts["/etc/grafana/provisioning"]
    assert provisioning == (ROOT / "deploy/grafana/provisioning").resolve()
    sources = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())["datasources"]
    assert [(s["type"], s["url"]) for s in sources] == [("prometheus", "http://prometheus:9090")]
    assert config["prometheus"]["healthcheck"]["test"][-1].startswith("http://127.0.0.1:9090/")
    providers = yaml.safe_load((provisioning / "dashboards/elearn.yml").read_text())["providers"]
    folder = providers[0]["options"]["path"]
    dashboards = {target: source for target, source in mounts.items() if target.startswith(folder + "/")}
    assert list(dashboards.values()) == [(ROOT / "deploy/grafana/elearn-dashboard.json").resolve()]
    home = dict(grafana["environment"])["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home in dashboards
    # The dashboard picks its data source from a variable of type prometheus: the provisioned one fits.
    variables = json.loads(dashboards[home].read_text())["templating"]["list"]
    assert {"type": "datasource", "query": "prometheus"}.items() <= variables[0].items()


def test_mongodb_wants_a_login_and_only_content_gets_one_from_its_own_secret(config, deploy_keys, tmp_path):
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mongo = config["mongo"]
    assert mongo["environment"]["MONGO_INITDB_ROOT_PASSWORD_FILE"] == "/run/secrets/mongo-root-password"
    assert "MONGO_INITDB_ROOT_PASSWORD" not in mongo["environment"]  # never the value itself
    mounts = [v.split(":") for v in mongo["volumes"]]  # host:container[:mode], as `config` prints them
    script = pathlib.Path(next(m[0] for m in mounts if m[1].startswith("/docker-entrypoint-initdb.d/")))
    assert script.exists() and "/run/secrets/mongo-content-password" in script.read_text()
    assert {s["source"] for s in mongo["secrets"]} == {"mongo-root-password", "mongo-content-password"}
    assert raw["secrets"]["mongo-root-password"] == {"file": "./deploy/secrets/mongo/root-password"}
    for name in [*APPS, "gateway", "migrate"]:
        env, secrets = config[name]["environment"], {s["source"] for s in config[name].get("secrets", [])}
        if name != "content":
            assert "ELEARN_MONGO_USER" not in env and not any(s.startswith("mongo-") for s in secrets), name
            continue
        assert secrets & {"mongo-root-password", "mongo-content-password"} == {"mongo-content-password"}
        env = {**env, "ELEARN_CONFIG": str(ROOT / "deploy" / "topology.json"), "ELEARN_AUTH_DIR": str(deploy_keys)}
        login = load_settings(name, with_local_files(env, tmp_path / name)).mongo_login
        assert login is not None and login.user == "elearn_content" and login.password == "not-a-real-password"
        assert "not-a-real-password" not in repr(login)
    assert "mongodb://" not in (ROOT / "docker-compose.yml").read_text()  # no URI with credentials in it


def test_no_password_is_written_in_the_compose_file():
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"(PASSWORD|PGPASSWORD)\s*:\s*(?!/run/secrets/)\S", text.replace("_FILE:", "_FILE_:")), \
        "a password value in docker-compose.yml"


def test_the_patroni_start_script_turns_each_password_file_into_patronis_variable(tmp_path):
    secret = tmp_path / "admin"
    secret.write_text("s3cret\n")
    fake = tmp_path / "opt/patroni/bin"
    script = (ROOT / "deploy/patroni/start.sh").read_text().replace("/opt/patroni/bin/patroni", str(fake / "patroni"))
    fake.mkdir(parents=True)
    (fake / "patroni").write_text("#!/bin/sh\nenv | grep ^PATRONI_ | sort\necho args \"$@\"\n")
    (fake / "patroni").chmod(0o755)
    (tmp_path / "start.sh").write_text(script)
    result = subprocess.run(["sh", str(tmp_path / "start.sh"), "/etc/patroni.yml"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "PATRONI_SUPERUSER_PASSWORD_FILE": str(secret),
                                 "PATRONI_REPLICATION_PASSWORD": "given"}, timeout=10)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "PATRONI_SUPERUSER_PASSWORD=s3cret" in lines and "PATRONI_REPLICATION_PASSWORD=given" in lines
    assert not any(line.startswith("PATRONI_SUPERUSER_PASSWORD_FILE") for line in lines)
    assert lines[-1] == "args /etc/patroni.yml"
