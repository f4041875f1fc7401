"""The PDF report of a load run, drawn with reportlab: summary, latency, timing (rate, latency over time,
percentile curve, driver CPU, server side), distribution and validation pages, and a comparison page when a
baseline is given. write_pdf is the one entry point."""
from __future__ import annotations

import pathlib

from reportlab.platypus import PageBreak, SimpleDocTemplate

from loaddriver.report.canvas import numbered_canvas
from loaddriver.report.comparison_page import comparison_page
from loaddriver.report.distribution_page import distribution_page
from loaddriver.report.latency_page import latency_page
from loaddriver.report.styles import MARGIN, PAGE_SIZE
from loaddriver.report.summary_page import summary_page
from loaddriver.report.timing_page import timing_page
from loaddriver.report.validation_page import validation_page

__all__ = ["write_pdf"]


def write_pdf(path: str | pathlib.Path, run: dict, summary: dict, comparison: dict | None = None) -> pathlib.Path:
    """Write the report of one run (its `run` record and stats.summarize's summary) to `path`."""
    path = pathlib.Path(path)
    name = run.get("name") or "unnamed run"
    doc = SimpleDocTemplate(str(path), pagesize=PAGE_SIZE, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN * 1.2, title=f"Load report: {name}",
                            author="elearn load", subject="concurrent RPCs through the gateway")
    sections = [summary_page(run, summary), latency_page(summary), timing_page(summary),
                distribution_page(run, summary), validation_page(summary)]
    if comparison:
        sections.append(comparison_page(comparison))
    story = []
    for section in sections:
        story += ([PageBreak()] if story else []) + section
    doc.build(story, canvasmaker=numbered_canvas(f"elearn load · {name} · {run.get('started_at') or ''}"))
    return path
