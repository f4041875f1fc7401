"""loaddriver.report.tables: every column is at least as wide as its longest word, so no header or cell breaks
inside a word ("worke/r", "FAILED_PRECONDITIO/N"), and the table still fits the page."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from loaddriver.report.styles import FRAME_WIDTH, fonts
from loaddriver.report.tables import PADDING, data_table, fit_widths, longest_word


def _font_size(table) -> float:
    return table._cellvalues[1][0].style.fontSize


def _assert_no_word_breaks(table, header, rows):
    f, size = fonts(), _font_size(table)
    for column, width in enumerate(table._colWidths):
        words = [longest_word(header[column], f.bold, size)]
        words += [longest_word(row[column], f.regular, size) for row in rows]
        assert width - PADDING >= max(words), (column, width, header[column])
    assert sum(table._colWidths) <= FRAME_WIDTH + 0.01


def test_narrow_columns_are_widened_to_their_longest_word():
    header = ["worker", "calls", "status", "expected rejections"]
    rows = [["12", "1,234", "FAILED_PRECONDITION × 12", "5"]]
    table = data_table(header, rows, widths=[20, 20, 40, 30])
    _assert_no_word_breaks(table, header, rows)
    assert _font_size(table) == 7.5


def test_a_table_too_wide_for_the_page_takes_a_smaller_font():
    header = [f"column {i}" for i in range(6)]
    rows = [["FAILED_PRECONDITION"] * 6]  # 6 × its width at 7.5 pt is more than the page
    table = data_table(header, rows, widths=[60] * 6)
    _assert_no_word_breaks(table, header, rows)
    assert _font_size(table) < 7.5


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 200), st.floats(0, 120)), min_size=1, max_size=9))
def test_fitted_widths_cover_every_need_and_the_room(columns):
    widths, need = [w for w, _n in columns], [n for _w, n in columns]
    fitted = fit_widths(widths, need, room=500)
    if sum(need) > 500:
        assert fitted is None
    else:
        assert all(f >= n - 1e-6 for f, n in zip(fitted, need, strict=True)) and sum(fitted) <= 500 + 1e-6
