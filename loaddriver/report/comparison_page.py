"""The comparison with a baseline run (--baseline): throughput, success rate and OK-call latency, overall
and per RPC; green where this run is better, red where it is worse."""
from __future__ import annotations

from reportlab.platypus import Flowable, Paragraph

from loaddriver.report import fmt
from loaddriver.report.styles import styles
from loaddriver.report.tables import BAD, OK, data_table

# (key, label, how to print a value, whether higher is better)
_OVERALL = (("throughput", "throughput, all calls", fmt.per_second, True),
            ("success_rate", "success rate, all calls", fmt.rate, True),
            ("p50", "p50 of OK calls (ms)", fmt.ms, False),
            ("p99", "p99 of OK calls (ms)", fmt.ms, False))


def _mark(delta: dict, higher_is_better: bool) -> str | None:
    if not delta["delta"]:
        return None
    return OK if (delta["delta"] > 0) == higher_is_better else BAD


def _pct(delta: dict) -> str:
    return fmt.signed(delta["delta_pct"], 1, "%")


def comparison_page(comparison: dict) -> list[Flowable]:
    s = styles()
    base = comparison.get("baseline_run") or {}
    rows, marks = [], []
    for key, label, show, higher_is_better in _OVERALL:
        delta = comparison["overall"][key]
        change = fmt.signed(delta["delta"] * 100, 2, " pts") if key == "success_rate" and delta["delta"] is not None \
            else fmt.signed(delta["delta"])
        rows.append([label, show(delta["current"]), show(delta["baseline"]), change, _pct(delta)])
        marks.append(_mark(delta, higher_is_better))
    rpc_rows, rpc_marks = [], []
    for rpc, deltas in comparison["per_rpc"].items():
        p50, p99 = deltas["p50"], deltas["p99"]
        rpc_rows.append([fmt.text(rpc), fmt.ms(p50["current"]), fmt.ms(p50["baseline"]), _pct(p50),
                         fmt.ms(p99["current"]), fmt.ms(p99["baseline"]), _pct(p99)])
        rpc_marks.append(_mark(p99, False))
    return [
        Paragraph("Comparison with the baseline", s["h1"]),
        Paragraph(f"Baseline: {fmt.text(base.get('name'))}, started {fmt.text(base.get('started_at'))}. Change is "
                  "this run minus the baseline; green is better, red is worse.", s["body"]),
        Paragraph("Overall", s["h2"]),
        data_table(["metric", "this run", "baseline", "change", "change %"], rows,
                   widths=[150, 85, 85, 85, 70], right=(1, 2, 3, 4), marks=marks),
        Paragraph("Per RPC, OK calls (ms); coloured by the change of p99", s["h2"]),
        data_table(["RPC", "p50", "p50 baseline", "p50 change", "p99", "p99 baseline", "p99 change"], rpc_rows,
                   widths=[120, 60, 65, 60, 60, 65, 60], right=(1, 2, 3, 4, 5, 6), marks=rpc_marks),
    ]
