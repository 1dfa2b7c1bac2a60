"""The report's calculation sheet (計算), the FAST Standard way, and the lookups of the
presentation sheets.

The calculation sheet holds tables whose rows are one item and period each (a KPI and a
fiscal year; a measure and a fiscal year of its cost block). Every column is one formula
copied down: its references are anchored by column (`$E3`) and relative by row, so each
column is one R1C1 pattern. The measure pages and 一覧 only look values up by the row's ID
(`INDEX(計算!$R$3:$R$500,MATCH($A20,計算!$A$3:$A$500,0))`): one pattern per column of the
presentation, whatever sheet it is on.

Every function returns (formula, value): the live formula and the value it gives, computed
here in Python so the cached value written with the formula is the same number.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsgen.formulas import cell, cell_fixed_col, on_sheet, text_literal
from xlsgen.formulas.achievement import NA, WORSE

# how a KPI's rate is computed (the 方式 column of the calculation sheet)
RATIO = "比率"           # actual ÷ target
INVERSE = "逆比率"       # target ÷ actual (lower is better, the city's own rule)
CUMULATIVE = "累計"      # sum of the actuals of the period so far ÷ target
PROGRESS = "進捗"        # (actual − baseline) ÷ (target − baseline)
REDUCTION = "減少"       # the same from the baseline downwards; target ÷ actual without one
NO_RATE = NA
METHODS = (RATIO, INVERSE, CUMULATIVE, PROGRESS, REDUCTION, NO_RATE)
FROM_BASELINE = (PROGRESS, REDUCTION)

# what a rate is called, as computed (the 測り方 column)
PROGRESS_LABEL = "進捗率"        # from the baseline towards the target
RATE_LABEL = "達成率"            # actual ÷ target (or target ÷ actual)
CUMULATIVE_LABEL = "累計達成率"  # the period's sum ÷ target

# the 設定 cell saying what a grade is given on
GRADE_BASIS = "評価の基準"
BASIS_PACE = "期待水準比"  # rate ÷ expected pace where there is one
BASIS_RATE = "率"          # the rate itself
NEAR = "基準近接"
EVAL_YEAR = "評価年度"
REPEAT_MARK = "再掲"
_NA, _WORSE = text_literal(NA), text_literal(WORSE)


def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass
class Table:
    """A table of the calculation sheet: its sheet, its columns by key and its first and
    last data rows (zero-based). Builds the references its formulas use."""

    sheet: str
    cols: dict[str, int]
    first: int
    last: int

    def at(self, key: str, row: int) -> str:
        """This row's cell of a column, the column anchored: `$E3`."""
        return cell_fixed_col(row, self.cols[key])

    def column(self, key: str) -> str:
        """The whole column of the table, absolute: `$E$3:$E$500`."""
        c = self.cols[key]
        return f"{cell(self.first, c, True)}:{cell(max(self.last, self.first), c, True)}"

    def remote(self, key: str) -> str:
        """The column seen from another sheet: `計算!$E$3:$E$500`."""
        return on_sheet(self.sheet, self.column(key))


# --- the KPI × year table ---------------------------------------------------------------
def row_key(t: Table, r: int, kpi_id: str, year) -> tuple[str, str]:
    """The row's lookup key `01-1|2020`: the KPI's ID and the fiscal year."""
    f = f'={t.at("id", r)}&"|"&{t.at("year", r)}'
    return f, key_text(kpi_id, year)


def key_text(kpi_id: str, year) -> str:
    return f"{kpi_id}|{int(year) if is_num(year) else (year if year is not None else '')}"


def shown(t: Table, r: int, key: str, value) -> tuple[str, object]:
    """An input as the pages show it: blank stays blank (a lookup of an empty cell gives 0)."""
    a = t.at(key, r)
    return f'=IF(ISBLANK({a}),"",{a})', ("" if value is None else value)


