"""Read policies from metadata, session tokens, and the rule that picks a node for a read."""
from __future__ import annotations

import contextvars

import pytest

from shared import consistency
from shared.consistency import CallTrace, Mode, ReadPolicy
from shared.errors import InvalidArgument
from shared.fan_out import FanOut
from shared.pg import lsn
from shared.pg.read_routing import Route, route_read
from shared.pg.replica_monitor import ReplicaView


def test_lsn_round_trip_and_order():
    assert lsn.parse_lsn("0/3000A28") == 0x3000A28
    assert lsn.parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert lsn.format_lsn(lsn.parse_lsn("16/B374D848")) == "16/B374D848"
    assert lsn.parse_lsn("1/0") > lsn.parse_lsn("0/FFFFFFFF")


@pytest.mark.parametrize("bad", ["", "0-3000", "x/1", "1/2/3", "123456789/0"])
def test_malformed_lsn_is_refused(bad):
    with pytest.raises(ValueError):
        lsn.parse_lsn(bad)


def test_token_keeps_the_later_position_per_shard():
    token = lsn.parse_token("eu:0/30,na:0/10,eu:0/20")
    assert token == {"eu": 0x30, "na": 0x10}
    assert lsn.format_token(token) == "eu:0/30,na:0/10"
    assert lsn.merge(dict(token), {"eu": 0x10, "apac": 0x5}) == {"eu": 0x30, "na": 0x10, "apac": 0x5}


@pytest.mark.parametrize("bad", ["eu", "eu:zz", ":0/1", "EU:0/1", "eu:0/1,na"])
def test_malformed_token_names_the_metadata_key(bad):
    with pytest.raises(InvalidArgument) as caught:
        lsn.parse_token(bad)
    assert caught.value.violations[0].field == "x-min-lsn"


def test_policy_from_metadata():
    assert ReadPolicy.from_metadata({}) == ReadPolicy(Mode.SESSION)
    assert ReadPolicy.from_metadata({"x-consistency": "STRONG"}).mode is Mode.STRONG
    bounded = ReadPolicy.from_metadata({"x-consistency": "bounded", "x-max-staleness-ms": "250"})
    assert (bounded.mode, bounded.max_staleness_ms) == (Mode.BOUNDED, 250)
    assert ReadPolicy.from_metadata({"x-min-lsn": "eu:0/10"}).min_lsn == {"eu": 0x10}


@pytest.mark.parametrize("metadata, field", [
    ({"x-consistency": "eventual"}, "x-consistency"),
    ({"x-consistency": "bounded"}, "x-max-staleness-ms"),
    ({"x-consistency": "bounded", "x-max-staleness-ms": "soon"}, "x-max-staleness-ms"),
    ({"x-consistency": "bounded", "x-max-staleness-ms": "-1"}, "x-max-staleness-ms"),
    ({"x-max-staleness-ms": "100"}, "x-max-staleness-ms"),
    ({"x-min-lsn": "eu:nope"}, "x-min-lsn"),
])
def test_bad_policy_metadata_is_invalid_argument(metadata, field):
    with pytest.raises(InvalidArgument) as caught:
        ReadPolicy.from_metadata(metadata)
    assert caught.value.violations[0].field == field


def test_trace_trailers_move_the_token_past_this_calls_commits():
    trace = CallTrace()
    trace.committed("eu", 0x50)
    trace.read_from("na", "replica")
    trace.read_from("eu", "primary")
    trace.read_from("eu", "replica")  # a read that touched the primary reports it
    policy = ReadPolicy(min_lsn={"eu": 0x40, "apac": 0x7})
    assert dict(trace.trailers(policy)) == {"x-min-lsn": "apac:0/7,eu:0/50", "x-served-by": "eu:primary,na:replica"}
    assert CallTrace().trailers(ReadPolicy()) == ()


def _view(readable=True, lag_s=0.0, checked_at=100.0, replayed=0):
    return ReplicaView("eu", "p", "r", readable, "ok" if readable else "down", 0, lag_s, replayed, False, checked_at)


def _route(policy, view, replayed=0, now=100.1, primary_only=False):
    return route_read(policy, "eu", view, replayed_lsn=replayed, now=now, check_interval_s=0.5,
                      primary_only=primary_only)


def test_strong_and_write_decisions_read_the_primary():
    assert _route(ReadPolicy(Mode.STRONG), _view()) is Route.PRIMARY
    assert _route(ReadPolicy(), _view(), primary_only=True) is Route.PRIMARY


def test_a_replica_without_reads_sends_every_mode_to_the_primary():
    for policy in (ReadPolicy(), ReadPolicy(Mode.BOUNDED, 60_000)):
        assert _route(policy, _view(readable=False)) is Route.PRIMARY


def test_session_reads_check_the_replica_only_for_a_token_it_is_not_known_to_have():
    assert _route(ReadPolicy(), _view()) is Route.REPLICA
    assert _route(ReadPolicy(min_lsn={"na": 0x99}), _view()) is Route.REPLICA
    assert _route(ReadPolicy(min_lsn={"eu": 0x99}), _view(), replayed=0x99) is Route.REPLICA
    assert _route(ReadPolicy(min_lsn={"eu": 0x99}), _view(), replayed=0x98) is Route.CHECK_REPLICA


def test_bounded_reads_count_the_age_of_the_measurement():
    bounded = ReadPolicy(Mode.BOUNDED, 500)
    assert _route(bounded, _view(lag_s=0.2), now=100.1) is Route.REPLICA     # 200 + 100 ms
    assert _route(bounded, _view(lag_s=0.2), now=100.4) is Route.PRIMARY     # 200 + 400 ms
    assert _route(bounded, _view(lag_s=0.0), now=102.0) is Route.PRIMARY     # measurement too old
    assert _route(bounded, None) is Route.PRIMARY


def test_fan_out_tasks_see_the_callers_policy_and_trace():
    pool = FanOut(max_workers=3)
    try:
        with consistency.call_scope(ReadPolicy(Mode.STRONG)) as trace:
            modes = list(pool.map(lambda shard: (consistency.trace().read_from(shard, "primary"),
                                                 consistency.policy().mode)[1], ["na", "eu", "apac"]))
        assert modes == [Mode.STRONG] * 3
        assert trace.served_by == {"na": "primary", "eu": "primary", "apac": "primary"}
        assert consistency.trace() is None and consistency.policy().mode is Mode.SESSION
    finally:
        pool.shutdown()


def test_context_outside_a_call_records_nothing():
    assert contextvars.copy_context().run(consistency.trace) is None
    assert consistency.trailers() == ()


def test_a_token_naming_an_unknown_shard_is_invalid_argument():
    assert ReadPolicy.from_metadata({"x-min-lsn": "eu:0/10"}, ("na", "eu", "apac")).min_lsn == {"eu": 0x10}
    with pytest.raises(InvalidArgument) as caught:
        ReadPolicy.from_metadata({"x-min-lsn": "eu:0/10,mars:0/1"}, ("na", "eu", "apac"))
    assert caught.value.violations[0].field == "x-min-lsn" and "mars" in caught.value.violations[0].description
