"""The survey workbook: 集計 (counts as inputs, rates as formulas), 参加団体, 自由記述, チェック."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from xlsgen.atomic import atomic_path
from xlsgen.formulas import area, cell, link, on_sheet
from xlsgen.formulas import survey as F
from xlsgen.render import theme
from xlsgen.render.sheet_styles import PCT, Styles, add_formula_map, setup_sheet, wide_note
from xlsgen.survey import Survey
from xlsgen.template_values import excel_round


def write_survey_workbook(survey: Survey, target: str | Path) -> list:
    """Write the workbook atomically; return the formula notes (sheet, cells, formula, text)."""
    notes: list[tuple[str, str, str, str]] = []
    with atomic_path(target) as tmp:
        wb = xlsxwriter.Workbook(str(tmp))
        wb.set_properties({"title": survey.title, "creator": "xlsgen"})
        st = Styles(wb)
        summary = wb.add_worksheet("集計")
        members = wb.add_worksheet("参加団体")
        _participants(wb, st, members, survey, notes)
        refs = _summary(wb, st, summary, survey, notes)
        _free_text(wb, st, survey)
        _checks(wb, st, survey, refs, notes)
        add_formula_map(wb, notes)
        summary.activate()
        theme.fit_rows(wb)
        wb.close()
    return notes


def _title(ws, st, survey: Survey, name: str) -> None:
    ws.write_string(0, 0, f"{survey.title}　{name}", st("title"))
    wide_note(ws, 1, f"出典：{survey.source}", st("sub"))


def _participants(wb, st, ws, survey: Survey, notes: list) -> None:
    setup_sheet(ws, f"{survey.title}　参加団体", [6, 40], repeat=3)
    _title(ws, st, survey, "参加団体")
    for c, h in enumerate(("No", "参加団体（入力）")):
        ws.write_string(3, c, h, st("head"))
    for i, name in enumerate(survey.participants):
        ws.write_number(4 + i, 0, i + 1, st("center"))
        ws.write_string(4 + i, 1, name, st("input"))
    last = 3 + len(survey.participants)
    wb.define_name(F.PARTICIPANTS, "=" + on_sheet(ws.name, area(4, 1, last, 1, absolute=True)))
    ws.protect("", {"format_columns": True, "format_rows": True})


def _summary(wb, st, ws, survey: Survey, notes: list) -> dict:
    setup_sheet(ws, f"{survey.title}　集計", [46, 14, 16, 10], repeat=None)
    _title(ws, st, survey, "集計")
    if survey.event:
        wide_note(ws, 2, f"開催：{survey.event}　青字・黄色網掛けは入力値（回答数）、"
                         "割合はすべて計算式です。", st("sub"))
    for c, h in enumerate(("項目", "値", "単位")):
        ws.write_string(4, c, h, st("head"))
    n, r = len(survey.participants), survey.respondents
    ws.write_string(5, 0, "参加団体数（参加団体シートの一覧）", st("text"))
    ws.write_formula(5, 1, F.count_participants(), st("num", "#,##0"), n)
    ws.write_string(6, 0, "回答数（回答した団体）", st("text"))
    ws.write_number(6, 1, r, st("input", "#,##0"))
    ws.write_string(7, 0, "回答率", st("result"))
    ws.write_formula(7, 1, F.response_rate(), st("result", PCT), r / n)
    for row, unit in ((5, "団体"), (6, "団体"), (7, "%")):
        ws.write_string(row, 2, unit, st("center"))
    for name, row in ((F.N_PARTICIPANTS, 5), (F.N_RESPONDENTS, 6), (F.RESPONSE_RATE, 7)):
        wb.define_name(name, "=" + on_sheet(ws.name, cell(row, 1, absolute=True)))
    notes += [(ws.name, "B6", F.count_participants(), "参加団体シートの一覧の団体数"),
              (ws.name, "B8", F.response_rate(), "回答率＝回答数÷参加団体数")]
    refs = {"回答率": on_sheet(ws.name, cell(7, 1, absolute=True))}
    row = 9
    for qi, q in enumerate(survey.questions):
        if not q.options:
            continue
        ws.write_string(row, 0, q.title, st("section"))
        for c in (1, 2):
            ws.write_blank(row, c, None, st("section"))
        row += 1
        for c, h in enumerate(("選択肢", "回答数", "割合（回答団体に対する）")):
            ws.write_string(row, c, h, st("head"))
        row += 1
        first = row
        for oi, o in enumerate(q.options):
            ws.write_string(row, 0, o.label, st("text"))
            ws.write_number(row, 1, o.count, st("input", "#,##0"))
            ws.write_formula(row, 2, F.share(cell(row, 1)), st("num", PCT), o.share(r))
            refs[(qi, oi)] = on_sheet(ws.name, cell(row, 2, absolute=True))
            row += 1
        notes.append((ws.name, area(first, 2, row - 1, 2), F.share(cell(first, 1)),
                      "選択肢の割合＝その選択肢の回答数÷回答数（複数回答のため合計は100%を超えます）"))
        row += 1
    ws.protect("", {"format_columns": True, "format_rows": True})
    return refs


def _free_text(wb, st, survey: Survey) -> None:
    ws = wb.add_worksheet("自由記述")
    setup_sheet(ws, f"{survey.title}　自由記述", [4, 90])
    _title(ws, st, survey, "自由記述")
    row = 3
    for q in (q for q in survey.questions if q.answers):
        ws.write_string(row, 0, q.title, st("section"))
        ws.write_blank(row, 1, None, st("section"))
        row += 1
        for a in q.answers:
            ws.write_string(row, 0, "・", st("text"))
            ws.write_string(row, 1, a, st("text"))
            row += 1
        row += 1


def _checks(wb, st, survey: Survey, refs: dict, notes: list) -> None:
    ws = wb.add_worksheet("チェック")
    setup_sheet(ws, f"{survey.title}　チェック", [60, 12, 12, 10, 10], landscape=True)
    _title(ws, st, survey, "チェック（公表値との照合）")
    for c, h in enumerate(("項目", "計算値", "公表値", "照合桁数", "判定")):
        ws.write_string(3, c, h, st("head"))
    row = 4
    rows = [("回答率", refs["回答率"], survey.response_rate, *survey.published_rate)] \
        if survey.published_rate else []
    rows += [(f"{q.title}：{o.label}", refs[(qi, oi)], o.share(survey.respondents), *o.published)
             for qi, q in enumerate(survey.questions) for oi, o in enumerate(q.options)
             if o.published]
    for label, ref, value, published, digits in rows:
        ws.write_string(row, 0, label, st("text"))
        ws.write_formula(row, 1, link(ref), st("num", PCT), value)
        ws.write_number(row, 2, published, st("num", PCT))
        ws.write_number(row, 3, digits, st("center"))
        ok = excel_round(value, digits) == published
        ws.write_formula(row, 4, F.judge_rounded(cell(row, 1), cell(row, 3), cell(row, 2)),
                         st("center"), "一致" if ok else "不一致")
        row += 1
    notes.append((ws.name, area(4, 4, row - 1, 4), F.judge_rounded("B5", "D5", "C5"),
                  "計算値を公表値の桁で四捨五入して比較"))
    if survey.participants_stated is not None:
        # the count from the list against the 「計○団体」 of the source, both in 団体
        ws.write_string(row, 0, "参加団体数（参加団体シートの一覧の件数と、資料の「計○団体」）", st("text"))
        n = len(survey.participants)
        count_fmt = st("num", '#,##0"団体"')
        ws.write_formula(row, 1, link(F.N_PARTICIPANTS), count_fmt, n)
        ws.write_number(row, 2, survey.participants_stated, count_fmt)
        ws.write_string(row, 3, "件数", st("center"))
        ws.write_formula(row, 4, F.judge_equal(cell(row, 1), cell(row, 2)), st("center"),
                         "一致" if n == survey.participants_stated else "不一致")
        notes.append((ws.name, cell(row, 4), F.judge_equal(cell(row, 1), cell(row, 2)),
                      "一覧から数えた参加団体数と資料の合計が同じか"))
    ws.protect("", {"format_columns": True, "format_rows": True})

