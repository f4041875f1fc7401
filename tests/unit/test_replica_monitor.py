"""The replica monitor's rules: the lag clock, electing the write node, the verdict on reads; and a commit the
synchronous replica never confirmed."""
from __future__ import annotations

import pytest

from launcher.replication import one_shot_lag_s
from shared.errors import ShardUnavailable
from shared.pg.node_probe import NodeProbe
from shared.pg.pools import ShardPools, _refuse_unconfirmed_commit
from shared.pg.replica_monitor import LagClock, ReplicaView, ShardWatch, elect_primary, judge
from shared.settings import ReplicaLimits
from shared.sharding import Shard, ShardMap


def primary(dsn="p", lsn=1000, timeline=1, replay_lag_s=0.0):
    return NodeProbe(dsn, True, False, lsn, timeline, replay_lag_s=replay_lag_s)


def replica(dsn="r", lsn=1000, age=None):
    return NodeProbe(dsn, True, True, lsn, replay_age_s=age, receiving=True)


DOWN = NodeProbe("r", False, error="connection refused")


def test_lag_clock_times_the_oldest_unreplayed_primary_position():
    clock = LagClock()
    clock.add(10.0, 100)
    clock.add(10.5, 100)  # an idle primary adds nothing
    clock.add(11.0, 200)
    clock.add(12.0, 300)
    assert clock.seconds_behind(12.5, 300) == 0.0
    assert clock.seconds_behind(12.5, 250) == 0.5     # behind since 12.0
    assert clock.seconds_behind(12.5, 150) == 1.5     # behind since 11.0
    assert clock.seconds_behind(12.5, 50) == 2.5


def test_the_write_node_is_the_non_recovery_node_on_the_newest_timeline():
    assert elect_primary([primary("a"), replica("b")], "a") == "a"
    assert elect_primary([DOWN, primary("b", timeline=2)], "a") == "b"             # promoted replica
    assert elect_primary([primary("a", timeline=1), primary("b", timeline=2)], "a") == "b"  # old one came back
    assert elect_primary([primary("a", timeline=2), primary("b", timeline=2)], "a") == "a"  # keep, no flapping
    assert elect_primary([DOWN, replica("b")], "a") == "a"  # nothing to write to: writes fail, none to a replica


def test_reads_go_to_a_replica_only_within_both_limits():
    limits = ReplicaLimits(max_lag_ms=1000, max_lag_bytes=500)
    assert judge(primary(lsn=1000), replica(lsn=900), 0.2, limits) == (True, "ok")
    readable, reason = judge(primary(lsn=1000), replica(lsn=400), 0.2, limits)
    assert not readable and "600 B" in reason
    readable, reason = judge(primary(lsn=1000), replica(lsn=900), 1.5, limits)
    assert not readable and "1.500 s" in reason
    assert not judge(primary(), DOWN, None, limits)[0]
    assert not judge(primary(), primary("r", timeline=2), 0.0, limits)[0]  # a second primary is fenced


def test_a_replica_not_streaming_or_past_the_primary_is_fenced_and_reports_no_position():
    """A former primary back before its rewind replays its own timeline: positions of WAL the primary never
    wrote, which would let a read with a session token it lacks through."""
    limits = ReplicaLimits(max_lag_ms=1000, max_lag_bytes=500)
    idle = NodeProbe("r", True, True, 900, receiving=False)
    readable, reason = judge(primary(lsn=1000), idle, 0.0, limits)
    assert not readable and "not streaming" in reason
    readable, reason = judge(primary(lsn=1000), replica(lsn=1200), 0.0, limits)
    assert not readable and "another timeline" in reason
    watch = ShardWatch(Shard("eu", 2, ("EUROPE",), "p", "r"), limits, on_view=lambda _v: None,
                       on_primary=lambda *_a: None)
    assert watch._view(primary(lsn=1000), replica(lsn=1200), 0.0).replayed_lsn == 0
    assert watch._view(primary(lsn=1000), replica(lsn=990), 0.0).replayed_lsn == 990


def test_the_pools_forget_the_replicas_position_once_it_may_not_serve_reads():
    pools = ShardPools(ShardMap((Shard("eu", 2, ("EUROPE",), "host=p", "host=r"),)), size=1, connect_timeout_s=1,
                       statement_timeout_ms=1000, lock_timeout_ms=1000, application_name="test")
    try:
        pools._seen(ReplicaView("eu", "p", "r", True, "ok", replayed_lsn=5000))
        assert pools._replayed["eu"] == 5000
        pools._seen(ReplicaView("eu", "p", "r", False, "replica unreachable"))
        assert "eu" not in pools._replayed  # it may come back rewound: nothing it replayed before holds
        pools._seen(ReplicaView("eu", "p", "r", True, "ok", replayed_lsn=4000))
        assert pools._replayed["eu"] == 4000
    finally:
        pools.close()


def test_one_shot_lag_counts_an_idle_caught_up_primary_as_no_lag():
    assert one_shot_lag_s(primary(lsn=1000), replica(lsn=1000, age=3600.0)) == 0.0
    assert one_shot_lag_s(primary(lsn=1000, replay_lag_s=0.3), replica(lsn=900, age=2.0)) == 2.0
    assert one_shot_lag_s(primary(lsn=1000), DOWN) is None


def test_a_commit_the_synchronous_replica_never_confirmed_is_not_acknowledged():
    class Conn:
        notices = ["WARNING:  canceling wait for synchronous replication due to user request\n"]

    conn = Conn()
    with pytest.raises(ShardUnavailable) as caught:
        _refuse_unconfirmed_commit("eu", conn)
    assert "did not confirm" in str(caught.value) and conn.notices == []
    _refuse_unconfirmed_commit("eu", conn)  # nothing pending: nothing raised
