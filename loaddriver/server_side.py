"""The server-side view of a run (per-shard latency, pool waits, replica lag, shed calls), to be scraped from
the services' metrics endpoints before and after it. No process exports metrics yet, so nothing is scraped:
the summary and the report say "not collected" rather than show figures the driver cannot know."""
from __future__ import annotations

from collections.abc import Sequence

NOT_COLLECTED = ("Not collected: the services export no metrics endpoint yet. Once they do, list the "
                 "endpoints here and the figures scraped before and after the run fill this section.")


def collect(endpoints: Sequence[str] = ()) -> dict:
    """The summary's "server_side" entry. The hook for the metrics work: scrape each endpoint before the
    run and after it and put the differences in "figures" ({section: {name: value}}), which the report's
    server-side section prints as tables."""
    return {"endpoints": list(endpoints), "figures": None, "note": NOT_COLLECTED}
