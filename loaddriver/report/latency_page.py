"""The latency page: percentile tables per RPC and overall (OK calls, then all calls), the latency
histogram and the throughput over time."""
from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether, Paragraph

from loaddriver.report import fmt
from loaddriver.report.charts import histogram_chart, throughput_chart
from loaddriver.report.styles import styles
from loaddriver.report.tables import data_table
from loaddriver.report.timing_page import THIN, percentile_cell
from loaddriver.stats import PERCENTILES

_COLUMNS = ["RPC", "calls"] + [name for name, _ in PERCENTILES] + ["min", "max", "mean"]
_WIDTHS = [110, 44] + [44] * (len(_COLUMNS) - 2)


def _row(label: str, stats: dict) -> list[str]:
    return ([fmt.text(label), fmt.count(stats["count"])] + [percentile_cell(stats, name) for name, _ in PERCENTILES]
            + [fmt.ms(stats[c]) for c in ("min", "max", "mean")])


def percentile_table(summary: dict, which: str) -> Flowable:
    """One row per RPC and a bold 'all RPCs' row; `which` is 'ok' or 'all'."""
    rows = [_row(rpc, entry[f"latency_{which}"]) for rpc, entry in summary["per_rpc"].items()]
    rows.append(_row("all RPCs", summary["latency"][which]))
    return data_table(_COLUMNS, rows, widths=_WIDTHS, right=tuple(range(1, len(_COLUMNS))), bold_last=True)


def _no_data(what: str) -> Paragraph:
    return Paragraph(f"No calls were measured, so there is no {what} to draw.", styles()["note"])


def latency_page(summary: dict) -> list[Flowable]:
    s = styles()
    histogram, timeline = summary["histogram"], summary["timeline"]
    return [
        Paragraph("Latency", s["h1"]),
        Paragraph("Milliseconds, measured by the driver around each call, from its send. Percentiles are "
                  "nearest-rank (the p-th of n latencies is the one at rank ⌈p/100 · n⌉), read back from "
                  f"fixed-size histograms within 0.4%. {THIN}: too few samples for that percentile (fewer than "
                  "100 / (100 − p)); it is the slowest call or near it.", s["note"]),
        Paragraph("OK calls (status OK)", s["h2"]),
        percentile_table(summary, "ok"),
        Paragraph("All calls (OK or not, expected rejections included)", s["h2"]),
        percentile_table(summary, "all"),
        KeepTogether([Paragraph("Latency histogram", s["h2"]),
                      histogram_chart(histogram) if histogram else _no_data("histogram")]),
        KeepTogether([Paragraph("Throughput over time", s["h2"]),
                      throughput_chart(timeline) if timeline else _no_data("throughput"),
                      Paragraph(f"Calls completed in each {_slot(timeline)} of the measured run (start time + "
                                "latency); the first and last are usually partial.", s["note"])]),
    ]


def _slot(timeline: list[dict]) -> str:
    """What one point of the timeline covers: "second", or "8 seconds (as calls a second)" in a long run."""
    seconds = timeline[0]["seconds"] if timeline else 1
    return "second" if seconds == 1 else f"{seconds} seconds (as calls a second)"
