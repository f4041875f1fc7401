"""Page furniture: a footer with the run's name and "page N of M" on every page. The total is only known
at the end, so each page's drawing state is kept and the footers are drawn when the document is saved."""
from __future__ import annotations

from reportlab.pdfgen.canvas import Canvas

from loaddriver.report.styles import GRID, MARGIN, MUTED, PAGE_SIZE, fonts


def numbered_canvas(footer: str) -> type[Canvas]:
    """A canvas class for SimpleDocTemplate.build(canvasmaker=...) that writes `footer` and the page count."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._draw_footer(number, len(self._pages))
                Canvas.showPage(self)
            Canvas.save(self)

        def _draw_footer(self, number: int, total: int) -> None:
            width = PAGE_SIZE[0]
            self.saveState()
            self.setStrokeColor(GRID)
            self.setLineWidth(0.5)
            self.line(MARGIN, MARGIN * 0.75, width - MARGIN, MARGIN * 0.75)
            self.setFont(fonts().regular, 7.5)
            self.setFillColor(MUTED)
            self.drawString(MARGIN, MARGIN * 0.45, footer)
            self.drawRightString(width - MARGIN, MARGIN * 0.45, f"page {number} of {total}")
            self.restoreState()

    return NumberedCanvas
