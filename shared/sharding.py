"""The region → shard map and the ID → shard lookup: the one place that decides where a row lives."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared import ids
from shared.errors import InvalidArgument

REGIONS = ("NORTH_AMERICA", "SOUTH_AMERICA", "EUROPE", "AFRICA", "ASIA", "OCEANIA")


@dataclass(frozen=True)
class Shard:
    """One shard: a PostgreSQL primary with a streaming replica, plus its MongoDB database."""

    name: str
    number: int
    regions: tuple[str, ...]
    primary_dsn: str
    replica_dsn: str
    mongo_uri: str = ""
    mongo_db: str = ""


class ShardMap:
    """Looks up shards by name, region, number or resource ID. Built once from settings."""

    def __init__(self, shards: tuple[Shard, ...]):
        if not shards:
            raise ValueError("the shard map is empty")
        self.shards = tuple(sorted(shards, key=lambda s: s.number))
        self._by_name = {s.name: s for s in self.shards}
        self._by_number = {s.number: s for s in self.shards}
        self._by_region: dict[str, Shard] = {}
        for shard in self.shards:
            if not 0 < shard.number <= ids.MAX_SHARD_NUMBER:
                raise ValueError(f"shard {shard.name}: number {shard.number} out of range")
            for region in shard.regions:
                if region not in REGIONS:
                    raise ValueError(f"shard {shard.name}: unknown region {region}")
                if region in self._by_region:
                    raise ValueError(f"region {region} is mapped to two shards")
                self._by_region[region] = shard
        if len(self._by_name) != len(self.shards) or len(self._by_number) != len(self.shards):
            raise ValueError("shard names and numbers must be unique")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.shards)

    def by_name(self, name: str) -> Shard:
        return self._by_name[name]

    def for_region(self, region: str, field: str = "region") -> Shard:
        """The shard that holds `region`; INVALID_ARGUMENT naming `field` when it is unset or unknown."""
        if not region or region == "REGION_UNSPECIFIED":
            raise InvalidArgument(field, "is required (one of " + ", ".join(REGIONS) + ")")
        try:
            return self._by_region[region]
        except KeyError:
            raise InvalidArgument(field, f"unknown region {region!r}") from None

    def for_id(self, id_: int, field: str = "id") -> Shard:
        """The home shard encoded in a resource ID; INVALID_ARGUMENT naming `field` when malformed."""
        try:
            number = ids.shard_number(id_)
        except ValueError as exc:
            raise InvalidArgument(field, str(exc)) from None
        try:
            return self._by_number[number]
        except KeyError:
            raise InvalidArgument(field, f"ID {id_} names no known shard (shard number {number})") from None

    def for_document_id(self, doc_id: str, field: str = "id") -> tuple[Shard, str]:
        """The home shard and ObjectId hex of a MongoDB document ID (`shared.ids.document_id`)."""
        try:
            number, object_id = ids.decode_document_id(doc_id)
        except ValueError as exc:
            raise InvalidArgument(field, str(exc)) from None
        try:
            return self._by_number[number], object_id
        except KeyError:
            raise InvalidArgument(field, f"ID {doc_id} names no known shard (shard number {number})") from None

    def for_key(self, key: str) -> Shard:
        """A stable shard for a key that has no region (the global email directory): hash mod shard count.

        Changing the number of shards moves keys; such a change needs a directory migration.
        """
        digest = hashlib.sha256(key.encode()).digest()
        return self.shards[int.from_bytes(digest[:8], "big") % len(self.shards)]
