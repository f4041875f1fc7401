"""shared.settings: load_settings from an explicit environment, with local defaults and clear errors."""
import json

import pytest

from shared.settings import (
    SERVICES,
    LocalPorts,
    SettingsError,
    TlsSettings,
    load_settings,
    local_topology,
    target_addresses,
)

PLAIN = {"ELEARN_TLS_INSECURE": "1"}  # these tests are about the topology; TLS has its own below


def topology(**overrides):
    doc = local_topology(LocalPorts(service_base=60061, gateway=60051))
    doc.update(overrides)
    return doc


def test_local_defaults():
    s = load_settings("users", PLAIN)
    assert (s.process, s.listen, s.gateway_address) == ("users", "127.0.0.1:50061", "127.0.0.1:50051")
    assert s.service_addresses["content"] == "127.0.0.1:50065"
    assert s.shard_map.names == ("na", "eu", "apac")
    assert s.shard_map.by_name("eu").primary_dsn == "host=127.0.0.1 port=54322 dbname=elearning user=postgres"
    assert s.shard_map.by_name("eu").replica_dsn.startswith("host=127.0.0.1 port=54332 ")
    assert (s.log_level, s.pool_size, s.max_workers, s.call_timeout_s) == ("INFO", 16, 32, 3.0)


def test_shedding_limits_default_and_override():
    s = load_settings("users", PLAIN)
    assert (s.max_workers, s.max_queue, s.max_queue_wait_ms, s.shed_retry_ms) == (32, 128, 500, 200)
    s = load_settings("gateway", {**PLAIN, "ELEARN_MAX_WORKERS": "8", "ELEARN_MAX_QUEUE": "0",
                                  "ELEARN_SHED_RETRY_MS": "50",
                                  "ELEARN_MAX_QUEUE_WAIT_MS": "20"})
    assert (s.max_workers, s.max_queue, s.max_queue_wait_ms, s.shed_retry_ms) == (8, 0, 20, 50)


def test_cpu_slots_and_switch_interval_default_and_override():
    s = load_settings("users", PLAIN)
    assert (s.cpu_slots, s.switch_interval_ms) == (2, 1.0)
    s = load_settings("users", {**PLAIN, "ELEARN_CPU_SLOTS": "0", "ELEARN_SWITCH_INTERVAL_MS": "0.5"})
    assert (s.cpu_slots, s.switch_interval_ms) == (0, 0.5)


def test_gateway_listens_on_the_gateway_address():
    assert load_settings("gateway", PLAIN).listen == "127.0.0.1:50051"


def test_config_file(tmp_path):
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(topology()))
    s = load_settings("courses", {**PLAIN, "ELEARN_CONFIG": str(path)})
    assert s.listen == "127.0.0.1:60062"
    assert s.gateway_address == "127.0.0.1:60051"


def test_config_file_wins_over_inline(tmp_path):
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(topology()))
    env = {"ELEARN_CONFIG": str(path), "ELEARN_TOPOLOGY": json.dumps(local_topology())}
    assert load_settings("users", {**PLAIN, **env}).listen == "127.0.0.1:60061"


def test_inline_topology_without_replica_uses_primary():
    doc = {"shards": [{"name": "solo", "number": 7, "regions": ["EUROPE"], "primary_dsn": "host=db"}],
           "services": {name: f"svc:{i}" for i, name in enumerate(SERVICES)}}
    s = load_settings("payments", {**PLAIN, "ELEARN_TOPOLOGY": json.dumps(doc)})
    solo = s.shard_map.by_name("solo")
    assert (solo.replica_dsn, solo.mongo_db, s.listen) == ("host=db", "elearning_solo", "svc:3")


def test_listen_override_and_knobs():
    env = {"ELEARN_LISTEN": "0.0.0.0:9999", "ELEARN_POOL_SIZE": "4", "ELEARN_CALL_TIMEOUT_S": "0.5",
           "ELEARN_LOG_LEVEL": "debug"}
    s = load_settings("users", {**PLAIN, **env})
    assert (s.listen, s.pool_size, s.call_timeout_s, s.log_level) == ("0.0.0.0:9999", 4, 0.5, "DEBUG")


def test_missing_config_file(tmp_path):
    with pytest.raises(SettingsError, match=r"ELEARN_CONFIG=.*nope\.json: cannot read the file"):
        load_settings("users", {**PLAIN, "ELEARN_CONFIG": str(tmp_path / "nope.json")})


def test_config_file_bad_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(SettingsError, match="ELEARN_CONFIG=.*not valid JSON"):
        load_settings("users", {**PLAIN, "ELEARN_CONFIG": str(path)})


def test_inline_bad_json():
    with pytest.raises(SettingsError, match="ELEARN_TOPOLOGY: not valid JSON"):
        load_settings("users", {**PLAIN, "ELEARN_TOPOLOGY": "[1,"})


def test_shard_missing_a_key():
    doc = topology()
    del doc["shards"][1]["primary_dsn"]
    with pytest.raises(SettingsError, match="a shard lacks the key 'primary_dsn'"):
        load_settings("users", {**PLAIN, "ELEARN_TOPOLOGY": json.dumps(doc)})


def test_shard_map_errors_become_settings_errors():
    doc = topology()
    doc["shards"][1]["regions"] = ["EUROPE", "ASIA"]
    with pytest.raises(SettingsError, match="topology: region ASIA is mapped to two shards"):
        load_settings("users", {**PLAIN, "ELEARN_TOPOLOGY": json.dumps(doc)})


