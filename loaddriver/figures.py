"""The figures that say whether a run's numbers can be trusted: the rate achieved against the --rps target,
the driver's own CPU per call, and warnings where a percentile rests on too few samples."""
from __future__ import annotations

from loaddriver.histogram import min_samples
from loaddriver.pacing import due

DEFAULT_MIN_RATE_RATIO = 0.9
# Above this share of one core the driver itself (Python holds the GIL) may be what limits the rate.
BUSY_CORE_SHARE = 0.8


def rate(options: dict, calls: int, last_start_s: float | None, first_slot_s: float | None = None) -> dict | None:
    """In a --rps run: the calls that were due from the first measured call's slot (`first_slot_s`; the end of
    the warm-up when not given) to the last measured send, how many of them went out (ratio), the achieved
    and target rates, and whether the ratio is below --min-rate-ratio (missed). None without --rps.

    Counting from the first measured slot keeps a backlog left by the warm-up in both the calls due and the
    calls sent, so a run that is still behind cannot pass by sending its backlog fast."""
    rps = options.get("rps") or 0.0
    if rps <= 0:
        return None
    ramp_s, warmup_s = options.get("ramp_s") or 0.0, options.get("warmup_s") or 0.0
    min_ratio = options.get("min_rate_ratio")
    min_ratio = DEFAULT_MIN_RATE_RATIO if min_ratio is None else min_ratio
    if last_start_s is None or not calls:
        return {"target_rps": rps, "achieved_rps": 0.0, "due_calls": 0, "sent_calls": 0, "ratio": 0.0,
                "min_ratio": min_ratio, "missed": True}
    # A slot k is due at slot_time(k); the calls sent by the last send cover one slot interval each.
    span = max(last_start_s - warmup_s, 0.0) + 1 / rps
    window_start = warmup_s if first_slot_s is None else min(first_slot_s, warmup_s)
    due_calls = due(last_start_s, rps, ramp_s) - due(window_start - 1e-9, rps, ramp_s)
    ratio = min(1.0, calls / due_calls) if due_calls > 0 else 1.0
    return {"target_rps": rps, "achieved_rps": calls / span, "due_calls": due_calls, "sent_calls": calls,
            "ratio": ratio, "min_ratio": min_ratio, "missed": ratio < min_ratio}


def driver_cpu(driver: dict) -> dict | None:
    """CPU time of the driver's process (all threads, gRPC's own included) per call and as a share of one
    core over the run; None when the driver did not measure it."""
    cpu_s, calls, wall_s = driver.get("cpu_s"), driver.get("calls"), driver.get("wall_s")
    if cpu_s is None or not wall_s:
        return None
    return {"cpu_s": cpu_s, "calls": calls, "wall_s": wall_s,
            "cpu_ms_per_call": cpu_s / calls * 1000 if calls else None, "core_share": cpu_s / wall_s}


def warnings(summary: dict) -> list[str]:
    """Sentences for the report and the JSON: percentiles from too few samples, a busy driver, and a list
    of unexpected outcomes cut short."""
    found = []
    for key, label in (("ok", "OK calls"), ("all", "all calls")):
        stats = summary["latency"][key]
        for name in stats["thin"]:
            need = min_samples(name[1:])
            found.append(f"{name} of {label} rests on {stats['count']:,} samples (fewer than {need:,}): it is "
                         f"the slowest call or near it, not an estimate of the {name} latency")
    thin_rpcs = sorted({name for e in summary["per_rpc"].values() for name in e["latency_ok"]["thin"]},
                       key=lambda n: float(n[1:]))
    if thin_rpcs:
        found.append(f"per RPC, {', '.join(thin_rpcs)} rest on too few samples for some RPCs (marked † in "
                     "the tables)")
    cpu = summary.get("driver")
    if cpu and cpu["core_share"] >= BUSY_CORE_SHARE:
        found.append(f"the driver itself used {cpu['core_share']:.0%} of one core: the client (Python's GIL) may "
                     "be what limits the rate, not the system under test")
    kept, unexpected = len(summary["unexpected"]), summary["totals"]["unexpected"]
    if unexpected > kept:
        found.append(f"the JSON lists the first {kept:,} of {unexpected:,} unexpected outcomes; the CSV has them all")
    return found