def compared(t: Table, r: int, method: str, actual, year, start, period_sum) -> tuple[str, object]:
    """The actual the rate compares with the target: the sum of the period so far (from the
    period's first year to this row's year, this KPI's rows) for a cumulative target, else
    the actual; 「−」 when it is not a number (or the year is before the period)."""
    m, a, y, s = (t.at(k, r) for k in ("method", "actual", "year", "start"))
    summed = (f'SUMIFS({t.column("actual")},{t.column("id")},{t.at("id", r)},'
              f'{t.column("year")},">="&{s},{t.column("year")},"<="&{y})')
    f = (f'=IF({m}={text_literal(CUMULATIVE)},IF(AND(ISNUMBER({a}),ISNUMBER({s})),'
         f'IF({y}>={s},{summed},{_NA}),{_NA}),IF(ISNUMBER({a}),{a},{_NA}))')
    if method == CUMULATIVE:
        ok = is_num(actual) and is_num(start) and is_num(year) and year >= start
        return f, (period_sum if ok else NA)
    return f, (actual if is_num(actual) else NA)


def uses_baseline(t: Table, r: int, method: str, baseline, target, near: float) -> tuple[str, bool]:
    """Whether the rate is measured from the baseline: a progress method, baseline and
    target numbers, and a step from one to the other larger than 基準近接 of the target
    (a step of a few points makes progress meaningless: ▲520 % from 96.6 → 100)."""
    m, b, tg = (t.at(k, r) for k in ("method", "baseline", "target"))
    f = (f'=IF(AND(OR({m}={text_literal(PROGRESS)},{m}={text_literal(REDUCTION)}),'
         f'ISNUMBER({b}),ISNUMBER({tg})),ABS({tg}-{b})>{NEAR}*ABS({tg}),FALSE)')
    ok = method in FROM_BASELINE and is_num(baseline) and is_num(target)
    return f, bool(ok and abs(target - baseline) > near * abs(target))


def ratio(t: Table, r: int, method: str, comp, target) -> tuple[str, object]:
    """達成率: the compared actual ÷ target (target ÷ actual when lower is better)."""
    m, c, tg = (t.at(k, r) for k in ("method", "compared", "target"))
    f = (f'=IF(AND(ISNUMBER({c}),ISNUMBER({tg})),IFERROR(IF(OR({m}={text_literal(INVERSE)},'
         f'{m}={text_literal(REDUCTION)}),{tg}/{c},{c}/{tg}),{_NA}),{_NA})')
    if not (is_num(comp) and is_num(target)):
        return f, NA
    num, den = (target, comp) if method in (INVERSE, REDUCTION) else (comp, target)
    return f, (num / den if den != 0 else NA)


def progress(t: Table, r: int, method: str, uses: bool, comp, baseline, target) -> tuple[str, object]:
    """進捗率: (actual − baseline) ÷ (target − baseline), the same share both ways; 「悪化」
    when the actual moved away from the target since the baseline (also when the baseline
    is too near the target to measure progress from); 「−」 when not measured from it."""
    m, u, c, b, tg = (t.at(k, r) for k in ("method", "uses_baseline", "compared", "baseline",
                                           "target"))
    f = (f'=IF(AND(OR({m}={text_literal(PROGRESS)},{m}={text_literal(REDUCTION)}),'
         f'ISNUMBER({b}),ISNUMBER({c}),ISNUMBER({tg})),IF(({c}-{b})*({tg}-{b})<0,{_WORSE},'
         f'IF({u},({c}-{b})/({tg}-{b}),{_NA})),{_NA})')
    if not (method in FROM_BASELINE and is_num(baseline) and is_num(comp) and is_num(target)):
        return f, NA
    if (comp - baseline) * (target - baseline) < 0:
        return f, WORSE
    return f, ((comp - baseline) / (target - baseline) if uses else NA)


def rate(t: Table, r: int, method: str, uses: bool, prog, rat) -> tuple[str, object]:
    """The rate of the year: 進捗率 when measured from the baseline, else 達成率; 「悪化」
    whenever the actual moved away from the target."""
    m, u, p, q = (t.at(k, r) for k in ("method", "uses_baseline", "progress", "ratio"))
    f = f'=IF({m}={_NA},{_NA},IF(OR({u},{p}={_WORSE}),{p},{q}))'
    if method == NO_RATE:
        return f, NA
    return f, (prog if uses or prog == WORSE else rat)


