"""The distribution page: outcomes per RPC, calls and rows per region and per shard, reads served by replicas
and primaries, status codes, error reasons, and the per-worker counts and latencies (the thread analysis)."""
from __future__ import annotations

from reportlab.platypus import Flowable, Paragraph

from loaddriver.report import fmt
from loaddriver.report.styles import styles
from loaddriver.report.tables import BAD, OK, data_table
from loaddriver.stats import NO_VALUE

_PLACEMENT = ["calls", "OK", "not OK", "new rows"]


def _outcomes_table(summary: dict) -> Flowable:
    rows, marks = [], []
    for rpc, entry in summary["per_rpc"].items():
        rows.append([fmt.text(rpc)] + [fmt.count(entry[k]) for k in
                                       ("calls", "successes", "expected_rejections", "unexpected")])
        marks.append(BAD if entry["unexpected"] else None)
    return data_table(["RPC", "calls", "successes", "expected rejections", "unexpected"], rows,
                      widths=[130, 70, 70, 90, 70], right=(1, 2, 3, 4), marks=marks)


def _placement_rows(counts: dict, names: list[str]) -> list[list[str]]:
    """One row per name: the names of the cluster first (zeros when unused), then any others that came back."""
    ordered = names + [n for n in counts if n not in names]
    empty = {"calls": 0, "ok": 0, "not_ok": 0, "rows": 0}
    return [[n] + [fmt.count(counts.get(n, empty)[k]) for k in ("calls", "ok", "not_ok", "rows")] for n in ordered]


def _placement_tables(run: dict, summary: dict) -> list[Flowable]:
    shards = (run.get("cluster") or {}).get("shards") or {}
    shard_of = {region: shard for shard, regions in shards.items() for region in regions}
    regions = _placement_rows(summary["by_region"], list(shard_of))
    for row in regions:
        row.insert(1, fmt.text(shard_of.get(row[0], NO_VALUE if row[0] == NO_VALUE else "?")))
    by_shard = _placement_rows(summary["by_shard"], list(shards))
    for row in by_shard:
        row.insert(1, fmt.text(shards.get(row[0], [])))
    s = styles()
    return [
        Paragraph("Per region", s["h2"]),
        data_table(["region", "shard"] + _PLACEMENT, [[fmt.text(r[0])] + r[1:] for r in regions],
                   widths=[110, 60, 65, 65, 65, 65], right=(2, 3, 4, 5)),
        Paragraph("Per shard (from the gateway's x-shard trailer)", s["h2"]),
        data_table(["shard", "regions"] + _PLACEMENT, [[fmt.text(r[0])] + r[1:] for r in by_shard],
                   widths=[60, 170, 60, 60, 60, 60], right=(2, 3, 4, 5)),
        Paragraph("New rows are successful calls that insert (every RPC but Update*, Get*, List* and Delete*). "
                  "“any” is the gateway's mark for a call it could send to any shard.", s["note"]),
    ]


def _served_by_row(label: str, counts: dict) -> list[str]:
    return [fmt.text(label)] + [fmt.count(counts[k]) for k in ("shard_reads", "replica", "primary")] + [
        fmt.rate(counts["replica_rate"])]


def _served_by_table(run: dict, summary: dict) -> list[Flowable]:
    section = summary["served_by"]
    shards = list((run.get("cluster") or {}).get("shards") or {})
    empty = {"shard_reads": 0, "replica": 0, "primary": 0, "replica_rate": None}
    names = shards + [n for n in section["by_shard"] if n not in shards]
    rows = [_served_by_row(n, section["by_shard"].get(n, empty)) for n in names]
    rows.append(_served_by_row("all shards", section))
    s = styles()
    return [
        Paragraph("Reads served by (from the services' x-served-by trailer)", s["h2"]),
        data_table(["shard", "shard reads", "replica", "primary", "replica share"], rows,
                   widths=[110, 70, 70, 70, 80], right=(1, 2, 3, 4), bold_last=True),
        Paragraph(f"{section['calls']:,} calls read PostgreSQL; a call that read two shards makes two shard reads. "
                  "Every call sends the run's session token (x-min-lsn), so a replica serves a read only once it "
                  "has replayed the run's earlier commits on that shard; otherwise the primary does.", s["note"]),
    ]


def _codes_tables(summary: dict) -> list[Flowable]:
    calls = summary["totals"]["calls"]
    codes, marks = [], []
    for code, entry in summary["by_code"].items():
        codes.append([fmt.text(code), fmt.count(entry["calls"]), fmt.rate(entry["calls"] / calls),
                      fmt.count(entry["unexpected"])])
        marks.append(BAD if entry["unexpected"] else OK if code == "OK" else None)
    reasons = [[fmt.text(r), fmt.count(n), fmt.rate(n / calls)] for r, n in summary["by_reason"].items()]
    s = styles()
    return [
        Paragraph("Status codes", s["h2"]),
        data_table(["status", "calls", "share", "of which unexpected"], codes, widths=[150, 70, 70, 110],
                   right=(1, 2, 3), marks=marks),
        Paragraph("Error reasons (google.rpc.ErrorInfo)", s["h2"]),
        data_table(["reason", "calls", "share"], reasons, widths=[220, 70, 70], right=(1, 2)) if reasons
        else Paragraph("No error carried an ErrorInfo reason.", s["note"]),
    ]


def _workers_table(summary: dict) -> list[Flowable]:
    workers = summary["by_worker"]
    s = styles()
    if not workers:
        return [Paragraph("Workers", s["h2"]), Paragraph("No calls were measured.", s["note"])]
    rows = [[fmt.text(w), fmt.count(e["calls"]), fmt.count(e["ok"]), fmt.ms(e["p50"]), fmt.ms(e["p99"])]
            for w, e in workers.items()]
    counts = [e["calls"] for e in workers.values()]
    p99s = [e["p99"] for e in workers.values()]
    header = ["worker", "calls", "OK", "p50 ms", "p99 ms"]
    half = (len(rows) + 1) // 2
    if len(rows) > 12:
        # Side by side, so that 64 workers still fit on one page.
        right_half = rows[half:] + [[""] * 5] * (2 * half - len(rows))
        rows, header = [a + b for a, b in zip(rows[:half], right_half, strict=False)], header * 2
    return [
        Paragraph("Workers (thread analysis)", s["h2"]),
        Paragraph(f"{len(counts)} workers; the busiest made {max(counts):,} calls, the least busy {min(counts):,}; "
                  f"their p99 ranges from {fmt.ms(min(p99s))} to {fmt.ms(max(p99s))} ms.", s["body"]),
        data_table(header, rows, widths=[40, 50, 50, 50, 50] * (len(header) // 5),
                   right=tuple(i for i in range(len(header)) if i % 5)),
    ]


def distribution_page(run: dict, summary: dict) -> list[Flowable]:
    return [Paragraph("Distribution", styles()["h1"]), Paragraph("Outcomes per RPC", styles()["h2"]),
            _outcomes_table(summary), *_placement_tables(run, summary), *_served_by_table(run, summary),
            *_codes_tables(summary),
            *_workers_table(summary)]
