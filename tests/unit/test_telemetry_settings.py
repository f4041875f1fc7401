"""The telemetry settings: read from the environment and the topology, every bad value refused naming its key,
and the local cluster's metrics ports distinct from every other port it uses."""
import json
import pathlib

import pytest

from launcher.layout import Layout
from shared.settings import SERVICES, LocalPorts, SettingsError, load_settings, local_topology

PLAIN = {"ELEARN_TLS_INSECURE": "1"}  # these tests are about telemetry; TLS has tests of its own


def test_defaults_and_overrides():
    settings = load_settings("users", PLAIN)
    assert settings.telemetry and settings.trace_sample_ratio == 0.01 and settings.access_log_sample == 1.0
    assert settings.metrics_listen == f"127.0.0.1:{LocalPorts().metrics('users')}"
    tuned = load_settings("gateway", {**PLAIN, "ELEARN_TELEMETRY": "OFF", "ELEARN_TRACE_SAMPLE_RATIO": "1",
                                      "ELEARN_METRICS_LISTEN": "0.0.0.0:9464", "ELEARN_ACCESS_LOG_MAX_PER_S": "0",
                                      "ELEARN_TRACE_DIR": "/tmp/t"})
    assert not tuned.telemetry and tuned.trace_sample_ratio == 1.0 and tuned.metrics_listen == "0.0.0.0:9464"
    assert tuned.access_log_max_per_s == 0 and tuned.trace_dir == "/tmp/t"


@pytest.mark.parametrize("key, value", [
    ("ELEARN_TRACE_SAMPLE_RATIO", "1.5"), ("ELEARN_TRACE_SAMPLE_RATIO", "-0.1"), ("ELEARN_TRACE_SAMPLE_RATIO", "x"),
    ("ELEARN_TRACE_SAMPLE_RATIO", "nan"), ("ELEARN_ACCESS_LOG_SAMPLE", "2"), ("ELEARN_ACCESS_LOG_MAX_PER_S", "1.5"),
    ("ELEARN_TELEMETRY", "maybe"),
])
def test_a_bad_value_names_its_key(key, value):
    with pytest.raises(SettingsError, match=key):
        load_settings("users", {**PLAIN, key: value})


def test_a_bad_metrics_map_is_refused():
    topology = local_topology()
    topology["metrics"] = {"users": 9464}
    with pytest.raises(SettingsError, match="'metrics'"):
        load_settings("users", {**PLAIN, "ELEARN_TOPOLOGY": json.dumps(topology)})


def test_a_process_without_a_metrics_address_serves_none():
    topology = local_topology()
    del topology["metrics"]
    assert load_settings("users", {**PLAIN, "ELEARN_TOPOLOGY": json.dumps(topology)}).metrics_listen == ""


def test_the_local_ports_never_collide():
    ports = Layout(pathlib.Path("/x"), LocalPorts(), pathlib.Path("/x")).all_ports()
    assert len(set(ports.values())) == len(ports)
    assert {f"{name} metrics" for name in (*SERVICES, "gateway")} <= set(ports) and "prometheus" in ports
