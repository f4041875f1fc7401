"""What a seed run made, per shard, counted from the API's answers (each ID names its shard), and its table."""
from __future__ import annotations

import threading
from collections import Counter

KINDS = ("users", "categories", "courses", "modules", "lessons", "enrollments", "lesson progress",
         "payment methods", "payments", "invoices", "content items", "preferences")


class Tally:
    """Thread-safe counts of made rows, by shard and kind."""

    def __init__(self, shard_names: tuple[str, ...]):
        self.shard_names = shard_names
        self._counts = {name: Counter() for name in shard_names}
        self._lock = threading.Lock()

    def add(self, shard: str, kind: str, n: int = 1) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        with self._lock:
            self._counts[shard][kind] += n

    def add_everywhere(self, kind: str, n: int = 1) -> None:
        """Reference data (categories) is written to every shard."""
        for shard in self.shard_names:
            self.add(shard, kind, n)

    def per_shard(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {shard: {kind: counts[kind] for kind in KINDS} for shard, counts in self._counts.items()}


def render(per_shard: dict[str, dict[str, int]]) -> str:
    """Kinds down, shards across, with a total column (categories count once per shard: they are copied)."""
    shards = list(per_shard)
    width = max(6, *(len(s) for s in shards))
    lines = [f"{'made':<16}" + "".join(f"{s:>{width + 2}}" for s in shards) + f"{'total':>{width + 2}}"]
    for kind in KINDS:
        values = [per_shard[s][kind] for s in shards]
        lines.append(f"{kind:<16}" + "".join(f"{v:>{width + 2}}" for v in values) + f"{sum(values):>{width + 2}}")
    return "\n".join(lines)
