"""shared.sharding: the region → shard map and the ID → shard lookup."""
from collections import Counter

import pytest

from shared import ids
from shared.errors import InvalidArgument
from shared.sharding import Shard, ShardMap


def shard(name, number, *regions):
    return Shard(name=name, number=number, regions=regions, primary_dsn=f"dsn-{name}", replica_dsn=f"dsn-{name}-r")


@pytest.mark.parametrize("region, expected", [
    ("NORTH_AMERICA", "na"), ("SOUTH_AMERICA", "na"), ("EUROPE", "eu"), ("AFRICA", "eu"),
    ("ASIA", "apac"), ("OCEANIA", "apac")])
def test_default_map(shard_map, region, expected):
    assert shard_map.for_region(region).name == expected


def test_default_map_names_and_numbers(shard_map):
    assert shard_map.names == ("na", "eu", "apac")
    assert [s.number for s in shard_map.shards] == [1, 2, 3]


@pytest.mark.parametrize("region", ["", "REGION_UNSPECIFIED"])
def test_for_region_unset_names_the_field(shard_map, region):
    with pytest.raises(InvalidArgument) as err:
        shard_map.for_region(region, field="user.region")
    assert err.value.violations[0].field == "user.region"
    assert "is required" in err.value.violations[0].description


def test_for_region_unknown(shard_map):
    with pytest.raises(InvalidArgument) as err:
        shard_map.for_region("ANTARCTICA")
    assert (err.value.violations[0].field, err.value.violations[0].description) == (
        "region", "unknown region 'ANTARCTICA'")


def test_for_id_reads_the_shard_bits(shard_map):
    assert shard_map.for_id(ids.encode(ids.EPOCH_MS + 10, 2, 5)).name == "eu"
    assert shard_map.for_id(ids.encode(ids.EPOCH_MS + 10, 3, 5)).name == "apac"


@pytest.mark.parametrize("bad", [0, -7])
def test_for_id_malformed(shard_map, bad):
    with pytest.raises(InvalidArgument) as err:
        shard_map.for_id(bad, field="user.id")
    assert err.value.violations[0].field == "user.id"


def test_for_id_unknown_shard_number(shard_map):
    with pytest.raises(InvalidArgument) as err:
        shard_map.for_id(ids.encode(ids.EPOCH_MS + 10, 9, 1))
    assert err.value.violations[0].field == "id"
    assert "shard number 9" in err.value.violations[0].description


def test_for_key_is_stable_and_spread(shard_map):
    emails = [f"user{i}@example.com" for i in range(300)]
    first = [shard_map.for_key(e).name for e in emails]
    assert first == [shard_map.for_key(e).name for e in emails]
    counts = Counter(first)
    assert set(counts) == {"na", "eu", "apac"}
    assert min(counts.values()) > 60  # about 100 each


@pytest.mark.parametrize("shards, message", [
    ((shard("a", 1, "EUROPE"), shard("b", 2, "EUROPE")), "region EUROPE is mapped to two shards"),
    ((shard("a", 1, "EUROPE"), shard("a", 2, "ASIA")), "names and numbers must be unique"),
    ((shard("a", 1, "EUROPE"), shard("b", 1, "ASIA")), "names and numbers must be unique"),
    ((shard("a", 1, "ATLANTIS"),), "unknown region ATLANTIS"),
    ((shard("a", 0, "EUROPE"),), "out of range"),
    ((shard("a", ids.MAX_SHARD_NUMBER + 1, "EUROPE"),), "out of range"),
    ((), "empty"),
])
def test_constructor_rejects_bad_maps(shards, message):
    with pytest.raises(ValueError, match=message):
        ShardMap(shards)


def test_moving_a_region_is_just_config():
    moved = ShardMap((shard("na", 1, "NORTH_AMERICA"), shard("eu", 2, "EUROPE", "AFRICA", "SOUTH_AMERICA"),
                      shard("apac", 3, "ASIA", "OCEANIA")))
    assert moved.for_region("SOUTH_AMERICA").name == "eu"


def test_a_fourth_shard_is_just_config():
    four = ShardMap((shard("na", 1, "NORTH_AMERICA", "SOUTH_AMERICA"), shard("eu", 2, "EUROPE"),
                     shard("apac", 3, "ASIA", "OCEANIA"), shard("af", 4, "AFRICA")))
    assert four.for_region("AFRICA").name == "af"
    assert four.for_id(ids.encode(ids.EPOCH_MS + 1, 4, 1)).name == "af"
    assert {four.for_key(f"k{i}").name for i in range(200)} == {"na", "eu", "apac", "af"}


def test_shards_sorted_by_number_whatever_the_config_order():
    m = ShardMap((shard("z", 3, "ASIA"), shard("y", 1, "EUROPE")))
    assert m.names == ("y", "z")
    assert m.by_name("z").primary_dsn == "dsn-z"
