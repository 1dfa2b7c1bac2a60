"""The row-height rule of xlsgen.render.theme: heights from text, font size and widths."""

from __future__ import annotations

import openpyxl
import xlsxwriter

from xlsgen.render import theme


def close(a, b):
    return a is not None and abs(a - b) <= 0.75  # heights are stored in whole pixels


def _heights(tmp_path, build):
    path = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    st = theme.Styles(wb)
    build(ws, st)
    theme.fit_rows(wb)
    wb.close()
    sheet = openpyxl.load_workbook(path)["S"]
    return lambda r: sheet.row_dimensions[r].height


def test_full_width_counts_double_and_wrapped_lines_add_up(tmp_path):
    def build(ws, st):
        ws.set_column(0, 0, 20)
        ws.write_string(0, 0, "a" * 14, st.text())            # fits one line
        ws.write_string(1, 0, "あ" * 20, st.text())            # twice as wide: several lines
        ws.write_string(2, 0, "あ" * 40, st.text())
        ws.write_string(3, 0, "一行目\n二行目\n三行目", st.text())
        ws.write_string(4, 0, "あ" * 40, st(font_size=14, text_wrap=True))
        ws.write_string(5, 0, "あ" * 40, st())                  # not wrapped: one line
        ws.write_number(6, 0, 12345)                             # numbers set no height
    h = _heights(tmp_path, build)
    one = theme.lines_height(1)
    assert close(h(1), one) and h(7) is None
    assert h(2) >= 2 * theme.FONT_SIZE * theme.LINE and h(3) > h(2)
    assert close(h(4), theme.lines_height(3))
    assert h(5) > h(3) and close(h(6), one)


def test_merged_width_and_rows_never_lowered(tmp_path):
    def build(ws, st):
        for c in range(4):
            ws.set_column(c, c, 10)
        text = "あ" * 18
        ws.write_string(0, 0, text, st.text())                   # one 10-wide column
        ws.merge_range(1, 0, 1, 3, "", st.text())
        ws.write_string(1, 0, text, st.text())                   # the merged 40-wide range
        ws.set_row(2, 60)
        ws.write_string(2, 0, "短い", st.text())                 # a taller height is kept
        ws.merge_range(3, 0, 5, 0, "", st.text())
        ws.write_string(3, 0, "あ" * 60, st.text())              # shared by three rows
    h = _heights(tmp_path, build)
    assert h(1) > h(2) and close(h(2), theme.lines_height(1))
    assert h(3) == 60
    assert (h(4) or 15) + (h(5) or 15) + (h(6) or 15) >= theme.lines_height(
        theme.text_lines("あ" * 60, 10 * 7 + 5))


def test_fits_line_and_chunks():
    assert theme.fits_line("A1:B2", 10) and not theme.fits_line("あ" * 10, 10)
    lines = theme.chunk_line([f"A{i}:B{i}" for i in range(1, 40)], 20)
    assert len(lines) > 3 and all(theme.fits_line(x, 20) for x in lines)
    assert ", ".join(lines) == ", ".join(f"A{i}:B{i}" for i in range(1, 40))
