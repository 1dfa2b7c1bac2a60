"""One department's input form (`xlsgen distribute`).

Sheets: 表紙 (for whom, what, by when, how to fill), 数値の入力 (KPI values and amounts,
one row each) and 文章の入力 (Check/Action texts and choices), then the very hidden
`_xlsgen` sheet with the form's identity (`xlsgen.roundtrip.form`). Input cells are shaded
and unlocked, each with its data validation (a number in the KPI's unit, a length limit,
a list); every other cell is locked and every sheet protected without a password. A4 like
every xlsgen output (`theme`). The same inputs give the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from xlsgen.atomic import atomic_path
from xlsgen.formulas.form import text_length
from xlsgen.render import theme
from xlsgen.render.theme import Styles
from xlsgen.roundtrip import form as F
from xlsgen.roundtrip.assignment import AMOUNT, CHOICE, KPI
from xlsgen.text import cell_text
from xlsgen.wareki import FiscalYear

TEXT_ROW_PT = 96  # room to type a paragraph in a text input
PROTECT = {"format_rows": True, "format_columns": True}  # a clerk may widen a row to read


class _Sheet:
    """A worksheet that records a fingerprint of every locked value it writes."""

    def __init__(self, ws, locked: dict[str, dict[str, str]]):
        self.ws = ws
        self.cells = locked.setdefault(ws.name, {})

    def put(self, r: int, c: int, value: Any, fmt) -> None:
        from xlsgen.formulas import cell

        if value is None or value == "":
            self.ws.write_blank(r, c, None, fmt)
            return
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.ws.write_number(r, c, value, fmt)
        else:
            value = cell_text(value)
            self.ws.write_string(r, c, value, fmt)
        self.cells[cell(r, c)] = F.cell_fingerprint(value)

    def merge(self, r1: int, c1: int, r2: int, c2: int, value: Any, fmt) -> None:
        from xlsgen.formulas import cell

        self.ws.merge_range(r1, c1, r2, c2, "", fmt)
        if value not in (None, ""):
            self.ws.write_string(r1, c1, cell_text(value), fmt)
            self.cells[cell(r1, c1)] = F.cell_fingerprint(cell_text(value))


def write_form(output: str | Path, identity: dict, inputs: list[F.FormInput]) -> None:
    """Write one form atomically."""
    with atomic_path(output) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False, "in_memory": True})
        title = f"{identity['book']['title']} {FiscalYear(identity['edition']).kanji}版 照会様式"
        wb.set_properties({"title": title, "subject": identity["owner"], "author": "xlsgen",
                           "created": datetime(2000, 1, 1)})
        st = Styles(wb)
        locked: dict[str, dict[str, str]] = {}
        _cover(wb, st, locked, identity, inputs, title)
        numbers = [i for i in inputs if i.sheet == F.NUMBER_SHEET]
        texts = [i for i in inputs if i.sheet == F.TEXT_SHEET]
        if numbers:
            _numbers(wb, st, locked, numbers, title, identity["owner"])
        if texts:
            _texts(wb, st, locked, texts, title, identity["owner"])
        _hidden(wb, identity, inputs, locked)
        theme.fit_rows(wb)
        wb.close()


def _cover(wb, st: Styles, locked: dict, identity: dict, inputs: list[F.FormInput], title: str) -> None:
    ws = wb.add_worksheet(F.COVER_SHEET)
    sh = _Sheet(ws, locked)
    theme.setup_sheet(ws, title, [16, 74])
    ws.protect("", PROTECT)
    fy = FiscalYear(identity["fiscal_year"]).kanji
    owner_kind = "回答する施策" if identity.get("owner_kind") == "measure" else "回答する課"
    numbers = sum(i.sheet == F.NUMBER_SHEET for i in inputs)
    texts = len(inputs) - numbers
    sh.merge(0, 0, 0, 1, title, st(bold=True, font_size=14, border=0, text_wrap=True))
    rows = [
        (owner_kind, identity["owner"]),
        ("記入する内容", f"{fy}の実績と評価（入力欄 {len(inputs)} か所: 数値 {numbers}、文章・選択 {texts}）"),
        ("提出期限", identity.get("due") or "照会元の指示に従ってください"),
        ("照会元", identity.get("contact") or ""),
        ("元のブック", f"{identity['master']}（{FiscalYear(identity['edition']).kanji}版）"),
        ("対象の施策", "\n".join(identity.get("measures") or [])),
    ]
    label, text = st(bold=True, bg_color=theme.LABEL_FILL, text_wrap=True), st.text()
    for r, (k, v) in enumerate(rows, start=2):
        sh.put(r, 0, k, label)
        sh.put(r, 1, v, text)
    r = len(rows) + 3
    sh.put(r, 0, "記入のしかた", label)
    sh.put(r, 1, "\n".join(_instructions(identity, numbers, texts)), text)
    shade = st(bg_color=theme.INPUT_FILL, locked=False)
    sh.put(r + 2, 0, "入力欄の色", label)
    ws.write_blank(r + 2, 1, None, shade)
    ws.set_portrait()
    ws.fit_to_pages(1, 1)


def _instructions(identity: dict, numbers: int, texts: int) -> list[str]:
    lines = ["1. 黄色のセルだけに入力してください。ほかのセルは保護されています（パスワードはありません。"
             "保護を外して書き換えた内容は取り込まれず、照会元に報告されます）。"]
    if numbers:
        lines.append(f"2. 「{F.NUMBER_SHEET}」: 数値は単位を付けずに入力します（単位は「単位」の列。% の指標は 17.8 "
                     "のように）。値がまだない指標は空欄のままにするか「－」を入力します。空欄は「回答なし」として扱い、"
                     "元の値は消えません。")
    if texts:
        lines.append(f"3. 「{F.TEXT_SHEET}」: 文章は黄色の欄に、文字数の上限までで入力します。今の文が入っている"
                     "欄は、直して使ってください。選択の欄は一覧から選びます。")
    lines += ["4. 行・列の挿入や削除、シート名の変更はしないでください。",
              "5. ファイル名を変えずに保存し、照会元へ返送してください。直して再提出するときは同じファイルを保存し"
              "直して送ります（後から保存したものが前の提出に置き換わります）。"]
    return lines


def _head(sh: _Sheet, st: Styles, columns) -> None:
    for c, (h, w) in enumerate(columns):
        sh.ws.set_column(c, c, w)
        sh.put(0, c, h, st.head())
    sh.ws.freeze_panes(1, 0)


def _input_sheet(wb, st: Styles, locked: dict, name: str, columns, title: str, owner: str) -> _Sheet:
    """A form's sheet of inputs (numbers or texts): headed columns, the page set up with the
    form's title and owner, protected (only the input cells are unlocked)."""
    sh = _Sheet(wb.add_worksheet(name), locked)
    _head(sh, st, columns)
    theme.page_setup(sh.ws, f"{title}　{owner}", None, (0, 0))
    sh.ws.protect("", PROTECT)
    return sh


