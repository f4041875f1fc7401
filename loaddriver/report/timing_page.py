"""The timing page: the rate achieved against the --rps target, latency from the send beside latency from the
schedule (coordinated omission), latency over time, the percentile curve, the driver's own CPU, and the
server-side figures (when the services export them)."""
from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether, Paragraph

from loaddriver.report import fmt
from loaddriver.report.latency_charts import latency_over_time_chart, percentile_curve_chart
from loaddriver.report.styles import styles
from loaddriver.report.tables import BAD, OK, data_table, key_values
from loaddriver.stats import PERCENTILES
from loaddriver.timeline import MAX_SLOTS

THIN = "†"  # after a percentile that rests on too few samples (see the warnings)
_LATENCY_ROWS = (("ok", "OK calls, from the send"), ("ok_from_schedule", "OK calls, from the schedule"),
                 ("all", "all calls, from the send"), ("all_from_schedule", "all calls, from the schedule"))


def percentile_cell(stats: dict, name: str) -> str:
    """A percentile in ms, marked with THIN when it rests on too few samples."""
    return fmt.ms(stats[name]) + (f"\u00a0{THIN}" if name in stats.get("thin", ()) else "")


def _rate(summary: dict) -> list[Flowable]:
    s, rate = styles(), summary["rate"]
    if not rate:
        return [Paragraph("No --rps target: each worker sent its next call as soon as the last one returned (a "
                          "closed loop), so there is no schedule to time from. Such latency understates what "
                          "callers arriving at a steady rate would see when the system slows down.", s["note"])]
    colour = BAD if rate["missed"] else OK
    return [
        data_table(["target", "achieved", "calls due", "calls sent", "ratio", "--min-rate-ratio"],
                   [[fmt.per_second(rate["target_rps"]), fmt.per_second(rate["achieved_rps"]),
                     fmt.count(rate["due_calls"]), fmt.count(rate["sent_calls"]), f"{rate['ratio']:.2f}",
                     f"{rate['min_ratio']:.2f}"]], widths=[80] * 6, right=tuple(range(6)), marks=[colour]),
        Paragraph("Calls due are the slots of the schedule from the first measured call's slot (before the end "
                  "of the warm-up when it left a backlog) to the last send; a ratio below --min-rate-ratio fails "
                  "the run. A call that went out late is timed from its slot "
                  "too: its wait for a free worker is part of its latency from the schedule.", s["note"]),
    ]


def _latency_table(summary: dict) -> Flowable:
    names = [name for name, _p in PERCENTILES]
    rows = [[fmt.text(label), fmt.count(summary["latency"][key]["count"])]
            + [percentile_cell(summary["latency"][key], n) for n in names] + [fmt.ms(summary["latency"][key]["max"])]
            for key, label in _LATENCY_ROWS if summary["latency"][key]["count"]]
    return data_table(["calls timed", "calls"] + names + ["max"], rows, widths=[130, 50] + [50] * (len(names) + 1),
                      right=tuple(range(1, len(names) + 3)))


def _cpu(summary: dict) -> list[Flowable]:
    s, cpu = styles(), summary["driver"]
    if not cpu:
        return [Paragraph("The driver's CPU time was not measured.", s["note"])]
    return [key_values([("CPU time (user + system)", fmt.seconds(cpu["cpu_s"])),
                        ("CPU per call", f"{fmt.ms(cpu['cpu_ms_per_call'])} ms"),
                        ("Calls (warm-up included)", fmt.count(cpu["calls"])),
                        ("Share of one core", fmt.rate(cpu["core_share"]))], columns=2),
            Paragraph("The driver's whole process, gRPC's own threads included. Python runs one thread at a time, "
                      "so a share near 100% of one core means the driver itself may be what limits the rate.",
                      s["note"])]


def _server_side(summary: dict) -> list[Flowable]:
    s, section = styles(), summary.get("server_side") or {}
    if not section.get("figures"):
        return [Paragraph(fmt.text(section.get("note") or "Not collected."), s["body"])]
    story = []
    for name, figures in section["figures"].items():
        story += [Paragraph(fmt.text(name), s["h2"]),
                  data_table(["figure", "value"], [[fmt.text(k), fmt.text(v)] for k, v in figures.items()],
                             widths=[150, 330])]
    return story


def timing_page(summary: dict) -> list[Flowable]:
    s = styles()
    timeline, curve = summary["timeline"], summary["percentile_curve"]
    has_curve = any(v is not None for v in curve["from_send"])
    return [
        Paragraph("Rate, latency over time and the driver", s["h1"]),
        Paragraph("Target rate", s["h2"]), *_rate(summary),
        Paragraph("Latency from the send and from the schedule (ms)", s["h2"]), _latency_table(summary),
        Paragraph(f"{THIN} rests on too few samples: the p-th percentile needs at least 100 / (100 − p) of them "
                  "(1,000 for p99.9), or it is simply the slowest call.", s["note"]),
        KeepTogether([Paragraph("Latency over time (OK calls)", s["h2"]),
                      latency_over_time_chart(timeline) if any(row["p50"] is not None for row in timeline)
                      else Paragraph("No OK calls.", s["note"]),
                      *([Paragraph(f"Each point: the calls completed in {timeline[0]['seconds']} seconds (a run "
                                   f"this long keeps its timeline in at most {MAX_SLOTS:,} slots).", s["note"])]
                        if timeline and timeline[0]["seconds"] > 1 else [])]),
        KeepTogether([Paragraph("Percentile curve (OK calls)", s["h2"]),
                      percentile_curve_chart(curve) if has_curve else Paragraph("No OK calls.", s["note"])]),
        KeepTogether([Paragraph("The driver's own CPU", s["h2"]), *_cpu(summary)]),
        KeepTogether([Paragraph("Server side", s["h2"]), *_server_side(summary)]),
    ]
