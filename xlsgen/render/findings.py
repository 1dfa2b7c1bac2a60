"""検証結果.xlsx: one row per input file (result, counts, reason) and one per finding, each
finding linked to the input cell it points at."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import xlsxwriter

from xlsgen.formulas import area, compress_cells, quote_sheet
from xlsgen.formulas import report as rf
from xlsgen.formulas import split_cell as coordinate_to_tuple
from xlsgen.render import theme
from xlsgen.render.formula_map import FormulaNote, notes_of_workbook, write_formula_map
from xlsgen.render.theme import Styles, list_sheet
from xlsgen.text import xml_text

SEVERITY_JA = {"error": "エラー", "warning": "警告"}
# notices repeated once per cell: grouped into one row per file and sheet, after the others
GROUPED_CODES = {"era-normalised"}
FILE_HEADS = [("ファイル", 40), ("様式", 24), ("結果", 8), ("理由", 50), ("シート数", 9),
              ("KPI数", 9), ("エラー", 9), ("警告", 9), ("報告書", 40)]
FINDING_HEADS = [("ファイル", 36), ("シート", 16), ("セル", 14), ("重要度", 8), ("コード", 20),
                 ("内容", 70)]


def _link(file: str, sheet: str | None, cell_: str | None, base: Path) -> str:
    rel = os.path.relpath(file, base).replace(os.sep, "/")
    anchor = f"#{quote_sheet(sheet)}!{cell_}" if sheet and cell_ else ""
    return xml_text(f"external:{rel}{anchor}")


def grouped(findings: list[dict]) -> list[dict]:
    """The findings with each GROUPED_CODES notice merged into one row per file, sheet and
    code (cells as compact ranges, distinct messages joined), placed after the others."""
    keep, groups = [], {}
    for f in findings:
        if f["code"] in GROUPED_CODES and f.get("cell"):
            groups.setdefault((f["file"], f["sheet"], f["code"]), []).append(f)
        else:
            keep.append(f)
    for fs in groups.values():
        if len(fs) == 1:
            keep.append(fs[0])
            continue
        cells = [coordinate_to_tuple(f["cell"]) for f in fs]
        messages = list(dict.fromkeys(f["message"] for f in fs))
        keep.append({**fs[0], "cell": compress_cells(cells).replace(",", ", "),
                     "message": f"{len(fs)} セル: " + "／".join(messages)})
    return keep


def write_findings(results: list[dict], path, out_dir: Path, skipped=()) -> None:
    """Write the summary workbook for `results` of xlsgen.batch.process_file;
    `skipped` (name, path, reason) are listed below the total as 対象外."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "in_memory": True})
    wb.set_properties({"title": "検証結果", "author": "xlsgen", "created": datetime(2000, 1, 1)})
    st = Styles(wb)
    link = st.link()
    ws = wb.add_worksheet("ファイル")
    list_sheet(ws, "検証結果　ファイル", FILE_HEADS, st.head())
    counts = {c: [] for c in (4, 5, 6, 7)}
    for r, res in enumerate(results, start=1):
        fs = res["findings"]
        row = {4: res["sheets"], 5: res["kpis"],
               6: sum(f["severity"] == "error" for f in fs),
               7: sum(f["severity"] == "warning" for f in fs)}
        ws.write_url(r, 0, _link(res["file"], None, None, out_dir), link, string=res["name"])
        # the layout file's Japanese title as the reader recorded it (its name if it has none)
        ws.write_string(r, 1, res.get("layout_title") or res.get("layout") or "", st.text())
        ws.write_string(r, 2, "成功" if res["ok"] else "失敗", st.text(bold=not res["ok"]))
        ws.write_string(r, 3, res["reason"] or "", st.text())
        for c, v in row.items():
            ws.write_number(r, c, v, st.number())
            counts[c].append(v)
        if res["output"]:
            ws.write_url(r, 8, _link(res["output"], None, None, out_dir), link,
                         string=Path(res["output"]).name)
        else:
            ws.write_blank(r, 8, None, st.text())
    total_row = len(results) + 1
    ws.write_string(total_row, 0, "合計", st(bold=True))
    notes = []
    for c, values in counts.items():
        f, v = rf.total(area(1, c, max(total_row - 1, 1), c), values)
        ws.write_formula(total_row, c, f, st.number(bold=True), v)
    notes.append(FormulaNote("ファイル", area(total_row, 4, total_row, 7),
                             rf.total(area(1, 4, max(total_row - 1, 1), 4), [])[0],
                             rf.EXPLANATIONS["total"]))
    for r, (name, file, reason) in enumerate(skipped, start=total_row + 2):
        ws.write_url(r, 0, _link(file, None, None, out_dir), link, string=name)
        ws.write_string(r, 2, "対象外", st.text())
        ws.write_string(r, 3, reason, st.text())

    fw = wb.add_worksheet("指摘事項")
    list_sheet(fw, "検証結果　指摘事項", FINDING_HEADS, st.head())
    r = 1
    for res in results:
        rows = grouped([dict(f, file=f.get("file") or res["file"]) for f in res["findings"]])
        if not res["ok"]:
            rows.insert(0, {"severity": "error", "code": "unreadable", "file": res["file"],
                            "sheet": None, "cell": None, "message": res["reason"]})
        for f in rows:
            first = f["cell"].split(",")[0].split(":")[0] if f["cell"] else None
            fw.write_url(r, 0, _link(f["file"], f["sheet"], first, out_dir), link,
                         string=Path(f["file"]).name)
            fw.write_string(r, 1, f["sheet"] or "", st.text())
            fw.write_string(r, 2, f["cell"] or "", st.text())
            fw.write_string(r, 3, SEVERITY_JA.get(f["severity"], f["severity"]), st.text())
            fw.write_string(r, 4, f["code"] or "", st.text())
            fw.write_string(r, 5, f["message"] or "", st.text())
            r += 1
    fw.autofilter(0, 0, max(r - 1, 1), len(FINDING_HEADS) - 1)
    write_formula_map(wb, notes_of_workbook(wb, notes))
    theme.fit_rows(wb)
    wb.close()


