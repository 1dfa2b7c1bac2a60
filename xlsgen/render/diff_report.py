"""The `xlsgen diff -o DIFF.xlsx` workbook: one row per change, linked to the cell in
both books (external links, relative to the output), target changes flagged."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import xlsxwriter

from xlsgen.atomic import atomic_path
from xlsgen.formulas import quote_sheet
from xlsgen.render import theme
from xlsgen.render.theme import Styles, list_sheet
from xlsgen.roundtrip.diff import FLAG_JA, KIND_JA, DiffResult, show
from xlsgen.text import cell_text, xml_text

HEADS = [("施策", 26), ("指標", 30), ("項目", 22), ("区分", 12), ("変更前", 30), ("変更後", 30),
         ("監査の注意", 14), ("前のブック", 14), ("後のブック", 14)]
MAX_LINKS = 30_000  # two links a row; Excel allows 65,530 a sheet


def _link(book: Path, where: str | None, base: Path) -> str | None:
    if not where:
        return None
    sheet, _, addr = where.rpartition("!")
    rel = os.path.relpath(book.resolve(), base).replace(os.sep, "/")
    return xml_text(f"external:{rel}#{quote_sheet(sheet)}!{addr}")


def write_diff(result: DiffResult, output) -> None:
    output = Path(output)
    base = output.resolve().parent
    with atomic_path(output, [result.old, result.new]) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                            "in_memory": True})
        about = f"{result.old.name} → {result.new.name}"
        wb.set_properties({"title": f"変更点 {about}", "author": "xlsgen", "created": datetime(2000, 1, 1)})
        st = Styles(wb)
        ws = wb.add_worksheet("変更点")
        list_sheet(ws, f"変更点　{about}", HEADS, st.head())
        text, link = st.text(), st.link()
        warn = st.text(bold=True, font_color=theme.WARN_FONT, bg_color=theme.WARN_FILL)
        for r, c in enumerate(result.changes, start=1):
            subject = c.kpi or ""
            values = [c.measure, subject, c.what, KIND_JA[c.kind], show(c.old, c.unit), show(c.new, c.unit)]
            for col, v in enumerate(values):
                ws.write_string(r, col, cell_text(v), text)
            ws.write_string(r, 6, FLAG_JA[c.flag] if c.flag else "", warn if c.flag == "target-lowered"
                            else text)
            for col, (book, where) in ((7, (result.old, c.old_cell)), (8, (result.new, c.new_cell))):
                url = _link(book, where, base) if r <= MAX_LINKS else None
                if url:
                    ws.write_url(r, col, url, link, string=where)
                else:
                    ws.write_string(r, col, where or "", text)
        if not result.changes:
            ws.write_string(1, 0, "変更はありません", text)
        ws.autofilter(0, 0, max(1, len(result.changes)), len(HEADS) - 1)
        theme.fit_rows(wb)
        wb.close()
