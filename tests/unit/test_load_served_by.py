"""loaddriver.served_by: shard reads served by a replica or the primary, per shard and overall, from each
call's x-served-by trailer; and their place in the run's summary."""
from __future__ import annotations

from loaddriver import served_by, stats
from tests.unit.test_load_stats import call


def reading(seq, trailer, warmup=False, code="OK"):
    return call(seq, rpc="GetUser", code=code, warmup=warmup) | {"served_by": trailer}


def test_roles_of_a_trailer():
    assert served_by.roles("eu:primary,na:replica") == {"eu": "primary", "na": "replica"}
    assert served_by.roles("") == {}
    assert served_by.roles("eu:leader, na:replica,apac") == {"na": "replica"}


def test_shard_reads_are_counted_per_shard_and_overall():
    calls = [reading(1, "eu:replica"), reading(2, "eu:replica"), reading(3, "eu:primary"),
             reading(4, "eu:primary,na:replica"), reading(5, ""), call(6, rpc="CreateContent"),
             reading(7, "na:replica", code="NOT_FOUND")]
    section = served_by.served_by(calls)
    assert section["calls"] == 5
    assert (section["shard_reads"], section["replica"], section["primary"]) == (6, 4, 2)
    assert section["replica_rate"] == 4 / 6
    assert list(section["by_shard"]) == ["eu", "na"]  # most reads first
    assert section["by_shard"]["eu"] == {"shard_reads": 4, "replica": 2, "primary": 2, "replica_rate": 0.5}
    assert section["by_shard"]["na"] == {"shard_reads": 2, "replica": 2, "primary": 0, "replica_rate": 1.0}


def test_no_reads_have_no_replica_rate():
    section = served_by.served_by([call(1)])
    assert section == {"calls": 0, "shard_reads": 0, "replica": 0, "primary": 0, "replica_rate": None,
                       "by_shard": {}}
    assert served_by.headline(section) == "reads served by replicas: none (no call reported a shard read)"


def test_the_summary_counts_served_reads_without_the_warmup():
    calls = [reading(1, "eu:replica"), reading(2, "eu:primary"), reading(3, "eu:replica"),
             reading(0, "eu:primary", warmup=True)]
    section = stats.summarize(calls, {"duration_s": 1.0, "options": {}})["served_by"]
    assert (section["shard_reads"], section["replica"], section["primary"]) == (3, 2, 1)
    assert served_by.headline(section) == "reads served by replicas: 66.7% (2 of 3 shard reads)"
