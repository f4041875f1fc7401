"""The SQL ID generator (sql/migrations/0011) and shared/ids.py agree, on every shard and at the far end of
the layout: IDs made in 2100 are positive and ordered, and an instant past the layout is refused."""
from __future__ import annotations

import time

import psycopg2
import pytest

from shared import ids

SHARDS = ("na", "eu", "apac")
LAST_OF_2100 = "2100-12-31 23:59:59.999+00"


@pytest.mark.parametrize("shard", SHARDS)
def test_next_id_names_its_shard_and_the_current_millisecond(cluster, shard):
    before_ms = int(time.time() * 1000)
    [(first,), (second,)] = cluster.query(shard, "primary", "SELECT next_id() FROM generate_series(1, 2)")
    after_ms = int(time.time() * 1000)
    decoded = ids.decode(first)
    assert decoded.shard_number == cluster.settings().shard_map.by_name(shard).number
    assert before_ms - 5 <= decoded.created_ms <= after_ms + 5
    assert second > first


def test_sql_and_python_agree_at_the_end_of_2100(cluster):
    [(late, earlier, last, now)] = cluster.query("na", "primary", (
        "SELECT id_from_parts(%(t)s, 2047, 1023), id_from_parts(%(t)s::timestamptz - interval '1 ms', 2047, 1023),"
        " id_from_parts(%(last)s, 2047, 1023), next_id()"),
        {"t": LAST_OF_2100, "last": ids.decode((1 << 63) - 1).created_at.isoformat()})
    assert late == ids.encode(4133980799999, ids.MAX_SHARD_NUMBER, ids.MAX_SEQUENCE)
    assert 0 < now < earlier < late < last == (1 << 63) - 1


@pytest.mark.parametrize("instant", ["2024-12-31 23:59:59+00", "2164-05-16 00:00:00+00"])
def test_sql_refuses_an_instant_outside_the_layout(cluster, instant):
    with pytest.raises(psycopg2.errors.RaiseException, match="outside the ID layout"):
        cluster.query("eu", "primary", "SELECT id_from_parts(%s, 1, 1)", (instant,))
