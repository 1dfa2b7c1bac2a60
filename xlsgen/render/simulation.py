"""Simulation workbooks with xlsxwriter: one sheet set per model, in FAST order.

前提条件 (inputs only) → 費用 → 収支 → 損益分岐点 → 販売価格 → 人件費 → 感度分析 →
損益分岐点グラフ → チェック, plus 比較 (表-2) when there are several models. Every number
outside 前提条件 is a live formula written with the value computed in Python.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from xlsgen import simulation as S
from xlsgen import text as legal
from xlsgen.atomic import atomic_path
from xlsgen.formulas import area, cell, link, on_sheet
from xlsgen.formulas.simulation import col_fixed, describe, formula, row_fixed, sum_of
from xlsgen.render import theme
from xlsgen.render.sheet_styles import FONT, PCT, YEN, Styles, wide_note
from xlsgen.render.sheet_styles import add_formula_map as _formula_map
from xlsgen.render.sheet_styles import setup_sheet as _setup


def _num_format(values: list[float], unit: str) -> str:
    """Display format of an input or quantity: percent, yen, or as many decimals as typed."""
    if unit == "%":
        return PCT
    decimals = max((len(f"{v:.6g}".split(".")[1]) if "." in f"{v:.6g}" else 0) for v in values)
    return YEN if decimals == 0 else "#,##0." + "0" * min(decimals, 4)


class ModelSheets:
    """Writes one model's sheet set; names and sheets get `prefix` when models share a book."""

    def __init__(self, wb, st: Styles, ev: S.Evaluation, prefix: str, notes: list):
        self.wb, self.st, self.ev, self.sim = wb, st, ev, ev.sim
        self.prefix, self.notes = prefix, notes
        self.inputs: dict[str, list[tuple[int, int]]] = {}  # name → cells on 前提条件
        self.refs: dict[str, object] = {}  # cells other sheets point at (charts, checks)
        self.line_rows: dict[str, int] = {}  # cost account → its row on 費用
        self.written: dict[tuple[str, int, int], str] = {}  # formulas, for 数式一覧

    # -- helpers ---------------------------------------------------------------------
    def sheet_name(self, base: str) -> str:
        return self.prefix + base

    def name(self, n: str) -> str:
        return self.prefix + n

    def add_sheet(self, base: str, widths, landscape=False, repeat=None):
        ws = self.wb.add_worksheet(self.sheet_name(base))
        _setup(ws, f"{self.sim.title}　{base}", widths, landscape, repeat)
        ws.write_string(0, 0, f"{self.sim.title}　{base}", self.st("title"))
        if self.sim.source:
            wide_note(ws, 1, f"出典：{self.sim.source}", self.st("sub"))
        return ws

    def define(self, n: str, ws, row: int, col: int, last: tuple[int, int] | None = None):
        ref = area(row, col, *(last or (row, col)), absolute=True)
        self.wb.define_name(self.name(n), "=" + on_sheet(ws.name, ref))

    def put(self, ws, row: int, col: int, expr: S.Expr, fmt, local=None):
        """Write `expr` as a formula and its Python value; `local` binds names to cells."""
        local = local or {}
        text = formula(expr, lambda n: local[n][0] if n in local else self.name(n))
        value = self.ev.value(expr, {k: v for k, (_, v) in local.items()})
        ws.write_formula(row, col, text, fmt, value)
        self.written[(ws.name, row, col)] = text
        return value

    def put_link(self, ws, row: int, col: int, n: str, fmt):
        ws.write_formula(row, col, link(self.name(n)), fmt, self.ev[n])
        self.written[(ws.name, row, col)] = link(self.name(n))

    def note(self, ws, first: tuple[int, int], last: tuple[int, int], explanation: str) -> None:
        """One 数式一覧 row: the range of a formula pattern, its first formula, what it means."""
        example = self.written[(ws.name, *first)]
        self.notes.append((ws.name, area(*first, *last), example, explanation))

    def header(self, ws, row: int, labels: list[str], col: int = 0) -> None:
        for i, h in enumerate(labels):
            ws.write_string(row, col + i, h, self.st("head"))

    def result_row(self, ws, row: int, col: int, n: str, fmt, explanation: str) -> None:
        expr = S.result_expr(n)
        self.put(ws, row, col, expr, fmt)
        self.define(n, ws, row, col)
        self.note(ws, (row, col), (row, col), explanation)

    def fmt_of(self, n: str) -> str:
        return PCT if n in ("利益率", "限界利益率", "安全余裕比率", "目標利益率") else YEN

    def unit_of(self, n: str) -> str:
        """The unit a value is shown in: the template's unit of an input or quantity, % for
        the ratios, the unit of 販売単価 for a recommended price, else 円."""
        typed = {i.name: i.unit for i in self.sim.inputs} | {q.name: q.unit for q in self.sim.quantities}
        if typed.get(n):
            return typed[n]
        if self.fmt_of(n) == PCT:
            return "%"
        if n == "推奨販売価格":
            return typed.get("販売単価") or "円"
        return "円"

    # -- sheets ----------------------------------------------------------------------
    def write(self) -> None:
        self.inputs_sheet()
        self.costs_sheet()
        self.income_sheet()
        self.breakeven_sheet()
        self.price_sheet()
        self.labour_sheet()
        self.sensitivity_sheet()
        self.chart_sheet()
        self.check_sheet()

    def inputs_sheet(self) -> None:
        st = self.st
        ws = self.add_sheet("前提条件", [26, 22, 14, 11, 18, 62], repeat=None)
        wide_note(ws, 2, "青字・黄色網掛けのセルだけが入力値です。ほかのシートはすべて"
                         "この値を参照する計算式なので、ここを変えると全体が再計算されます。", st("sub"))
        row = 3
        for line in self.sim.description:
            wide_note(ws, row, f"・{line}", st("sub"))
            row += 1
        row += 1
        self.header(ws, row, ["項目", "内訳", "入力値", "単位", "名前（数式で使用）", "出典・備考"])
        ws.repeat_rows(row)
        row += 1
        for section in self.sim.sections:
            for c in range(6):
                ws.write_blank(row, c, None, st("section"))
            ws.write_string(row, 0, section.title, st("section"))
            row += 1
            for inp in section.inputs:
                values = [v for _, v in inp.items] if inp.is_group else [inp.value]
                fmt = st("input", _num_format(values, inp.unit))
                ws.write_string(row, 0, inp.label, st("text"))
                ws.write_string(row, 4, self.name(inp.name), st("text"))
                ws.write_string(row, 5, inp.note, st("note"))
                if not inp.is_group:
                    ws.write_blank(row, 1, None, st("text"))
                    ws.write_number(row, 2, inp.value, fmt)
                    ws.write_string(row, 3, inp.unit, st("center"))
                    self.inputs[inp.name] = [(row, 2)]
                    self.define(inp.name, ws, row, 2)
                    row += 1
                    continue
                first = row
                for label, value in inp.items:
                    if row > first:
                        for c in (0, 4, 5):
                            ws.write_blank(row, c, None, st("text"))
                    ws.write_string(row, 1, label, st("text"))
                    ws.write_number(row, 2, value, fmt)
                    ws.write_string(row, 3, inp.unit, st("center"))
                    row += 1
                self.inputs[inp.name] = [(r, 2) for r in range(first, row)]
                self.define(inp.name, ws, first, 2, (row - 1, 2))
        self.input_sheet = ws
        ws.protect("", {"format_columns": True, "format_rows": True})
        ws.activate()

    def input_ref(self, n: str, i: int) -> str:
        r, c = self.inputs[n][i]
        return on_sheet(self.sheet_name("前提条件"), cell(r, c, absolute=True))

    def costs_sheet(self) -> None:
        st, ev = self.st, self.ev
        ws = self.add_sheet("費用", [10, 26, 46, 14, 15, 48], landscape=True)
        ws.write_string(2, 5, "（単位：円。数量を除く）", st("unit"))
        row = 3
        self.header(ws, row, ["区分", "項目", "算定式", "単位", "数量", "備考"])
        row += 1
        for q in self.sim.quantities:
            ws.write_string(row, 0, "数量", st("center"))
            ws.write_string(row, 1, q.label, st("text"))
            ws.write_string(row, 2, describe(q.expr), st("note"))
            ws.write_string(row, 3, q.unit, st("center"))
            self.put(ws, row, 4, q.expr, st("num", _num_format([ev[q.name]], q.unit)))
            ws.write_string(row, 5, q.note, st("note"))
            self.define(q.name, ws, row, 4)
            self.note(ws, (row, 4), (row, 4), f"{q.label}（{q.unit}）")
            row += 1
        row += 1
        self.header(ws, row, ["区分", "勘定科目", "算定式", "月額", "年額", "備考"])
        ws.repeat_rows(row)
        row += 1
        subtotal = {}
        for cls, label, total in (("変動費", "製造費用（直接コスト）", "製造費用"),
                                  ("固定費", "経費（間接コスト）", "固定費")):
            first = row
            for line in self.sim.lines(cls):
                self.line_rows[line.account] = row
                ws.write_string(row, 0, cls, st("center"))
                ws.write_string(row, 1, line.account, st("text"))
                ws.write_string(row, 2, describe(line.expr), st("note"))
                self.put(ws, row, 4, line.expr, st("num", YEN))
                self.put(ws, row, 3, S.MONTHLY, st("num", YEN),
                         {"年額": (cell(row, 4), ev.lines[line.account])})
                ws.write_string(row, 5, line.note, st("note"))
                self.note(ws, (row, 4), (row, 4), f"{line.account}（{cls}）の年額")
                row += 1
            self.note(ws, (first, 3), (row - 1, 3), "月額＝年額÷12")
            ws.write_string(row, 0, "", st("total"))
            ws.write_string(row, 1, f"{label}計（{cls}）", st("total"))
            ws.write_string(row, 2, f"{cls}の合計", st("total"))
            yearly = sum(ev.lines[c.account] for c in self.sim.lines(cls))
            for col in (3, 4):
                value = yearly / 12 if col == 3 else yearly
                ws.write_formula(row, col, sum_of(area(first, col, row - 1, col)),
                                 st("total", YEN), value)
                self.written[(ws.name, row, col)] = sum_of(area(first, col, row - 1, col))
            ws.write_blank(row, 5, None, st("total"))
            self.define(total, ws, row, 4)
            self.note(ws, (row, 3), (row, 4), f"{total}＝{cls}の各項目の合計（名前「{self.name(total)}」）")
            subtotal[cls] = row
            row += 1
        ws.write_string(row, 1, "費用合計", st("result"))
        ws.write_string(row, 2, describe(S.result_expr("費用合計")), st("result"))
        ws.write_blank(row, 0, None, st("result"))
        ws.write_blank(row, 5, None, st("result"))
        self.result_row(ws, row, 4, "費用合計", st("result", YEN), "製造費用と固定費の合計")
        self.put(ws, row, 3, S.MONTHLY, st("result", YEN), {"年額": (cell(row, 4), ev["費用合計"])})
        ws.protect("", {"format_columns": True, "format_rows": True})

    def _table(self, ws, row: int, rows: list[tuple], value_col: int = 3) -> int:
        """Rows of (label, description, name-or-expr, kind, unit?) → link/result/expr cells."""
        st = self.st
        for label, desc, target, kind, *unit in rows:
            fmt_kind = "result" if kind == "result" else "num"
            ws.write_string(row, value_col - 2, label, st("result" if kind == "result" else "text"))
            ws.write_string(row, value_col - 1, desc, st("note"))
            num = self.fmt_of(target) if isinstance(target, str) else YEN
            if unit and unit[0] == "kg/年":
                num = YEN
            if kind == "result":
                self.result_row(ws, row, value_col, target, st(fmt_kind, num), f"{label}")
            elif kind == "link":
                self.put_link(ws, row, value_col, target, st(fmt_kind, num))
            else:
                self.put(ws, row, value_col, target, st(fmt_kind, num))
            if unit:
                ws.write_string(row, value_col + 1, unit[0], st("center"))
            row += 1
        return row

    def income_sheet(self) -> None:
        ws = self.add_sheet("収支", [12, 30, 48, 18])
        ws.write_string(2, 3, "（単位：円）", self.st("unit"))
        self.header(ws, 3, ["区分", "項目", "内容", "金額"])
        rows = [
            ("売上高", "販売数量 × 販売単価（販売先は前提条件のとおり）", "売上高", "result"),
            ("製造費用（直接コスト）", "費用シートの変動費の合計", "製造費用", "link"),
            ("固定費（間接コスト）", "費用シートの固定費の合計", "固定費", "link"),
            ("小計", "製造費用 ＋ 固定費", "費用合計", "link"),
            ("営業利益", "売上高 － 製造費用 － 固定費", "営業利益", "result"),
            ("利益率", "営業利益 ÷ 売上高（利益率10%以上が目安）", "利益率", "result"),
        ]
        for r, group in zip(range(4, 10), ("収入", "費用", "", "", "営業利益", "")):
            ws.write_string(r, 0, group, self.st("text"))
        self._table(ws, 4, rows)
        ws.protect("", {"format_columns": True, "format_rows": True})

    def breakeven_sheet(self) -> None:
        st = self.st
        ws = self.add_sheet("損益分岐点", [14, 30, 46, 18, 16, 16])
        ws.write_string(2, 3, "（単位：円）", st("unit"))
        self.header(ws, 3, ["区分", "項目", "算定式", "金額"])
        rows = [
            ("売上高", "販売数量 × 販売単価", "売上高", "link"),
            ("変動費（製造費用）", "売上に応じて変動する費用", "製造費用", "link"),
            ("限界利益", describe(S.result_expr("限界利益")), "限界利益", "result"),
            ("限界利益率", "（売上高 － 変動費）÷ 売上高", "限界利益率", "result"),
            ("固定費（間接コスト）", "売上に関係なく発生する費用", "固定費", "link"),
            ("損益分岐点売上高", "固定費 ÷ 限界利益率（円未満四捨五入）", "損益分岐点売上高", "result"),
            ("安全余裕比率", "（売上高 － 損益分岐点売上高）÷ 売上高", "安全余裕比率", "result"),
        ]
        for r in range(4, 4 + len(rows)):
            ws.write_blank(r, 0, None, st("text"))
        row = self._table(ws, 4, rows)
        ws.write_string(row, 1, "損益分岐点の販売数量（kg）", st("text"))
        ws.write_string(row, 2, describe(S.BEP_VOLUME), st("note"))
        ws.write_blank(row, 0, None, st("text"))
        self.put(ws, row, 3, S.BEP_VOLUME, st("num", YEN))
        self.refs["bep_volume"] = on_sheet(ws.name, cell(row, 3, absolute=True))
        self.refs["bep_sales"] = on_sheet(ws.name, cell(row - 2, 3, absolute=True))
        row += 2
        wide_note(ws, row, "損益分岐点グラフのデータ（販売数量を変えたときの売上高と総費用）", st("sub"))
        row += 1
        self.header(ws, row, ["数量比率"] + [h for h, _ in S.CHART_COLUMNS])
        row += 1
        first = row
        ratios = self.sim.input(S.CHART_RATIOS).items
        for i, (_, ratio) in enumerate(ratios):
            ws.write_formula(row, 0, link(self.input_ref(S.CHART_RATIOS, i)), st("num", PCT), ratio)
            local = {"比率": (cell(row, 0), ratio)}
            for j, (_, expr) in enumerate(S.CHART_COLUMNS, 1):
                self.put(ws, row, j, expr, st("num", YEN), local)
            row += 1
        for j, (h, _) in enumerate(S.CHART_COLUMNS, 1):
            self.note(ws, (first, j), (row - 1, j),
                      f"グラフ用の{h}（比率は前提条件のグラフ数量比率）")
        self.chart_rows = (first, row - 1)
        self.chart_sheet_src = ws.name
        ws.protect("", {"format_columns": True, "format_rows": True})

    def price_sheet(self) -> None:
        ws = self.add_sheet("販売価格", [4, 34, 44, 16, 10])
        self.header(ws, 3, ["", "項目", "算定式", "金額", "単位"])
        rows = [
            ("販売数量（パウダー）", "前提条件から算出", "販売数量", "link", "kg/年"),
            ("製造費用（直接コスト）", "費用シートの変動費の合計", "製造費用", "link", "円/年"),
            ("1kgあたりの製造コスト", "製造費用 ÷ 販売数量", "製造コスト単価", "result", "円/kg"),
            ("固定費（間接コスト）", "費用シートの固定費の合計", "固定費", "link", "円/年"),
            ("1kgあたりの間接コスト", "固定費 ÷ 販売数量", "間接コスト単価", "result", "円/kg"),
            ("目標利益率", "前提条件", "目標利益率", "link", "%"),
            ("目標利益額（1kgあたり）", "（製造コスト ＋ 間接コスト）× 目標利益率",
             "目標利益単価", "result", "円/kg"),
            ("推奨販売価格（1kgあたり）", "製造コスト ＋ 間接コスト ＋ 目標利益額（円未満四捨五入）",
             "推奨販売価格", "result", "円/kg"),
            ("現在の販売単価", "前提条件", "販売単価", "link", "円/kg"),
            ("販売単価 － 推奨販売価格", "正なら目標利益率を上回る価格設定", S.PRICE_GAP, "expr",
             "円/kg"),
        ]
        self._table(ws, 4, rows)
        ws.protect("", {"format_columns": True, "format_rows": True})

    def labour_sheet(self) -> None:
        st, ev, h = self.st, self.ev, self.sim.hiring
        ws = self.add_sheet("人件費", [18, 11, 11, 11, 12, 13, 14, 30], landscape=True)
        ws.write_string(2, 7, "（単位：円）", st("unit"))
        self.header(ws, 3, ["雇用形態", "時給", "労働時間（時間/日）", "稼働日数（日/月）",
                            "日給", "月額", "年額", "備考"])
        row = 4
        for t in h.types:
            ws.write_string(row, 0, t.label, st("result" if t.adopted else "text"))
            self.put_link(ws, row, 1, t.wage, st("num", YEN))
            self.put_link(ws, row, 2, h.hours, st("num", YEN))
            self.put_link(ws, row, 3, h.days, st("num", YEN))
            daily = self.put(ws, row, 4, S.DAILY_PAY, st("num", YEN),
                             {"時給": (cell(row, 1), ev[t.wage]), "時間": (cell(row, 2), ev[h.hours])})
            monthly = self.put(ws, row, 5, S.MONTHLY_PAY, st("num", YEN),
                               {"日給": (cell(row, 4), daily), "日数": (cell(row, 3), ev[h.days])})
            self.put(ws, row, 6, S.YEARLY_PAY, st("result" if t.adopted else "num", YEN),
                     {"月額": (cell(row, 5), monthly)})
            ws.write_string(row, 7, f"本モデルで採用（費用の{h.line}）" if t.adopted else "比較用",
                            st("note"))
            if t.adopted:
                self.refs["adopted"] = (on_sheet(ws.name, cell(row, 6, absolute=True)),
                                        monthly * 12)
            row += 1
        for col, what in ((4, "日給＝時給×労働時間"), (5, "月額＝日給×稼働日数"),
                          (6, "年額＝月額×12")):
            self.note(ws, (4, col), (row - 1, col), f"雇用形態別の{what}")
        ws.protect("", {"format_columns": True, "format_rows": True})

    def sensitivity_sheet(self) -> None:
        st = self.st
        rates = [v for _, v in self.sim.input(S.SENSITIVITY).items]
        ws = self.add_sheet("感度分析", [16, 16] + [14] * len(rates), landscape=True)
        wide_note(ws, 2, "営業利益（円）＝ 販売数量 ×（販売単価 － 1kgあたりの製造コスト）－ 固定費。"
                         "変化率は前提条件の「感度分析の変化率」で変更できます。", st("sub"))
        top, left = 4, 2
        ws.write_string(top, 1, "販売単価の変化率", st("head"))
        ws.write_string(top + 1, 0, "販売数量の変化率", st("head"))
        ws.write_string(top + 1, 1, "数量（kg）＼単価（円/kg）", st("head"))
        ws.set_row(top + 1, 30)
        prices, volumes = [], []
        for j, rate in enumerate(rates):
            ws.write_formula(top, left + j, link(self.input_ref(S.SENSITIVITY, j)),
                             st("head", PCT), rate)
            prices.append(self.put(ws, top + 1, left + j, S.SENS_PRICE, st("head", YEN),
                                   {"変化率": (cell(top, left + j), rate)}))
        for i, rate in enumerate(rates):
            r = top + 2 + i
            ws.write_formula(r, 0, link(self.input_ref(S.SENSITIVITY, i)), st("head", PCT), rate)
            volumes.append(self.put(ws, r, 1, S.SENS_VOLUME, st("head", YEN),
                                    {"変化率": (cell(r, 0), rate)}))
        base = None
        for i, volume in enumerate(volumes):
            r = top + 2 + i
            for j, price in enumerate(prices):
                centre = rates[i] == 0 and rates[j] == 0
                value = self.put(ws, r, left + j, S.SENS_PROFIT,
                                 st("result" if centre else "num", YEN),
                                 {"数量": (col_fixed(r, 1), volume),
                                  "価格": (row_fixed(top + 1, left + j), price)})
                if centre:
                    base = (on_sheet(ws.name, cell(r, left + j, absolute=True)), value)
        last = (top + 1 + len(volumes), left + len(prices) - 1)
        ws.conditional_format(top + 2, left, *last, {
            "type": "cell", "criteria": "<", "value": 0,
            "format": self.wb.add_format({"font_color": theme.WARN_FONT, "bg_color": theme.WARN_FILL})})
        self.refs["sens_base"] = base
        self.note(ws, (top + 1, left), (top + 1, last[1]),
                  "販売単価の軸（前提条件の販売単価 ×（1＋変化率））")
        self.note(ws, (top + 2, 1), (last[0], 1),
                  "販売数量の軸（前提条件の販売数量 ×（1＋変化率））")
        self.note(ws, (top + 2, left), last,
                  "各セルの営業利益（数量＝行の販売数量、価格＝列の販売単価）")
        wide_note(ws, last[0] + 2, "太字・緑の網掛けは前提条件どおりの値（収支シートの営業利益と同じ）。"
                  "赤字は営業損失です。", st("sub"))
        ws.protect("", {"format_columns": True, "format_rows": True})

    def chart_sheet(self) -> None:
        src, (first, last) = self.chart_sheet_src, self.chart_rows
        chart = self.wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
        x = [src, first, 1, last, 1]
        for i, (col, label) in enumerate(((2, "売上高"), (5, "総費用"), (4, "固定費"))):
            values = [src, first, col, last, col]
            chart.add_series({"name": label, "categories": x, "values": values,
                              **theme.series_style(i)})
        chart.add_series({"name": "損益分岐点", "categories": "=" + self.refs["bep_volume"],
                          "values": "=" + self.refs["bep_sales"],
                          "marker": {"type": "diamond", "size": 10,
                                     "fill": {"color": theme.MARK_FILL},
                                     "border": {"color": theme.MARK_LINE}},
                          "line": {"none": True}})
        font = {"name": FONT}
        chart.set_title({"name": f"{self.sim.title}　損益分岐点（売上高と総費用）",
                         "name_font": {"name": FONT, "size": 13}})
        chart.set_x_axis({"name": "販売数量（kg/年）", "num_format": "#,##0", "num_font": font,
                          "name_font": font, "min": 0})
        chart.set_y_axis({"name": "金額（円）", "num_format": "#,##0", "num_font": font,
                          "name_font": font, "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "bottom", "font": font})
        cs = self.wb.add_chartsheet(self.sheet_name("損益分岐点グラフ"))
        cs.set_chart(chart)
        cs.set_paper(9)
        cs.set_header(f'&C&"{FONT},Bold"&11{legal.header_text(self.sim.title + "　損益分岐点グラフ", 200)}')
        cs.set_footer("&C&P / &N ページ")

    def check_sheet(self) -> None:
        st, ev, sim = self.st, self.ev, self.sim
        ws = self.add_sheet("チェック", [6, 72, 16, 16, 10, 12], landscape=True)
        row = 3
        ws.write_string(row, 0, "1. 資料の記載の不整合・注意（公表値はそのまま再現しています）", st("title"))
        row += 1
        self.header(ws, row, ["No", "内容", "", "", "", "状態"])
        row += 1
        judge = (row, 5)
        for i, w in enumerate(sim.warnings, 1):
            ws.write_number(row, 0, i, st("center"))
            ws.write_string(row, 1, w.message, st("note"))
            for c in (2, 3, 4):
                ws.write_blank(row, c, None, st("text"))
            if w.condition is None:
                ws.write_string(row, 5, "要確認", st("center"))
            else:
                self.put(ws, row, 5, S.warning_state(w.condition), st("center"))
                self.note(ws, (row, 5), (row, 5),
                          "条件が成り立つ間は「要確認」、入力を直して解消すれば「解消」")
            ws.set_row(row, 42)
            row += 1
        for n in sim.notices:
            ws.write_string(row, 0, "-", st("center"))
            ws.write_string(row, 1, n, st("note"))
            ws.write_string(row, 5, "要確認", st("center"))
            row += 1
        row += 1
        ws.write_string(row, 0, "2. 公表値との照合", st("title"))
        row += 1
        self.header(ws, row, ["No", "項目", "計算値", "公表値", "照合桁数", "判定"])
        row += 1
        first = row
        for i, p in enumerate(sim.published, 1):
            num = self.fmt_of(p.name)
            ws.write_number(row, 0, i, st("center"))
            ws.write_string(row, 1, self.name(p.name), st("text"))
            self.put_link(ws, row, 2, p.name, st("num", num))
            ws.write_number(row, 3, p.value, st("num", num))
            ws.write_number(row, 4, p.digits, st("center"))
            self.put(ws, row, 5, S.PUBLISHED_JUDGE, st("center"), {
                "計算値": (cell(row, 2), ev[p.name]), "桁数": (cell(row, 4), p.digits),
                "公表値": (cell(row, 3), p.value)})
            row += 1
        if sim.published:
            self.note(ws, (first, 5), (row - 1, 5), "計算値を公表値の桁で四捨五入して比較")
        row += 1
        ws.write_string(row, 0, "3. 計算の整合性", st("title"))
        row += 1
        self.header(ws, row, ["No", "内容", "差", "", "", "判定"])
        row += 1
        adopted_ref, adopted_value = self.refs["adopted"]
        line_ref = on_sheet(self.sheet_name("費用"),
                            cell(self.line_rows[sim.hiring.line], 4, absolute=True))
        local_of = {
            0: {},
            1: {"基準": self.refs["sens_base"]} if self.refs.get("sens_base") else None,
            2: {"採用年額": (adopted_ref, adopted_value),
                "労務費": (line_ref, ev.lines[sim.hiring.line])},
        }
        for i, (label, expr) in enumerate(S.CHECKS):
            local = local_of[i]
            if local is None:
                continue
            ws.write_number(row, 0, i + 1, st("center"))
            ws.write_string(row, 1, label, st("note"))
            diff = self.put(ws, row, 2, expr, st("num", YEN), local)
            ws.write_blank(row, 3, None, st("text"))
            ws.write_blank(row, 4, None, st("text"))
            self.put(ws, row, 5, S.CHECK_JUDGE, st("center"), {"差": (cell(row, 2), diff)})
            self.note(ws, (row, 2), (row, 2), label)
            row += 1
        red = self.wb.add_format({"font_color": theme.WARN_FONT, "bold": True, "bg_color": theme.WARN_FILL})
        green = self.wb.add_format({"font_color": theme.GOOD_FONT, "bg_color": theme.GOOD_FILL})
        for text, fmt in (("要確認", red), ("不一致", red), ("一致", green), ("OK", green),
                          ("解消", green)):
            ws.conditional_format(judge[0], 5, row, 5, {"type": "cell", "criteria": "==",
                                                         "value": f'"{text}"', "format": fmt})
        ws.protect("", {"format_columns": True, "format_rows": True})


def _comparison(wb, st: Styles, models: list[ModelSheets], notes: list) -> None:
    ws = wb.add_worksheet("比較")
    title = "事業モデル収支シミュレーション結果概要（表-2）"
    _setup(ws, title, [12, 26, 34, 9] + [20] * len(models))
    ws.write_string(0, 0, title, st("title"))
    wide_note(ws, 1, "各モデルのシートの名前（" + "・".join(m.prefix + "売上高" for m in models)
              + " など）を参照する計算式です。", st("sub"))
    ws.write_string(2, 3, "（単位は行ごと）", st("unit"))
    headers = ["項目", "内容", "説明", "単位"] + [m.sim.title for m in models]
    for i, h in enumerate(headers):
        ws.write_string(3, i, h, st("head"))
    ws.set_row(3, 30)
    rows = [
        ("前提", "製造物（販売数量）", "年間の販売数量", "販売数量"),
        ("", "販売単価", "製造物 1 単位の販売価格", "販売単価"),
        ("収入", "売上高", "販売数量 × 販売単価", "売上高"),
        ("費用", "製造費用", "直接コスト（変動費）", "製造費用"),
        ("", "固定費", "間接コスト", "固定費"),
        ("", "小計", "製造費用 ＋ 固定費", "費用合計"),
        ("営業利益", "営業利益", "収入 － 製造費用 － 固定費", "営業利益"),
        ("", "利益率", "営業利益 ÷ 売上高", "利益率"),
        ("損益分岐点", "限界利益率", "（売上高 － 変動費）÷ 売上高", "限界利益率"),
        ("", "損益分岐点売上高", "固定費 ÷ 限界利益率", "損益分岐点売上高"),
        ("", "安全余裕比率", "（売上高 － 損益分岐点売上高）÷ 売上高", "安全余裕比率"),
        ("販売価格", "推奨販売価格", "目標利益率を含む販売単価", "推奨販売価格"),
    ]
    for r, (group, label, desc, n) in enumerate(rows, 4):
        ws.write_string(r, 0, group, st("text"))
        ws.write_string(r, 1, label, st("result" if n == "営業利益" else "text"))
        ws.write_string(r, 2, desc, st("note"))
        units = list(dict.fromkeys(m.unit_of(n) for m in models))
        ws.write_string(r, 3, "・".join(units), st("center"))
        for j, m in enumerate(models):
            m.put_link(ws, r, 4 + j, n, st("result" if n == "営業利益" else "num", m.fmt_of(n)))
    notes.append((ws.name, area(4, 4, 3 + len(rows), 3 + len(models)),
                  link(models[0].name("販売数量")), "各モデルの名前付きセル（接頭辞＝モデルの id）を表示"))
    ws.protect("", {"format_columns": True, "format_rows": True})


def write_simulation_workbook(evaluations: list[S.Evaluation], target: str | Path) -> list:
    """Write the workbook atomically; return the formula notes (sheet, cells, formula, text)."""
    notes: list[tuple[str, str, str, str]] = []
    with atomic_path(target) as tmp:
        wb = xlsxwriter.Workbook(str(tmp))
        wb.set_properties({"title": "事業モデル収支シミュレーション", "creator": "xlsgen"})
        st = Styles(wb)
        several = len(evaluations) > 1
        models = []
        for ev in evaluations:
            m = ModelSheets(wb, st, ev, f"{ev.sim.id}_" if several else "", notes)
            m.write()
            models.append(m)
        if several:
            _comparison(wb, st, models, notes)
        _formula_map(wb, notes)
        models[0].input_sheet.activate()
        theme.fit_rows(wb)
        wb.close()
    return notes