def measure_label(t: Table, r: int, method: str, uses: bool) -> tuple[str, str]:
    """What the rate is, as computed: 進捗率, 達成率 or 累計達成率."""
    m, u = t.at("method", r), t.at("uses_baseline", r)
    f = (f'=IF({m}={_NA},{_NA},IF({u},{text_literal(PROGRESS_LABEL)},'
         f'IF({m}={text_literal(CUMULATIVE)},{text_literal(CUMULATIVE_LABEL)},'
         f'{text_literal(RATE_LABEL)})))')
    if method == NO_RATE:
        return f, NA
    return f, PROGRESS_LABEL if uses else CUMULATIVE_LABEL if method == CUMULATIVE else RATE_LABEL


def pace(t: Table, r: int, method: str, uses: bool, year, p0, p1) -> tuple[str, object]:
    """期待水準 of the row's year: the share of the way from the expectation's start (the
    baseline year, or the year before a cumulative period) to its end (the target year),
    within 0–100 %. Only for a rate that is such a share (進捗率, or a cumulative target's
    累計達成率); 「−」 for actual ÷ target, which has no pace to keep."""
    y, a, b = t.at("year", r), t.at("pace_from", r), t.at("pace_to", r)
    u, m = t.at("uses_baseline", r), t.at("method", r)
    f = (f'=IF(AND(OR({u},{m}={text_literal(CUMULATIVE)}),ISNUMBER({y}),ISNUMBER({a}),'
         f'ISNUMBER({b})),IFERROR(MAX(0,MIN(1,({y}-{a})/({b}-{a}))),{_NA}),{_NA})')
    if not (uses or method == CUMULATIVE):
        return f, NA
    if not (is_num(year) and is_num(p0) and is_num(p1)) or p1 == p0:
        return f, NA
    return f, max(0.0, min(1.0, (year - p0) / (p1 - p0)))


def basis(t: Table, r: int, rt, pc, on_pace: bool) -> tuple[str, object]:
    """What the grade is given on: with 評価の基準 = 期待水準比, the rate ÷ the expected pace
    where the pace is above 0 (55.6 % of the way when 33.3 % was expected is 167 %); else
    the rate itself."""
    q, p = t.at("rate", r), t.at("pace", r)
    f = (f'=IF(AND({GRADE_BASIS}={text_literal(BASIS_PACE)},ISNUMBER({q}),ISNUMBER({p})),'
         f'IF({p}>0,{q}/{p},{q}),{q})')
    if on_pace and is_num(rt) and is_num(pc) and pc > 0:
        return f, rt / pc
    return f, rt


@dataclass(frozen=True)
class Grade:
    """One step of a grade scale: its name, the defined name of its threshold on 設定, the
    threshold (a fraction) and whether the bound is strict (`above`)."""

    letter: str
    name: str | None  # None: the lowest grade (everything below the others)
    threshold: float | None
    strict: bool = False


def grade(t: Table, r: int, value, scale: list[Grade]) -> tuple[str, object]:
    """The grade of the row from the scale on 設定 (highest first); the lowest grade for
    「悪化」; 「−」 when there is nothing to grade."""
    q = t.at("basis", r)
    lowest = scale[-1].letter
    inner = text_literal(lowest)
    for g in reversed(scale[:-1]):
        inner = f'IF({q}{">" if g.strict else ">="}{g.name},{text_literal(g.letter)},{inner})'
    f = f'=IF(ISNUMBER({q}),{inner},IF({q}={_WORSE},{text_literal(lowest)},{_NA}))'
    if value == WORSE:
        return f, lowest
    if not is_num(value):
        return f, NA
    for g in scale[:-1]:
        if (value > g.threshold) if g.strict else (value >= g.threshold):
            return f, g.letter
    return f, lowest


def measure_total(t: Table, r: int, total) -> tuple[str, object]:
    """The measure's 事業費: the sum of its KPIs' 事業費 (text and blanks left out)."""
    f = f'=SUMIFS({t.column("cost")},{t.column("measure")},{t.at("measure", r)})'
    return f, total