def _input_format(st: Styles):
    return st(locked=False, bg_color=theme.INPUT_FILL, text_wrap=True, font_color=theme.INPUT_FONT)


def _numbers(wb, st: Styles, locked: dict, inputs: list[F.FormInput], title: str, owner: str) -> None:
    sh = _input_sheet(wb, st, locked, F.NUMBER_SHEET, F.NUMBER_COLUMNS, title, owner)
    ws = sh.ws
    text, centre = st.text(), st.text(align="center")
    for n, i in enumerate(inputs, start=1):
        a = i.assignment
        r = F.FIRST_ROW + n - 1
        sh.put(r, 0, n, centre)
        sh.put(r, 1, f"{a.measure_no} {a.measure}".strip(), text)
        sh.put(r, 2, a.label, text)
        sh.put(r, 3, a.item, text)
        sh.put(r, 4, a.unit or "", centre)
        sh.put(r, 5, "\n".join(f"{x.label}: {x.text}" for x in a.references), text)
        fmt = _input_format(st)
        value = a.current
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(r, F.NUMBER_INPUT_COL, value, fmt)
        elif value not in (None, ""):
            ws.write_string(r, F.NUMBER_INPUT_COL, cell_text(value), fmt)
        else:
            ws.write_blank(r, F.NUMBER_INPUT_COL, None, fmt)
        ws.data_validation(r, F.NUMBER_INPUT_COL, r, F.NUMBER_INPUT_COL, _number_rule(a))
        sh.put(r, 7, _how(a), st.text(font_color=theme.NOTE_FONT))


