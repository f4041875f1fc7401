"""Which node served the reads: the x-served-by trailer of each call, counted per shard and overall.

The trailer names the role of the node that served each shard a call read ("eu:replica" or
"eu:primary,na:replica"), so a call that read two shards makes two shard reads. Calls that read no
PostgreSQL shard (content calls, say) have no trailer and count for nothing here.
"""
from __future__ import annotations

from collections import Counter, defaultdict

ROLES = ("replica", "primary")


def roles(trailer: str) -> dict[str, str]:
    """"eu:primary,na:replica" → {"eu": "primary", "na": "replica"}; a part with another role is left out."""
    found = {}
    for part in filter(None, (p.strip() for p in trailer.split(","))):
        shard, _sep, role = part.partition(":")
        if shard and role in ROLES:
            found[shard] = role
    return found


def _counts(by_role: Counter) -> dict:
    reads = by_role["replica"] + by_role["primary"]
    return {"shard_reads": reads, "replica": by_role["replica"], "primary": by_role["primary"],
            "replica_rate": by_role["replica"] / reads if reads else None}


class ServedBy:
    """The served-by counts of a run, one call at a time (memory bounded by the number of shards)."""

    def __init__(self) -> None:
        self.overall: Counter = Counter()
        self.per_shard: dict[str, Counter] = defaultdict(Counter)
        self.reading_calls = 0

    def add(self, trailer: str) -> None:
        found = roles(trailer or "")
        self.reading_calls += bool(found)
        for shard, role in found.items():
            self.overall[role] += 1
            self.per_shard[shard][role] += 1

    def summary(self) -> dict:
        """Shard reads served by a replica and by the primary, overall and per shard (most reads first), and
        the share served by replicas (replica_rate, None without reads); `calls` counts the calls that read."""
        ordered = sorted(self.per_shard.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        return {"calls": self.reading_calls, **_counts(self.overall),
                "by_shard": {shard: _counts(counts) for shard, counts in ordered}}


def served_by(calls: list[dict]) -> dict:
    """ServedBy's summary of a list of call records."""
    counter = ServedBy()
    for call in calls:
        counter.add(call.get("served_by") or "")
    return counter.summary()


def headline(section: dict) -> str:
    """One line for the end of a run: 'reads served by replicas: 83.1% (1234 of 1485 shard reads)'."""
    if not section["shard_reads"]:
        return "reads served by replicas: none (no call reported a shard read)"
    return (f"reads served by replicas: {section['replica_rate']:.1%} "
            f"({section['replica']} of {section['shard_reads']} shard reads)")
