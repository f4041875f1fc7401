"""The first page: the verdict in one line, the totals, and what ran (options, versions, cluster shape)."""
from __future__ import annotations

from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from loaddriver.report import fmt
from loaddriver.report.styles import BAD_BG, BAD_FG, FRAME_WIDTH, OK_BG, OK_FG, WARN_FG, styles
from loaddriver.report.tables import data_table, key_values


def headline(summary: dict) -> tuple[bool, str]:
    """(passed, the verdict in one sentence)."""
    verdict, totals = summary["verdict"], summary["totals"]
    if verdict["passed"]:
        return True, (f"PASSED: all {totals['calls']:,} calls behaved as expected "
                      f"({totals['successes']:,} successes, {totals['expected_rejections']:,} expected rejections)")
    return False, "FAILED: " + "; ".join(verdict["failures"])


def _banner(summary: dict) -> Table:
    passed, sentence = headline(summary)
    colour = OK_FG if passed else BAD_FG
    lines = [Paragraph(fmt.text(sentence), styles()["banner"].clone("banner_now", textColor=colour))]
    if summary["run"].get("interrupted"):
        lines.append(Paragraph("The run was interrupted (Ctrl-C): these are the results of what ran before it "
                               "stopped.", styles()["body"].clone("banner_note", textColor=colour)))
    banner = Table([[lines]], colWidths=[FRAME_WIDTH])
    banner.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), OK_BG if passed else BAD_BG),
        ("LINEBEFORE", (0, 0), (0, -1), 4, colour),
        ("TOPPADDING", (0, 0), (-1, -1), 8), ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
        ("LEFTPADDING", (0, 0), (-1, -1), 10)]))
    return banner


def _with_share(part: int, whole: int) -> str:
    """'1,234 (12.34%)': a count and its share of all calls."""
    return fmt.count(part) + (f" ({fmt.rate(part / whole)})" if whole else "")


def _totals(summary: dict) -> list[tuple[str, str]]:
    totals, latency = summary["totals"], summary["latency"]["ok"]
    return [
        ("Calls measured", fmt.count(totals["calls"])),
        ("Duration (measured part)", fmt.seconds(summary["run"].get("duration_s"))),
        ("Successes", _with_share(totals["successes"], totals["calls"])),
        ("Throughput, all calls", fmt.per_second(summary["throughput"])),
        ("Expected rejections", _with_share(totals["expected_rejections"], totals["calls"])),
        ("Throughput, OK calls", fmt.per_second(summary["ok_throughput"])),
        ("Unexpected outcomes", _with_share(totals["unexpected"], totals["calls"])),
        ("Latency of OK calls, p50 / p99", f"{fmt.ms(latency['p50'])} / {fmt.ms(latency['p99'])} ms"),
        ("Valid calls that succeeded", fmt.rate(summary["valid_success_rate"])),
        ("Calls that behaved as expected", fmt.rate(summary["as_expected_rate"])),
        ("Warm-up calls (not counted)", fmt.count(totals["warmup_calls"])),
        ("Success rate, all calls", fmt.rate(summary["success_rate"])),
    ] + _truth(summary)


def _truth(summary: dict) -> list[tuple[str, str]]:
    """The achieved rate against the target and the driver's CPU, when the run has them."""
    pairs = []
    rate, cpu = summary.get("rate"), summary.get("driver")
    if rate:
        pairs += [("Target rate (--rps)", fmt.per_second(rate["target_rps"])),
                  ("Achieved rate", f"{fmt.per_second(rate['achieved_rps'])} ({rate['ratio']:.0%} of the due calls)")]
        scheduled = summary["latency"]["ok_from_schedule"]
        pairs.append(("p99 of OK calls from the schedule", f"{fmt.ms(scheduled['p99'])} ms"))
    if cpu and cpu["cpu_ms_per_call"] is not None:
        pairs.append(("Driver CPU per call", f"{fmt.ms(cpu['cpu_ms_per_call'])} ms ({fmt.rate(cpu['core_share'])} "
                                             "of one core)"))
    return pairs


def _warnings(summary: dict) -> list[Flowable]:
    found = summary.get("warnings") or []
    if not found:
        return []
    s = styles()
    return [Paragraph("Warnings", s["h2"])] + [Paragraph("• " + fmt.text(w), s["body"].clone("warning",
                                                         textColor=WARN_FG)) for w in found]


def _cluster(run: dict) -> list[Flowable]:
    cluster = run.get("cluster") or {}
    shards = cluster.get("shards") or {}
    story = [key_values([("Gateway", fmt.text(cluster.get("gateway")))], columns=1)]
    if shards:
        story += [Spacer(1, 4), data_table(["Shard", "Regions"], [[fmt.text(n), fmt.text(r)] for n, r in
                                                                  shards.items()], widths=[80, 300])]
    return story


def summary_page(run: dict, summary: dict) -> list[Flowable]:
    s = styles()
    tags = ", ".join(run.get("tags") or []) or "none"
    subtitle = (f"started {fmt.text(run.get('started_at'))} · finished {fmt.text(run.get('finished_at'))} · "
                f"tags: {fmt.text(tags)}")
    options = sorted((run.get("options") or {}).items())
    versions = sorted((run.get("versions") or {}).items())
    return [
        Paragraph(f"Load report: {fmt.text(run.get('name') or 'unnamed run')}", s["title"]),
        Paragraph(subtitle, s["subtitle"]),
        _banner(summary),
        *_warnings(summary),
        Paragraph("Results", s["h2"]),
        key_values(_totals(summary), columns=2),
        Paragraph("Expected rejections are deliberately invalid requests that got the status they should; an "
                  "unexpected outcome is a wrong status, an accepted invalid request or an error on a valid "
                  "request. Warm-up calls are left out of every figure.", s["note"]),
        Paragraph("Options", s["h2"]),
        key_values([(key, fmt.text(value)) for key, value in options], columns=2),
        Paragraph("Versions", s["h2"]),
        key_values([(key, fmt.text(value)) for key, value in versions], columns=2),
        Paragraph("Cluster", s["h2"]),
        *_cluster(run),
    ]