def year_cost(t: Table, r: int, costs: Table, value) -> tuple[str, object]:
    """The 事業費 of the row's measure in the row's year, from the cost table."""
    pick = (f'INDEX({costs.column("project_cost")},MATCH({t.at("measure", r)}&"|"&'
            f'{t.at("year", r)},{costs.column("key")},0))')
    return f"=IFERROR({pick},{_NA})", (value if is_num(value) else NA)


# --- the measure × year cost table ------------------------------------------------------
def cost_key(t: Table, r: int, measure: str, year) -> tuple[str, str]:
    f = f'={t.at("id", r)}&"|"&{t.at("year", r)}'
    return f, key_text(measure, year)


def general(t: Table, r: int, amount, specific, revenues: list) -> tuple[str, object]:
    """一般財源 = 事業費 − 特定財源 (うち特定財源 where the sheet gives it, else the sum of
    国庫支出金, 都道府県支出金, 地方債 and その他)."""
    a, s = t.at("project_cost", r), t.at("specific", r)
    first, last = t.at("national", r), t.at("other", r)
    f = f'=IF(ISNUMBER({a}),{a}-IF(ISNUMBER({s}),{s},SUM({first}:{last})),{_NA})'
    if not is_num(amount):
        return f, NA
    spent = specific if is_num(specific) else sum(v for v in revenues if is_num(v))
    return f, amount - spent


def personnel(t: Table, r: int, staff, unit_cost) -> tuple[str, object]:
    """人件費 = 職員人工 × 平均職員費."""
    s, u = t.at("staff", r), t.at("staff_unit_cost", r)
    f = f'=IF(AND(ISNUMBER({s}),ISNUMBER({u})),{s}*{u},{_NA})'
    return f, (staff * unit_cost if is_num(staff) and is_num(unit_cost) else NA)


def total_cost(t: Table, r: int, amount, ours, theirs) -> tuple[str, object]:
    """総事業費 = 事業費 + 人件費 (the 人件費 computed here, else the sheet's own)."""
    a, p, own = t.at("project_cost", r), t.at("personnel_calc", r), t.at("personnel", r)
    f = (f'=IF(ISNUMBER({a}),IF(ISNUMBER({p}),{a}+{p},IF(ISNUMBER({own}),{a}+{own},{_NA})),'
         f'{_NA})')
    if not is_num(amount):
        return f, NA
    if is_num(ours):
        return f, amount + ours
    return f, (amount + theirs if is_num(theirs) else NA)


def difference(t: Table, r: int, own_key: str, calc_key: str, own, calc) -> tuple[str, object]:
    """The sheet's own figure − the one computed here (0 when they agree)."""
    o, c = t.at(own_key, r), t.at(calc_key, r)
    f = f'=IF(AND(ISNUMBER({o}),ISNUMBER({c})),{o}-{c},{_NA})'
    return f, (own - calc if is_num(own) and is_num(calc) else NA)


def output_actual(t: Table, r: int, kpis: Table, value) -> tuple[str, object]:
    """The actual of the year of the KPI named as the cost block's output indicator."""
    k, y = t.at("indicator", r), t.at("year", r)
    pick = f'INDEX({kpis.remote("actual")},MATCH({k}&"|"&{y},{kpis.remote("key")},0))'
    f = f'=IFERROR(IF(ISNUMBER({pick}),{pick},{_NA}),{_NA})'
    return f, (value if is_num(value) else NA)


def unit_cost(t: Table, r: int, total, own_total, scale, actual) -> tuple[str, object]:
    """単位コスト = 総事業費 (computed, else the sheet's own) × 円換算 ÷ the output's actual
    (円 per unit when the block is in 千円)."""
    tc, own, k, a = (t.at(x, r) for x in ("total_calc", "total", "yen", "output"))
    f = f'=IFERROR(IF(ISNUMBER({tc}),{tc},{own})*{k}/{a},{_NA})'
    used = total if is_num(total) else own_total
    if is_num(used) and is_num(scale) and is_num(actual) and actual != 0:
        return f, used * scale / actual
    return f, NA


