"""`xlsgen layout check SPEC BOOK`: what a layout file finds in a workbook, sheet by sheet."""

from __future__ import annotations

from xlsgen.layout.detect import anchors, match, sheet_role
from xlsgen.layout.engine import Trace
from xlsgen.layout.spec import load_spec
from xlsgen.model import grade_scale_problems
from xlsgen.read.grid import WorkbookGrids


def check_layout(spec_path, book_path) -> tuple[bool, list[str]]:
    """(matches, report lines in Japanese)."""
    from xlsgen.layout import read_with_spec

    spec = load_spec(spec_path)
    lines = [f"様式: {spec.title}（{spec.name}、{spec_path}）　ブック: {book_path}"]
    with WorkbookGrids(book_path) as wb:
        grids = list(wb.grids())
        res = match(spec, grids)
        ids = [a.id for a in anchors(spec)]
        required = {a.id for a in anchors(spec) if a.required}
        lines.append("判定の見出し:")
        for aid in ids:
            if aid in res.found:
                sheet, cell = res.found[aid]
                lines.append(f"  ✓ {aid}: {sheet}!{cell}")
            else:
                tag = "見つかりません" if aid in required else "見つかりません（必須ではない）"
                lines.append(f"  ✗ {aid}: {tag}")
        if not res.ok:
            why = (f"見つからない見出し: {res.missing_text()}" if res.missing else
                   f"見出しがほとんどどのセルにも当てはまります: {res.too_general[0]}")
            lines.append(f"結果: 当てはまりません（{why}）")
            return False, lines
        trace = Trace()
        book = read_with_spec(book_path, wb, spec, res, trace)
        for g in grids:
            role = sheet_role(spec, g, res)
            here = res.per_sheet.get(g.name, {})
            found = "、".join(f"{k}={v}" for k, v in here.items()) or "なし"
            lines.append(f"シート「{g.name}」: {'読み取る（' + role['role'] + '）' if role else '読み飛ばす'}"
                         f"　見出し: {found}")
            for sheet, what, cell in trace.items:
                if sheet == g.name:
                    lines.append(f"    {what}: {cell if cell else '見つかりません'}")
            for m in book.measures:
                if m.sheet != g.name:
                    continue
                if spec.get("parser"):
                    lines.extend(f"    {k}: {v}" for k, v in m.cells.items())
                lines.append(f"    → 施策「{m.measure.name if m.measure else m.title or m.sheet}」"
                             f" 指標 {len(m.kpis)}")
                for k in m.kpis:
                    vals = ", ".join(f"{q.fiscal_year}:{q.text if q.text is not None else '空'}@{q.cell}"
                                     for q in k.actuals)
                    lines.append(f"       指標「{k.name}」 行 {k.row} 基準 {k.baseline.text}@"
                                 f"{k.baseline.cell} 目標 {k.target.text}@{k.target.cell} 実績 {vals}")
        for problem in grade_scale_problems((spec.get("grades") or {}).get("scale") or []):
            lines.append(f"  [評価の基準] {problem}")
        for note in layout_notes(spec):
            lines.append(f"  [様式の注意] {note}")
        errors = [f for f in book.findings if f.severity.value == "error"]
        for f in book.findings:
            label = "エラー" if f.severity.value == "error" else "警告"
            lines.append(f"  [{label}] {f.sheet or ''}!{f.cell or ''} {f.code}: {f.message}")
        n = book.measure_count
        lines.append(f"結果: {'当てはまります' if not errors else '当てはまりますが読み取りエラーがあります'}"
                     f"（施策・事業 {n}、エラー {len(errors)} 件）")
        return not errors and n > 0, lines


def layout_notes(spec) -> list[str]:
    """What the layout file asks that will not come out the way it may seem (Japanese): a
    column used for another purpose and so not kept as the KPI's own value, a section field
    that a one-measure sheet cannot make a level of its measure."""
    from xlsgen.layout.engine import KPI_SECTION_FIELDS, LEVEL_FIELDS

    table = spec.get("table") or {}
    columns = table.get("columns") or {}
    section = table.get("section") or {}
    roles_col = (table.get("row_roles") or {}).get("column")
    notes = []
    if roles_col and roles_col in columns and roles_col != "name":
        notes.append(f"列「{roles_col}」は row_roles（行の役割）に使うため、指標の extra には入りません")
    for key, cols in (spec.get("project_lines") or {}).items():
        for col in [cols] if isinstance(cols, str) else cols or []:
            if col in columns:
                notes.append(f"列「{col}」は project_lines（事業の行）の {key} に使うため、指標の extra には入りません")
    if section:
        col, field = section.get("column", "name"), section.get("field", "section")
        if col == roles_col:
            notes.append(f"section の列「{col}」は row_roles にも使うため、指標の extra には入りません")
        if (spec.get("record") or "sheet") == "sheet" and field not in KPI_SECTION_FIELDS:
            where = "施策の階層にはならず" if field in LEVEL_FIELDS else "施策の値にはならず"
            notes.append(f"record: sheet では見出し行（section）の「{field}」は{where}、"
                         f"その下の指標の extra.{field} に入ります（指標の区分にするなら field: category）")
    return notes
