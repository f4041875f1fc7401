"""How `elearn health` judges what a PostgreSQL node says about itself, and how it prints the verdicts."""
from __future__ import annotations

from launcher.health import Check, Limits, _judge, render
from shared.pg.admin import address


def replica(**facts) -> dict:
    return {"role": "replica", "receiving": True, "lag_s": 0.0, "lag_bytes": 0, **facts}


def test_a_streaming_replica_within_the_limits_is_healthy():
    assert _judge("replica", replica(lag_s=1.5, lag_bytes=4096), "lag", Limits()) == (True, "lag, streaming")


def test_a_node_in_the_wrong_role_is_unhealthy():
    healthy, detail = _judge("replica", {"role": "primary"}, "", Limits())
    assert not healthy and detail == "expected the replica, found a primary (promoted?)"
    healthy, detail = _judge("primary", replica(), "", Limits())
    assert not healthy and detail == "expected the primary, found a replica (in recovery)"


def test_a_replica_that_does_not_stream_or_lags_is_unhealthy():
    assert not _judge("replica", replica(receiving=False), "", Limits())[0]
    assert not _judge("replica", replica(lag_s=31.0), "", Limits())[0]
    assert not _judge("replica", replica(lag_bytes=2048), "", Limits(max_lag_bytes=1024))[0]
    assert _judge("replica", replica(lag_bytes=None), "", Limits())[0]


def test_addresses_never_show_credentials():
    assert address("host=db port=5433 dbname=x user=u password=secret") == "db:5433"


def test_the_table_ends_with_a_verdict_naming_what_is_unhealthy():
    checks = [Check("users", "a:1", True, "SERVING"), Check("postgres eu replica", "b:2", False, "unreachable")]
    lines = render(checks).splitlines()
    assert lines[2].split()[:5] == ["postgres", "eu", "replica", "b:2", "UNHEALTHY"]
    assert lines[-1] == "elearn health: 1 of 2 checks unhealthy: postgres eu replica"
    assert render(checks[:1]).splitlines()[-1] == "elearn health: all 1 checks healthy"
