"""Tables styled for reading: a dark header row, alternating row colours, green rows for success and red
rows for failure, numbers right-aligned, columns wide enough that no word breaks; plus the key/value grid of
the summary page."""
from __future__ import annotations

import html
import re

from reportlab.lib.enums import TA_RIGHT
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, Table, TableStyle

from loaddriver.report import fmt
from loaddriver.report.styles import (
    BAD_BG,
    BAD_FG,
    FRAME_WIDTH,
    GRID,
    HEADER_BG,
    OK_BG,
    OK_FG,
    ZEBRA,
    colors,
    fonts,
    styles,
)

OK, BAD = "ok", "bad"
PADDING = 12  # a Table cell's default left and right padding together
FONT_SIZES = (7.5, 7, 6.5, 6)  # a table too narrow for its longest words at one size tries the next


def _markup(value) -> str:
    """A Paragraph's text; a string as already formatted markup; anything else through fmt.text."""
    if isinstance(value, Paragraph):
        return value.text
    return value if isinstance(value, str) else fmt.text(value)


def longest_word(markup: str, font: str, size: float) -> float:
    """The width in points of the widest word of `markup` (tags left out, entities read; a no-break space
    joins two words into one, as it does on the page)."""
    text = html.unescape(re.sub(r"<[^>]+>", "", markup))
    return max((stringWidth(word, font, size) for word in re.split(r"[ \t\r\n]+", text)), default=0.0)


def fit_widths(widths: list[float], need: list[float], room: float = FRAME_WIDTH) -> list[float] | None:
    """Widen each column to what its longest word needs, taking the room from columns with slack so the
    table stays within `room`; None when the words alone are wider than the room."""
    widths = [max(w, n) for w, n in zip(widths, need, strict=True)]
    excess = sum(widths) - room
    if excess <= 0:
        return widths
    slack = [w - n for w, n in zip(widths, need, strict=True)]
    if sum(slack) < excess:
        return None
    return [w - s * excess / sum(slack) for w, s in zip(widths, slack, strict=True)]


def _fitted(header: list[str], rows: list[list[str]], widths: list[float],
            bold_last: bool) -> tuple[list[float], float]:
    """Column widths and a font size (the largest of FONT_SIZES that works) at which no word breaks."""
    f = fonts()
    for size in FONT_SIZES:
        need = []
        for column, head in enumerate(header):
            words = [longest_word(head, f.bold, size)]
            words += [longest_word(row[column], f.bold if bold_last and i == len(rows) - 1 else f.regular, size)
                      for i, row in enumerate(rows)]
            need.append(max(words) + PADDING + 0.5)
        fitted = fit_widths(widths, need)
        if fitted is not None:
            return fitted, size
    return widths, FONT_SIZES[-1]


def _sized(style, size: float):
    if style.fontSize == size:
        return style
    copy = style.clone(f"{style.name}_{size}")
    copy.fontSize, copy.leading = size, size * 1.2
    return copy


def data_table(header: list[str], rows: list[list], widths: list[float] | None = None,
               right: tuple[int, ...] = (), marks: list[str | None] | None = None,
               bold_last: bool = False) -> Table:
    """A table with `header` repeated on every page it spans. Cells are strings (already formatted,
    XML-escaped) or Paragraphs; columns in `right` are right-aligned; marks[i] is OK or BAD to colour row i
    green or red; bold_last sets a totals row in bold."""
    f = fonts()
    texts = [[_markup(v) for v in row] for row in rows]
    widths = widths or [FRAME_WIDTH / len(header)] * len(header)
    total = sum(widths)
    widths = [w * FRAME_WIDTH / total for w in widths] if total > FRAME_WIDTH else widths
    widths, size = _fitted([fmt.text(h) for h in header], texts, widths, bold_last)
    cell, bold = _sized(styles()["cell"], size), _sized(styles()["cell_bold"], size)
    head = [Paragraph(f'<font color="white"><b>{fmt.text(h)}</b></font>', cell) for h in header]
    body = [[Paragraph(text, bold if bold_last and i == len(rows) - 1 else cell) for text in row]
            for i, row in enumerate(texts)]
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("FONTNAME", (0, 0), (-1, -1), f.regular),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
        ("BOX", (0, 0), (-1, -1), 0.5, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for i in range(1, len(body) + 1):
        if i % 2 == 0:
            commands.append(("BACKGROUND", (0, i), (-1, i), ZEBRA))
    for i, mark in enumerate(marks or []):
        if mark in (OK, BAD):
            commands.append(("BACKGROUND", (0, i + 1), (-1, i + 1), OK_BG if mark == OK else BAD_BG))
    for column in right:
        for row in body:
            row[column].style = _right(row[column].style)
        head[column].style = _right(head[column].style)
    _tint(body, marks)
    table = Table([head] + body, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table


def _right(style):
    if style.alignment == TA_RIGHT:
        return style
    copy = style.clone(style.name + "_right")
    copy.alignment = TA_RIGHT
    return copy


def _tint(body: list[list[Paragraph]], marks: list[str | None] | None) -> None:
    """Text colour to match a row's mark, so the colour still reads when printed in grey."""
    for row, mark in zip(body, marks or [], strict=False):
        if mark in (OK, BAD):
            for paragraph in row:
                paragraph.style = _coloured(paragraph.style, OK_FG if mark == OK else BAD_FG)


def _coloured(style, colour):
    copy = style.clone(f"{style.name}_{colour.hexval()}")
    copy.textColor = colour
    return copy


def key_values(pairs: list[tuple[str, str]], columns: int = 2) -> Table:
    """Label/value pairs laid out `columns` pairs to a row, labels muted, values in bold."""
    cell, bold = styles()["cell"], styles()["cell_bold"]
    rows, row = [], []
    for label, value in pairs:
        row += [Paragraph(f'<font color="#5A6270">{fmt.text(label)}</font>', cell), Paragraph(value, bold)]
        if len(row) == 2 * columns:
            rows.append(row)
            row = []
    if row:
        rows.append(row + [""] * (2 * columns - len(row)))
    if not rows:
        rows = [[Paragraph(fmt.DASH, cell), ""]]
    label_w = FRAME_WIDTH / columns * 0.45
    widths = [label_w, FRAME_WIDTH / columns - label_w] * (len(rows[0]) // 2)
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, -1), colors.white),
                               ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return table