def _how(a) -> str:
    parts = []
    if a.unit:
        parts.append(f"単位 {a.unit} を付けずに数値で")
    else:
        parts.append("数値で")
    if a.minimum is not None:
        parts[-1] += f"（{_num(a.minimum)} 以上）"
    if a.group != AMOUNT and a.free_text:
        parts.append("文字でも可")
    elif a.group != AMOUNT and a.allowed_texts:
        parts.append("値がないときは空欄か「－」")
    if a.required:
        parts.append("必須")
    if a.note:
        parts.append(a.note)
    return "。".join(parts)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _number_rule(a) -> dict:
    what = f"{a.item}（{a.unit}）" if a.unit else a.item
    rule: dict[str, Any] = {"input_title": _cut("入力", 32), "input_message": _cut(f"{a.label}: {what}", 250)}
    if a.group == KPI and a.free_text:
        return {"validate": "any", **rule}
    low = a.minimum if a.minimum is not None else -1e15
    high = a.maximum if a.maximum is not None else 1e15
    rule.update({"validate": "decimal", "criteria": "between", "minimum": low, "maximum": high,
                 "error_title": "数値を入力してください",
                 "error_message": _cut(f"{what}を数値で入力してください"
                                       + (f"（{_num(low)} 以上）" if a.minimum is not None else ""), 250),
                 "error_type": "stop" if a.group == AMOUNT or not a.allowed_texts else "warning"})
    return rule


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _texts(wb, st: Styles, locked: dict, inputs: list[F.FormInput], title: str, owner: str) -> None:
    sh = _input_sheet(wb, st, locked, F.TEXT_SHEET, F.TEXT_COLUMNS, title, owner)
    ws = sh.ws
    text, centre = st.text(), st.text(align="center")
    for n, i in enumerate(inputs, start=1):
        a = i.assignment
        r = F.FIRST_ROW + n - 1
        sh.put(r, 0, n, centre)
        sh.put(r, 1, f"{a.measure_no} {a.measure}".strip(), text)
        item = a.item + (f"\n（{a.segment}の部分）" if a.segment else "")
        sh.put(r, 2, item, text)
        sh.put(r, 3, "\n".join(f"【{x.label}】\n{x.text}" for x in a.references), text)
        fmt = _input_format(st)
        value = "" if a.current in (None, "") else cell_text(a.current)
        if value:
            ws.write_string(r, F.TEXT_INPUT_COL, value, fmt)
        else:
            ws.write_blank(r, F.TEXT_INPUT_COL, None, fmt)
        if a.value_type == CHOICE:
            ws.data_validation(r, F.TEXT_INPUT_COL, r, F.TEXT_INPUT_COL, {
                "validate": "list", "source": list(a.choices), "input_title": "選択",
                "input_message": _cut(f"{a.item}: 一覧から選んでください", 250),
                "error_title": "一覧から選んでください",
                "error_message": _cut("使える値: " + "、".join(a.choices), 250)})
            ws.set_row(r, 30)
        else:
            if a.max_length:
                ws.data_validation(r, F.TEXT_INPUT_COL, r, F.TEXT_INPUT_COL, {
                    "validate": "length", "criteria": "<=", "value": a.max_length,
                    "input_title": "文章", "input_message": _cut(f"{a.item}: {a.max_length}字まで", 250),
                    "error_title": "文字数が多すぎます",
                    "error_message": f"{a.max_length}字以内で入力してください"})
            ws.write_formula(r, 5, text_length(r, F.TEXT_INPUT_COL), centre, len(value))
            ws.set_row(r, TEXT_ROW_PT)


def _hidden(wb, identity: dict, inputs: list[F.FormInput], locked: dict) -> None:
    """The identity sheet (very hidden, protected) and the custom properties."""
    ws = wb.add_worksheet(F.HIDDEN_SHEET)
    rows = F.hidden_rows(identity, inputs, locked)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write_string(r, c, value)
    ws.protect("")
    ws.very_hidden()
    seal = rows[-1][1]
    wb.set_custom_property(F.SEAL_PROPERTY, seal)
    wb.set_custom_property(F.OWNER_PROPERTY, cell_text(identity["owner"])[:255])
    wb.set_custom_property(F.MASTER_PROPERTY, identity["master_sha256"])
