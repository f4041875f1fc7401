"""The report's charts, drawn with reportlab.graphics: the latency histogram (stacked bars, OK and not OK)
and the throughput over time (lines, calls completed per second)."""
from __future__ import annotations

import math

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.pdfbase.pdfmetrics import stringWidth

from loaddriver.report.styles import BAD_LINE, FRAME_WIDTH, GRID, MUTED, OK_LINE, fonts

LEFT, BOTTOM, TOP = 52, 58, 26


def nice_step(top: float, ticks: int = 5) -> float:
    """A 1, 2 or 5 × 10^k tick step that splits [0, top] into about `ticks` parts; at least 1 (counts)."""
    if top <= ticks:
        return 1
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def frame(width: float, height: float, x_title: str, y_title: str, legend_pairs=None) -> Drawing:
    """A drawing with the axis titles and a legend (OK / not OK unless `legend_pairs` says otherwise)."""
    f = fonts()
    drawing = Drawing(width, height)
    drawing.add(String(LEFT + (width - LEFT - 10) / 2, 6, x_title, fontName=f.regular, fontSize=8,
                       fillColor=MUTED, textAnchor="middle"))
    label = Group(String(0, 0, y_title, fontName=f.regular, fontSize=8, fillColor=MUTED, textAnchor="middle"))
    label.translate(12, BOTTOM + (height - BOTTOM - TOP) / 2)
    label.rotate(90)
    drawing.add(label)
    legend = Legend()
    legend.x, legend.y = width - 10, height - 6
    legend.alignment, legend.columnMaximum, legend.boxAnchor = "right", 1, "ne"
    legend.fontName, legend.fontSize, legend.dx, legend.dy, legend.deltax = f.regular, 8, 8, 8, 70
    legend.colorNamePairs = legend_pairs or [(OK_LINE, "OK"), (BAD_LINE, "not OK")]
    legend.deltax = 24 + max(stringWidth(name, f.regular, 8) for _colour, name in legend.colorNamePairs)
    drawing.add(legend)
    return drawing


def style_value_axis(axis, top: float) -> None:
    step = nice_step(top)
    axis.valueMin, axis.valueStep = 0, step
    axis.valueMax = max(step, math.ceil(top / step) * step)
    axis.labelTextFormat = lambda v: f"{v:,.0f}"
    axis.labels.fontName, axis.labels.fontSize = fonts().regular, 7
    axis.visibleGrid, axis.gridStrokeColor, axis.gridStrokeWidth = True, GRID, 0.25


def bucket_label(bucket: dict) -> str:
    """'1–1.5' for [1, 1.5) ms; '≥ 70000' for the open last bucket."""
    if bucket["hi"] is None:
        return f"≥ {bucket['lo']:g}"
    return f"{bucket['lo']:g}–{bucket['hi']:g}"


def histogram_chart(histogram: list[dict], width: float = FRAME_WIDTH, height: float = 210) -> Drawing:
    """Stacked bars of call counts per log-spaced latency bucket."""
    drawing = frame(width, height, "latency (ms), log-spaced buckets", "calls")
    chart = VerticalBarChart()
    chart.x, chart.y = LEFT, BOTTOM
    chart.width, chart.height = width - LEFT - 10, height - BOTTOM - TOP
    chart.data = [[b["ok"] for b in histogram], [b["not_ok"] for b in histogram]]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = [bucket_label(b) for b in histogram]
    labels = chart.categoryAxis.labels
    labels.angle, labels.boxAnchor, labels.dx, labels.dy = 40, "ne", 3, -3
    labels.fontName, labels.fontSize = fonts().regular, 7
    style_value_axis(chart.valueAxis, max((b["ok"] + b["not_ok"] for b in histogram), default=1))
    chart.bars[0].fillColor, chart.bars[1].fillColor = OK_LINE, BAD_LINE
    chart.bars.strokeWidth = 0
    chart.groupSpacing = 3
    drawing.add(chart)
    return drawing


def throughput_chart(timeline: list[dict], width: float = FRAME_WIDTH, height: float = 200) -> Drawing:
    """Calls completed per second over the run, one line for OK calls and one for the rest (a slot's calls over
    its width: a long run's timeline has slots of several seconds)."""
    drawing = frame(width, height, "seconds since the run started", "calls per second")
    plot = LinePlot()
    plot.x, plot.y = LEFT, BOTTOM - 18
    plot.width, plot.height = width - LEFT - 10, height - BOTTOM + 18 - TOP
    plot.data = [[(b["t"], b["ok"] / b.get("seconds", 1)) for b in timeline],
                 [(b["t"], b["not_ok"] / b.get("seconds", 1)) for b in timeline]]
    first, last = timeline[0]["t"], timeline[-1]["t"]
    x_axis = plot.xValueAxis
    x_step = nice_step(max(last - first, 1))
    x_axis.valueMin, x_axis.valueStep = first, x_step
    x_axis.valueMax = first + max(x_step, math.ceil((last - first) / x_step) * x_step)
    x_axis.labelTextFormat = lambda v: f"{v:,.0f}"
    x_axis.labels.fontName, x_axis.labels.fontSize = fonts().regular, 7
    style_value_axis(plot.yValueAxis, max((max(y for _t, y in line) for line in plot.data), default=1))
    for index, colour in enumerate((OK_LINE, BAD_LINE)):
        plot.lines[index].strokeColor, plot.lines[index].strokeWidth = colour, 1.4
        if len(timeline) <= 40:
            plot.lines[index].symbol = makeMarker("FilledCircle", size=3, fillColor=colour, strokeColor=colour)
    drawing.add(plot)
    return drawing