def differs(ref: str) -> str:
    """The rule of a conditional format marking a difference: a number other than 0."""
    return f"=AND(ISNUMBER({ref}),{ref}<>0)"


# --- figures for the whole report -------------------------------------------------------
def wareki(year_ref: str, eras: list[tuple[str, str]], label: str) -> tuple[str, str]:
    """`令和2年度` for the fiscal year (西暦) in `year_ref`; `eras`: (name, cell holding the
    西暦 of its first year), newest first."""
    ask = text_literal("西暦で入力してください")
    inner = ask
    for name, first in reversed(eras):
        text = f'{text_literal(name)}&IF({year_ref}={first},"元",{year_ref}-{first}+1)&"年度"'
        inner = f"IF({year_ref}>={first},{text},{inner})"
    return f"=IF(ISNUMBER({year_ref}),{inner},{ask})", label


def heading(label_ref: str, label: str) -> tuple[str, str]:
    """`令和2年度実績` for the 一覧's heading."""
    return f'={label_ref}&"実績"', f"{label}実績"


def grade_count(t: Table, letter_ref: str, count: int) -> tuple[str, int]:
    """KPIs with the grade in `letter_ref` in the year 評価年度, 再掲 KPIs not counted."""
    f = (f'=COUNTIFS({t.column("grade")},{letter_ref},{t.column("year")},{EVAL_YEAR},'
         f'{t.column("name")},{text_literal("<>*" + REPEAT_MARK + "*")})')
    return f, count


def ungraded(all_ref: str, counts: str, count: int) -> tuple[str, int]:
    """KPIs without a grade (「−」): all KPIs (再掲 not counted) less the graded ones."""
    return f"={all_ref}-SUM({counts})", count


def is_repeat(name: str) -> bool:
    """A KPI listed again under another measure (`…（再掲）`): counted once in totals."""
    return REPEAT_MARK in name


# --- lookups on the presentation sheets -------------------------------------------------
def first_row(t: Table, key: str, id_ref: str, value) -> tuple[str, object]:
    """A KPI's (or measure's) value from its first row: `id_ref` holds its ID."""
    f = f'=INDEX({t.remote(key)},MATCH({id_ref},{t.remote("id")},0))'
    return f, value


def of_measure(t: Table, key: str, measure_ref: str, value) -> tuple[str, object]:
    """A measure's value from its first row: `measure_ref` holds the measure's ID."""
    f = f'=INDEX({t.remote(key)},MATCH({measure_ref},{t.remote("measure")},0))'
    return f, value


def of_year(t: Table, key: str, id_ref: str, year_ref: str, value) -> tuple[str, object]:
    """A value of the row of the ID and a year (評価年度); 「−」 when there is none."""
    f = (f'=IFERROR(INDEX({t.remote(key)},MATCH({id_ref}&"|"&{year_ref},{t.remote("key")},0)),'
         f'{_NA})')
    return f, value


def across(t: Table, key: str, id_ref: str, before_ref: str, value) -> tuple[str, object]:
    """A value of the KPI's n-th year row, n the column's place after `before_ref` (the
    column before the grid's first): one formula for a whole grid of KPIs × years on every
    page (`COLUMN()-COLUMN($F20)` counts the place; no cell refers to itself)."""
    f = (f'=INDEX({t.remote(key)},MATCH({id_ref},{t.remote("id")},0)'
         f'+COLUMN()-COLUMN({before_ref})-1)')
    return f, value


def link(sheet: str, ref: str, value) -> tuple[str, object]:
    """The value of one cell of another sheet."""
    return f"={on_sheet(sheet, ref)}", value


