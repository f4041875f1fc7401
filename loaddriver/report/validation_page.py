"""The validation page: each invalid kind with the status it should get and what came back, and the
unexpected outcomes one by one (the first MAX_LISTED; all of them are in the JSON and the CSV)."""
from __future__ import annotations

from reportlab.platypus import Flowable, Paragraph

from loaddriver.report import fmt
from loaddriver.report.styles import styles
from loaddriver.report.tables import BAD, OK, data_table
from loaddriver.stats import INVALID_KINDS

MAX_LISTED = 200
_DETAIL_CHARS = 300


def _kinds(summary: dict) -> list[Flowable]:
    s = styles()
    kinds = summary["invalid_kinds"]
    rows, marks = [], []
    for kind, entry in kinds.items():
        returned = ", ".join(f"{code} × {n:,}" for code, n in entry["returned"].items())
        rows.append([fmt.text(kind), fmt.count(entry["calls"]), fmt.text(entry["expected"]), fmt.text(returned),
                     fmt.count(entry["expected_rejections"]), fmt.count(entry["unexpected"])])
        marks.append(BAD if entry["unexpected"] else OK)
    story = [Paragraph("Invalid requests", s["h2"])]
    if rows:
        story.append(data_table(["kind", "calls", "expected", "came back", "expected rejections", "unexpected"],
                                rows, widths=[95, 40, 95, 145, 65, 55], right=(1, 4, 5), marks=marks))
    else:
        story.append(Paragraph("No invalid requests were sent.", s["body"]))
    missing = [k for k in INVALID_KINDS if k not in kinds]
    if missing and rows:
        story.append(Paragraph("Not exercised in this run: " + fmt.text(missing) + ".", s["note"]))
    return story


def _unexpected(summary: dict) -> list[Flowable]:
    s = styles()
    unexpected = summary["unexpected"]
    story = [Paragraph("Unexpected outcomes", s["h2"])]
    if not unexpected:
        return story + [Paragraph("None: every call got the status it should.", s["body"])]
    story.append(Paragraph(f"{len(unexpected):,} call(s) did not get the status they should"
                           + (f"; the first {MAX_LISTED} are listed." if len(unexpected) > MAX_LISTED else "."),
                           s["body"]))
    rows = []
    for call in unexpected[:MAX_LISTED]:
        detail = call.get("detail") or ""
        detail = detail if len(detail) <= _DETAIL_CHARS else detail[:_DETAIL_CHARS] + "…"
        rows.append([fmt.count(call["seq"]), fmt.text(call["rpc"]), fmt.text(call["kind"]),
                     fmt.text(call["region"]), fmt.text(call["shard"]), fmt.text(call["expected"]),
                     fmt.text(call["code"]), fmt.text(call.get("reason")), fmt.text(detail)])
    story.append(data_table(["seq", "RPC", "kind", "region", "shard", "expected", "got", "reason", "detail"], rows,
                            widths=[32, 62, 58, 52, 28, 58, 58, 52, 110], right=(0,), marks=[BAD] * len(rows)))
    if len(unexpected) > MAX_LISTED:
        story.append(Paragraph(f"… and {len(unexpected) - MAX_LISTED:,} more, not shown here: every one is in the "
                               "JSON (summary.unexpected) and in the CSV (outcome = unexpected).", s["body"]))
    return story


def validation_page(summary: dict) -> list[Flowable]:
    s = styles()
    return [Paragraph("Validation", s["h1"]),
            Paragraph("Each invalid request counts as an expected rejection when it gets the status it should. "
                      "Anything else (a wrong status, an accepted invalid request, an error on a valid request) is "
                      "an unexpected outcome.", s["note"]),
            *_kinds(summary), *_unexpected(summary)]
