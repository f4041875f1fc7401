"""The Patroni settings of a local node and the shared ones of docker-compose: what Patroni will accept and
what issue 15 asks for (synchronous but not strict, ttl 20 s, nothing lost on failover, rewind, loopback)."""
from __future__ import annotations

import pathlib

import yaml

from launcher.patroni_config import Member, NodeAuth, config

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEMBER = Member(shard="eu", name="eu_b", pg_port=54332, rest_port=54432, data_dir=pathlib.Path("/pg/eu-b"),
                sockets=pathlib.Path("/pg/sockets"), log_dir=pathlib.Path("/pg/logs"), etcd="127.0.0.1:54381")
AUTH = NodeAuth("su-secret", "repl-secret", pathlib.Path("/t/n.crt"), pathlib.Path("/t/n.key"),
                pathlib.Path("/t/ca.crt"))


def dcs_of(settings: dict) -> dict:
    return settings["bootstrap"]["dcs"]


def test_timings_are_ones_patroni_accepts():
    for dcs in (dcs_of(config(MEMBER, pathlib.Path("/bin"), AUTH)),
                dcs_of(yaml.safe_load((ROOT / "deploy/patroni/patroni.yml").read_text()))):
        assert dcs["ttl"] == 20  # Patroni raises anything lower to 20 with a warning
        assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"]


def test_synchronous_but_never_stalling_and_nothing_acknowledged_lost():
    local, compose = dcs_of(config(MEMBER, pathlib.Path("/bin"), AUTH)), \
        dcs_of(yaml.safe_load((ROOT / "deploy/patroni/patroni.yml").read_text()))
    for dcs in (local, compose):
        assert dcs["synchronous_mode"] is True and dcs["synchronous_mode_strict"] is False
        assert dcs["maximum_lag_on_failover"] <= 1024 * 1024
        assert dcs["postgresql"]["use_pg_rewind"] is True and dcs["postgresql"]["parameters"]["wal_log_hints"] == "on"
        assert dcs["postgresql"]["parameters"]["max_prepared_transactions"] == 100  # the cross-shard commit
    assert dcs_of(config(MEMBER, pathlib.Path("/bin"), AUTH, synchronous=False))["synchronous_mode"] is False


def test_a_local_node_listens_on_loopback_only_and_is_named_for_its_shard():
    settings = config(MEMBER, pathlib.Path("/usr/lib/postgresql/15/bin"), AUTH)
    assert settings["scope"] == "eu" and settings["name"] == "eu_b"
    assert settings["postgresql"]["listen"] == "127.0.0.1:54332"
    assert settings["restapi"]["listen"] == "127.0.0.1:54432"
    assert settings["etcd3"]["hosts"] == ["127.0.0.1:54381"]
    assert all(rule.split()[0] == "local" or "127.0.0.1/32" in rule for rule in settings["postgresql"]["pg_hba"])
    assert settings["postgresql"]["remove_data_directory_on_rewind_failure"] is True