EXPLANATIONS = {
    "key": "行の検索キー: 指標ID と年度をつないだ文字（例 01-1|2020）。一覧・施策シートはこのキーで値を探します。",
    "shown": "入力値を表示用に写します（未入力は空欄のまま。空欄を探すと 0 になるのを避けるため）。",
    "compared": "目標と比べる実績: 期間累計の指標は期間の初年度からこの年度までの同じ指標の実績の合計（SUMIFS）、"
                "それ以外はこの年度の実績。数値でなければ「−」。",
    "uses_baseline": "基準値から測るか: 方式が「進捗」「減少」で、基準値と目標値が数値で、その差が目標値の 基準近接"
                     "（設定シート）より大きいとき TRUE。差がわずかだと進捗率が極端な値になるため、そのときは達成率で測ります。",
    "ratio": "達成率: 比べる実績 ÷ 目標値（方式が「逆比率」「減少」なら 目標値 ÷ 実績）。数値でなければ「−」。",
    "progress": "進捗率（基準からの進み）: (実績 − 基準値) ÷ (目標値 − 基準値)。方式が「進捗」「減少」で実績が基準値から"
                "目標と逆の向きに動いたときは「悪化」（基準値が目標値に近くても）。基準値から測らない指標は「−」。",
    "rate": "この年度の率: 基準値から測る指標は進捗率、それ以外は達成率（定性・目標なしは「−」）。"
            "基準値から目標と逆に動いたときは「悪化」。指標ごとにすべての年度で同じ計算方法です。",
    "measure_label": "率の名前: 進捗率（基準からの進み）、達成率（実績 ÷ 目標）、累計達成率（期間の合計 ÷ 目標）。",
    "pace": "期待水準: 起点年度（基準年度、期間累計は期間の前年度）から終点年度（目標年度）まで一定の速さで進んだ場合の、"
            "この年度までの割合（0〜100%）。進捗率と累計達成率だけに出します（実績 ÷ 目標の達成率は「−」）。",
    "basis": "評価に使う値: 評価の基準（設定シート）が「期待水準比」なら 率 ÷ 期待水準（期待水準が 0 や「−」なら率のまま）、"
             "「率」なら率そのもの。",
    "grade": "評価: 評価に使う値を設定シートのしきい値と比べます（上の段階から順に）。「悪化」は最も低い評価、"
             "評価に使う値がなければ「−」。",
    "year_cost": "施策の事業費（この年度）: 事業費の表から、この行の施策と年度の事業費を探します。",
    "measure_total": "施策の事業費: 同じ施策の指標の行の事業費の合計（SUMIFS。空欄と文字は含めません）。",
    "cost_key": "行の検索キー: 施策ID と年度をつないだ文字（例 01|2021）。",
    "general": "一般財源 = 事業費 − 特定財源（うち特定財源があればその値、なければ 国庫支出金・都道府県支出金・地方債・"
               "その他 の合計）。",
    "personnel": "人件費 = 職員人工 × 平均職員費。",
    "total_cost": "総事業費 = 事業費 + 人件費（ここで計算した人件費、なければシートの人件費）。",
    "difference": "シートに書かれた値 − ここで計算した値（0 なら一致。違えば元のシートを確認してください）。",
    "output_actual": "単位コストの分母: シートが指定する成果指標の、この年度の実績（数値でなければ「−」）。",
    "unit_cost": "単位コスト = 総事業費 × 円換算（千円なら 1000）÷ 成果指標の実績（円／単位）。",
    "wareki": "評価年度（西暦）を和暦で表示します（令和元年度＝2019年度、平成は1989〜2018年度）。",
    "heading": "一覧の見出しの年度: 評価年度の和暦に「実績」を付けます。",
    "grade_count": "評価の分布: 計算シートで評価年度の行のうち、その評価の指標の数（指標名に「再掲」を含む行は数えません）。",
    "ungraded": "評価のない指標（「−」）の数: 指標の数（再掲を除く）から A〜D の数を引きます。",
    "first_row": "計算シートからこの指標の値を探して表示します（A列の指標ID で検索）。",
    "of_measure": "計算シートからこの施策の値を探して表示します（A列の施策ID で検索）。",
    "of_year": "計算シートから、この指標の評価年度（設定シート）の行の値を探して表示します。その年度の行がなければ「−」。",
    "of_year_cost": "計算シートの事業費の表から、この施策（A列）とこの年度（B列）の行の値を探して表示します。",
    "across": "計算シートから、この指標の各年度の行の値を探して表示します（指標ID の最初の行から、列の順番だけ下）。",
    "link": "計算シートの値をそのまま表示します。",
}
