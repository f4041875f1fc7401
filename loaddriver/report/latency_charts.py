"""Latency charts: p50 and p99 over the run (per second; per slot of several seconds in a long run), and the
percentile curve (latency against the percentile on a scale of nines), from the send and, in --rps runs, from
the schedule."""
from __future__ import annotations

import math

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors

from loaddriver.report.charts import BOTTOM, LEFT, TOP, frame, nice_step, style_value_axis
from loaddriver.report.styles import FRAME_WIDTH, fonts

P50 = colors.HexColor("#3A6EA5")
P99 = colors.HexColor("#E08A1E")
SCHEDULED = colors.HexColor("#9B1C24")


def _plot(drawing: Drawing, series: list[tuple[list[tuple[float, float]], object]], height: float) -> LinePlot:
    plot = LinePlot()
    plot.x, plot.y = LEFT, BOTTOM - 18
    plot.width, plot.height = drawing.width - LEFT - 10, height - BOTTOM + 18 - TOP
    plot.data = [points for points, _colour in series]
    for index, (points, colour) in enumerate(series):
        plot.lines[index].strokeColor, plot.lines[index].strokeWidth = colour, 1.4
        if len(points) <= 40:
            plot.lines[index].symbol = makeMarker("FilledCircle", size=3, fillColor=colour, strokeColor=colour)
    style_value_axis(plot.yValueAxis, max((y for points, _c in series for _x, y in points), default=1))
    plot.yValueAxis.labelTextFormat = lambda v: f"{v:,.0f}" if v >= 10 or v == 0 else f"{v:g}"
    plot.xValueAxis.labels.fontName, plot.xValueAxis.labels.fontSize = fonts().regular, 7
    drawing.add(plot)
    return plot


def latency_over_time_chart(timeline: list[dict], width: float = FRAME_WIDTH, height: float = 200) -> Drawing:
    """p50 and p99 of the OK calls completed in each slot of the timeline (a second; wider in a long run), and
    their p99 from the schedule in --rps runs."""
    wanted = [("p50", P50, "p50 from the send"), ("p99", P99, "p99 from the send"),
              ("p99_from_schedule", SCHEDULED, "p99 from the schedule")]
    wanted = [w for w in wanted if any(row.get(w[0]) is not None for row in timeline)]
    drawing = frame(width, height, "seconds since the run started (by completion)", "ms",
                    [(colour, label) for _key, colour, label in wanted])
    series = [([(row["t"], row[key]) for row in timeline if row.get(key) is not None], colour)
              for key, colour, _label in wanted]
    plot = _plot(drawing, series, height)
    first, last = timeline[0]["t"], timeline[-1]["t"]
    step = nice_step(max(last - first, 1))
    axis = plot.xValueAxis
    axis.valueMin, axis.valueStep = first, step
    axis.valueMax = first + max(step, math.ceil((last - first) / step) * step)
    axis.labelTextFormat = lambda v: f"{v:,.0f}"
    return drawing


def nines(percentile: float) -> float:
    """The x of a percentile on the curve: 90 → 1, 99 → 2, 99.9 → 3 (-log10 of the share above it)."""
    return -math.log10(1 - percentile / 100)


def _nines_label(x: float) -> str:
    return "0%" if x == 0 else f"{100 - 10 ** (2 - x):.{max(int(x) - 2, 0)}f}%"


def percentile_curve_chart(curve: dict, width: float = FRAME_WIDTH, height: float = 200) -> Drawing:
    """Latency of OK calls against the percentile, the tail stretched out (each step right is one more nine)."""
    points = [(p, a, b) for p, a, b in zip(curve["percentiles"], curve["from_send"], curve["from_schedule"],
                                           strict=True)
              if p < 100]
    wanted = [(1, P99, "from the send"), (2, SCHEDULED, "from the schedule")]
    wanted = [w for w in wanted if any(point[w[0]] is not None for point in points)]
    drawing = frame(width, height, "percentile (each step right is one more nine)", "ms",
                    [(colour, label) for _i, colour, label in wanted])
    series = [([(nines(point[0]), point[i]) for point in points if point[i] is not None], colour)
              for i, colour, _label in wanted]
    plot = _plot(drawing, series, height)
    axis = plot.xValueAxis
    axis.valueMin, axis.valueMax, axis.valueStep = 0, max(4, math.ceil(max(nines(p[0]) for p in points))), 1
    axis.labelTextFormat = _nines_label
    return drawing
