"""The report's look in one place: fonts, colours, paragraph styles and page geometry."""
from __future__ import annotations

import functools
import pathlib
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

PAGE_SIZE = A4
MARGIN = 15 * mm
FRAME_WIDTH = PAGE_SIZE[0] - 2 * MARGIN

HEADER_BG = colors.HexColor("#2F3B52")
ZEBRA = colors.HexColor("#F2F4F7")
GRID = colors.HexColor("#C9CED6")
OK_BG = colors.HexColor("#DCF0DC")
OK_FG = colors.HexColor("#1E6B2E")
BAD_BG = colors.HexColor("#F8D7DA")
BAD_FG = colors.HexColor("#9B1C24")
MUTED = colors.HexColor("#5A6270")
WARN_FG = colors.HexColor("#8A5A00")
OK_LINE = colors.HexColor("#2E9E4F")
BAD_LINE = colors.HexColor("#D0343F")

# DejaVu covers the non-Latin names Faker makes for some regions; Helvetica is the fallback without it.
_DEJAVU = pathlib.Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str


@functools.cache
def fonts() -> Fonts:
    """Register DejaVu Sans once when it is installed; otherwise use the built-in Helvetica."""
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    if not (regular.exists() and bold.exists()):
        return Fonts("Helvetica", "Helvetica-Bold")
    pdfmetrics.registerFont(TTFont("ReportSans", str(regular)))
    pdfmetrics.registerFont(TTFont("ReportSans-Bold", str(bold)))
    pdfmetrics.registerFontFamily("ReportSans", normal="ReportSans", bold="ReportSans-Bold",
                                  italic="ReportSans", boldItalic="ReportSans-Bold")
    return Fonts("ReportSans", "ReportSans-Bold")


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles by name: title, subtitle, h1, h2, body, note, cell, cell_bold, banner."""
    f = fonts()
    body = ParagraphStyle("body", fontName=f.regular, fontSize=9.5, leading=12.5, spaceAfter=4)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=f.bold, fontSize=20, leading=24, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=body, textColor=MUTED, spaceAfter=10),
        "h1": ParagraphStyle("h1", parent=body, fontName=f.bold, fontSize=15, leading=19, spaceBefore=2,
                             spaceAfter=6, textColor=HEADER_BG),
        "h2": ParagraphStyle("h2", parent=body, fontName=f.bold, fontSize=11, leading=14, spaceBefore=10,
                             spaceAfter=4, textColor=HEADER_BG),
        "body": body,
        "note": ParagraphStyle("note", parent=body, fontSize=8, leading=10, textColor=MUTED, spaceBefore=2),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9, spaceAfter=0),
        "cell_bold": ParagraphStyle("cell_bold", parent=body, fontName=f.bold, fontSize=7.5, leading=9,
                                    spaceAfter=0),
        "banner": ParagraphStyle("banner", parent=body, fontName=f.bold, fontSize=14, leading=18, spaceAfter=0),
    }
