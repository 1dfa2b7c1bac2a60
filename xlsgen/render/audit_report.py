"""The `xlsgen audit -o REPORT.xlsx` workbook: findings, formula inventory and patterns,
each row linking to its cell in the audited book (an external link, relative path)."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from xlsgen.atomic import atomic_path
from xlsgen.audit import SEVERITY_JA, AuditResult
from xlsgen.audit.inventory import compress_cells
from xlsgen.formulas import quote_sheet
from xlsgen.render import theme
from xlsgen.render.theme import Styles, list_sheet

MAX_LINKS = 65_000  # Excel's limit per sheet is 65,530 hyperlinks


def write_audit_report(result: AuditResult, output: str | Path, when: date | None = None) -> None:
    """Write the report atomically; the audited book is only linked to, never touched.
    Every page's header names the audited file and the audit date (`when`, default today)."""
    output = Path(output)
    book = os.path.relpath(Path(result.file).resolve(), output.resolve().parent)
    when = when or date.today()
    about = f"対象: {Path(result.file).name}　監査日: {when:%Y-%m-%d}"
    with atomic_path(output) as tmp:
        wb = xlsxwriter.Workbook(str(tmp))
        wb.set_properties({"title": f"数式監査 {Path(result.file).name}", "author": "xlsgen",
                           "comments": about, "created": datetime(when.year, when.month, when.day)})
        fmt = _formats(wb)
        fmt["about"] = about
        rows = [(SEVERITY_JA[f.severity], f.code, f.sheet, f.cell, f.message) for f in result.findings]
        _table(wb, fmt, book, "指摘事項", ["重要度", "コード", "シート", "セル", "内容"],
               [8, 20, 16, 8, 80], rows, link_col=3)
        rows = [(f.sheet, f.cell, f.formula, "、".join(a.text for a in f.areas), "、".join(f.names),
                 f.read_by, f.group) for f in result.formulas]
        _table(wb, fmt, book, "数式一覧", ["シート", "セル", "数式", "読み取るセル", "名前",
                                          "参照される数", "パターン"],
               [16, 8, 40, 40, 16, 12, 10], rows, link_col=1)
        # a pattern on several sheets (the same formula copied across them): a row per sheet
        rows = [(g.id if i == 0 else None, sheet, compress_cells(cells).replace(",", ", "),
                 len(cells), g.formula if i == 0 else "〃", g.r1c1 if i == 0 else "")
                for g in result.groups for i, (sheet, cells) in enumerate(g.by_sheet.items())]
        _table(wb, fmt, book, "パターン", ["パターン", "シート", "セル範囲", "セル数", "数式（例）", "R1C1 形式"],
               [9, 16, 24, 7, 40, 40], rows, link_col=2)
        theme.fit_rows(wb)
        wb.close()


def _formats(wb) -> dict:
    st = Styles(wb)
    return {"head": st.head(align="left", valign="top"), "text": st.text(), "link": st.link()}


def _table(wb, fmt, book, name, headers, widths, rows, link_col) -> None:
    ws = wb.add_worksheet(name)
    list_sheet(ws, f"数式監査　{name}　{fmt['about']}", list(zip(headers, widths)), fmt["head"])
    sheet_col = headers.index("シート")
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                ws.write_blank(r, c, None, fmt["text"])
            elif isinstance(value, int):
                ws.write_number(r, c, value, fmt["text"])
            else:
                ws.write_string(r, c, value or "", fmt["text"])
        if r <= MAX_LINKS and row[link_col]:
            first = str(row[link_col]).split(",")[0].split(":")[0]
            target = f"external:{book}#{quote_sheet(row[sheet_col])}!{first}"
            # a link cell does not wrap in LibreOffice: a long cell list stays wrapped text
            # and the link goes on the row's first column
            c = link_col if theme.fits_line(str(row[link_col]), widths[link_col]) else 0
            ws.write_url(r, c, target, fmt["link"], string=str(row[c]))
    if rows:
        ws.autofilter(0, 0, len(rows), len(headers) - 1)
    else:
        ws.merge_range(1, 0, 1, len(headers) - 1, f"{name}はありません。", fmt["text"])