def test_missing_service_addresses():
    doc = topology()
    del doc["services"]["payments"], doc["services"]["content"]
    with pytest.raises(SettingsError, match=r"no address for service\(s\) payments, content"):
        load_settings("users", {**PLAIN, "ELEARN_TOPOLOGY": json.dumps(doc)})


@pytest.mark.parametrize("name, value, message", [
    ("ELEARN_POOL_SIZE", "-1", "must not be negative"),
    ("ELEARN_GRACE_S", "-0.5", "must not be negative"),
    ("ELEARN_MAX_WORKERS", "many", "expected an? int"),
    ("ELEARN_DRAIN_S", "1s", "expected a float"),
    ("ELEARN_MAX_QUEUE", "-1", "must not be negative"),
    ("ELEARN_SHED_RETRY_MS", "0", "must be at least 1"),
    ("ELEARN_CPU_SLOTS", "-1", "must not be negative"),
    ("ELEARN_SWITCH_INTERVAL_MS", "0", "must be at least 0.01"),
])
def test_bad_numbers(name, value, message):
    with pytest.raises(SettingsError, match=f"{name}=.*{message}"):
        load_settings("users", {**PLAIN, name: value})


def test_empty_number_means_default():
    assert load_settings("users", {**PLAIN, "ELEARN_POOL_SIZE": ""}).pool_size == 16


def test_bad_log_level():
    with pytest.raises(SettingsError, match="ELEARN_LOG_LEVEL='VERBOSE': expected DEBUG, INFO, WARNING or ERROR"):
        load_settings("users", {**PLAIN, "ELEARN_LOG_LEVEL": "verbose"})


def test_unknown_process():
    with pytest.raises(SettingsError, match="unknown process 'billing'; expected gateway or one of users"):
        load_settings("billing", PLAIN)


def test_settings_are_frozen():
    s = load_settings("users", PLAIN)
    with pytest.raises(AttributeError):
        s.listen = "elsewhere"


def test_topology_without_shards_says_so():
    with pytest.raises(SettingsError) as err:
        load_settings("users", {**PLAIN, "ELEARN_TOPOLOGY": json.dumps({"services": {}})})
    assert "a shard lacks" not in str(err.value)


@pytest.mark.parametrize("name", ["ELEARN_POOL_SIZE", "ELEARN_MAX_WORKERS"])
def test_zero_pool_or_workers_is_rejected(name):
    with pytest.raises(SettingsError, match=name):
        load_settings("users", {**PLAIN, name: "0"})


def test_no_tls_choice_at_all_stops_the_process():
    with pytest.raises(SettingsError, match="ELEARN_TLS_CA, ELEARN_TLS_CERT, ELEARN_TLS_KEY.*ELEARN_TLS_INSECURE=1"):
        load_settings("users", {})


def test_tls_files_from_the_topology_one_pair_per_process():
    doc = topology(tls={"ca": "/tls/ca.crt", "dir": "/tls"})
    s = load_settings("courses", {"ELEARN_TOPOLOGY": json.dumps(doc)})
    assert s.tls == TlsSettings("/tls/ca.crt", "/tls/courses.crt", "/tls/courses.key")


def test_tls_files_from_the_environment_win_over_the_topology():
    doc = topology(tls={"ca": "/tls/ca.crt", "cert": "/tls/tls.crt", "key": "/tls/tls.key"})
    env = {"ELEARN_TOPOLOGY": json.dumps(doc), "ELEARN_TLS_CERT": "/mine.crt"}
    assert load_settings("users", env).tls == TlsSettings("/tls/ca.crt", "/mine.crt", "/tls/tls.key")


def test_plaintext_only_when_asked_for():
    doc = topology(tls={"insecure": True})
    assert load_settings("users", {"ELEARN_TOPOLOGY": json.dumps(doc)}).tls is None
    assert load_settings("users", {"ELEARN_TLS_INSECURE": "true"}).tls is None
    with pytest.raises(SettingsError, match="ELEARN_TLS_INSECURE='yes'"):
        load_settings("users", {"ELEARN_TLS_INSECURE": "yes"})
    with pytest.raises(SettingsError, match="'tls' must be"):
        load_settings("users", {"ELEARN_TOPOLOGY": json.dumps(topology(tls="off"))})


def test_several_instances_make_a_round_robin_target_and_each_needs_its_listen_address():
    topology = local_topology(LocalPorts(), instances=2)
    assert topology["services"]["users"] == "ipv4:127.0.0.1:50061,127.0.0.1:50071"
    assert topology["instances"]["content"] == ["127.0.0.1:50065", "127.0.0.1:50075"]
    assert target_addresses(topology["services"]["users"]) == ["127.0.0.1:50061", "127.0.0.1:50071"]
    assert target_addresses("dns:///users:50061") == ["users:50061"]
    assert target_addresses("users:50061") == ["users:50061"]
    env = {**PLAIN, "ELEARN_TOPOLOGY": json.dumps(topology)}
    with pytest.raises(SettingsError, match="users has several instances.*ELEARN_LISTEN"):
        load_settings("users", env)
    assert load_settings("users", {**env, "ELEARN_LISTEN": "127.0.0.1:50071"}).listen == "127.0.0.1:50071"
    assert load_settings("gateway", env).service_addresses["users"].startswith("ipv4:")
