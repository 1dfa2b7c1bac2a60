"""KPI achievement, expected pace and grade: each rule returns (formula, value) so the live
formula and the cached value written with it come from one place.

Values are fractions (1.0 = 100 %). A missing or non-numeric input gives NA ("−", a text),
never 0 % and never #DIV/0!; a KPI that moved away from its target gives WORSE ("悪化",
graded D). Thresholds, the evaluation year and NEAR are defined names on the 設定 sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsgen.formulas import text_literal
from xlsgen.model import Direction, TargetKind

NA = "−"
WORSE = "悪化"  # moved away from the target since the baseline
GRADE_NAMES = (("A", "評価A"), ("B", "評価B"), ("C", "評価C"))
DEFAULT_THRESHOLDS = {"評価A": 1.0, "評価B": 0.8, "評価C": 0.5}
EVAL_YEAR = "評価年度"
EVAL_YEAR_LABEL = "評価年度和暦"
NEAR = "基準近接"  # a baseline within this share of the target: progress is meaningless
DEFAULT_NEAR = 0.05
_NA = text_literal(NA)
_WORSE = text_literal(WORSE)
_D = text_literal("D")


@dataclass(frozen=True)
class Ref:
    """A cell reference (A1 text) and the value it holds (None when empty or a text)."""

    ref: str
    value: float | None


def _num(*refs: Ref) -> str:
    return ", ".join(f"ISNUMBER({r.ref})" for r in refs)


def _all(*refs: Ref) -> bool:
    return all(isinstance(r.value, (int, float)) for r in refs)


def ratio(actual: Ref, target: Ref) -> tuple[str, object]:
    """Per-year target (and point-in-time in its target year): actual / target."""
    f = f"=IF(AND({_num(actual, target)}),IFERROR({actual.ref}/{target.ref},{_NA}),{_NA})"
    ok = _all(actual, target) and target.value != 0
    return f, (actual.value / target.value if ok else NA)


def cumulative(actual: Ref, summed: str, summed_values: list, target: Ref) -> tuple[str, object]:
    """Cumulative over a period (延べ/合計): sum of the actuals so far / target."""
    f = f"=IF(AND({_num(actual, target)}),IFERROR(SUM({summed})/{target.ref},{_NA}),{_NA})"
    ok = _all(actual, target) and target.value != 0
    total = sum(v for v in summed_values if isinstance(v, (int, float)))
    return f, (total / target.value if ok else NA)


def _near(target: float, baseline: float, near: float) -> bool:
    return abs(target - baseline) <= near * abs(target)


def progress(actual: Ref, baseline: Ref, target: Ref, near: float = DEFAULT_NEAR) -> tuple[str, object]:
    """Running count (累計) and point-in-time before its target year: (A − B) / (T − B).

    WORSE when the actual moved away from the target ((A − B)(T − B) < 0); actual ÷ target
    when the baseline is missing or within NEAR (設定) of the target, where progress from
    the baseline means nothing (0 ÷ 0, or ▲520 % from a step of 3.4 points).
    """
    return _from_baseline(actual, baseline, target, near, lower_is_better=False)


def reduction(actual: Ref, baseline: Ref, target: Ref, near: float = DEFAULT_NEAR) -> tuple[str, object]:
    """Lower is better: (B − A) / (B − T); WORSE when the actual rose away from the target;
    target ÷ actual when the baseline is missing or within NEAR of the target."""
    return _from_baseline(actual, baseline, target, near, lower_is_better=True)


def _from_baseline(actual: Ref, baseline: Ref, target: Ref, near: float,
                   lower_is_better: bool) -> tuple[str, object]:
    """The share of the way from baseline to target (written the way each direction reads:
    (A − B)/(T − B) or (B − A)/(B − T), the same number), with the WORSE and near-baseline
    rules of `progress`; the fallback is the plain ratio of the direction."""
    a, b, t = actual.ref, baseline.ref, target.ref
    if lower_is_better:
        plain = f"IFERROR({t}/{a},{_NA})"
        away, far, share = f"({b}-{a})*({b}-{t})<0", f"ABS({b}-{t})>{NEAR}*ABS({t})", f"({b}-{a})/({b}-{t})"
    else:
        plain = f"IFERROR({a}/{t},{_NA})"
        away, far, share = f"({a}-{b})*({t}-{b})<0", f"ABS({t}-{b})>{NEAR}*ABS({t})", f"({a}-{b})/({t}-{b})"
    f = (f"=IF(AND({_num(actual, target)}),IF(ISNUMBER({b}),IF({away},{_WORSE},"
         f"IF({far},{share},{plain})),{plain}),{_NA})")
    if not _all(actual, target):
        return f, NA
    av, tv = actual.value, target.value
    num, den = (tv, av) if lower_is_better else (av, tv)
    fallback = num / den if den != 0 else NA
    if not _all(baseline):
        return f, fallback
    bv = baseline.value
    if (av - bv) * (tv - bv) < 0:
        return f, WORSE
    return f, fallback if _near(tv, bv, near) else (av - bv) / (tv - bv)


def rule_for(kind: TargetKind, direction: Direction, year: int, target_year: int | None,
             period: tuple[int, int] | None, level: bool = False) -> str | None:
    """Which rule gives the achievement as of `year`; None where there is none (NA).

    `level`: the target equals the baseline (a level to keep, e.g. 3日以上 from 3日), where a
    point-in-time target is measured as actual / target in every year, progress being 0 ÷ 0.
    """
    if kind in (TargetKind.QUALITATIVE, TargetKind.NONE):
        return None
    if direction is Direction.DOWN:
        return "reduction"
    if kind is TargetKind.PER_YEAR:
        return "ratio"
    if kind is TargetKind.CUMULATIVE:
        return "cumulative" if period and period[0] <= year else None
    if kind is TargetKind.RUNNING_TOTAL:
        return "progress"
    if level or (target_year is not None and year >= target_year):
        return "ratio"
    return "progress"


def pace(period_years: str, years: list[int], eval_year: int) -> tuple[str, object]:
    """Expected share of a cumulative target by the evaluation year: years elapsed / years."""
    f = f'=COUNTIF({period_years},"<="&{EVAL_YEAR})/COLUMNS({period_years})'
    return f, sum(1 for y in years if y <= eval_year) / len(years)


def linear_pace(start: Ref, end: Ref, eval_year: int) -> tuple[str, object]:
    """Expected progress by the evaluation year on a straight line from the baseline year
    to the target year: (評価年度 − 基準年度) ÷ (目標年度 − 基準年度), within 0–100 %."""
    s, e = start.ref, end.ref
    f = (f"=IF(AND({_num(start, end)}),IFERROR(MAX(0,MIN(1,({EVAL_YEAR}-{s})/({e}-{s}))),{_NA}),"
         f"{_NA})")
    if not _all(start, end) or end.value == start.value:
        return f, NA
    return f, max(0.0, min(1.0, (eval_year - start.value) / (end.value - start.value)))


def at_eval_year(row: str, header: str, values: list, years: list[int],
                 eval_year: int) -> tuple[str, object]:
    """The achievement in the column whose year header equals 評価年度."""
    f = f"=IFERROR(INDEX({row},MATCH({EVAL_YEAR},{header},0)),{_NA})"
    return f, (values[years.index(eval_year)] if eval_year in years else NA)


def grade(rate: Ref, thresholds: dict[str, float] | None = None) -> tuple[str, str]:
    """A/B/C/D from the 設定 thresholds; D when WORSE; NA when the rate is not a number."""
    th = thresholds or DEFAULT_THRESHOLDS
    inner = text_literal("D")
    for letter, name in reversed(GRADE_NAMES):
        inner = f"IF({rate.ref}>={name},{text_literal(letter)},{inner})"
    f = f"=IF(ISNUMBER({rate.ref}),{inner},IF({rate.ref}={_WORSE},{_D},{_NA}))"
    if rate.value == WORSE:
        return f, "D"
    if not isinstance(rate.value, (int, float)):
        return f, NA
    return f, next((letter for letter, name in GRADE_NAMES if rate.value >= th[name]), "D")


EXPLANATIONS = {
    "ratio": "単年度目標・時点目標（目標年度、または目標値＝基準値の水準維持）の達成率: 実績値 ÷ 目標値。実績または目標が数値でなければ「−」。",
    "cumulative": "期間累計目標（延べ・合計）の達成率: 期間開始年度からその年度までの実績の合計 ÷ 目標値。",
    "progress": "累計目標・時点目標（目標年度より前）の進捗率: (実績値 − 基準値) ÷ (目標値 − 基準値)。"
                "実績が基準値から目標と逆の向きに動いたときは「悪化」（評価 D）。"
                "基準値がない（「-」など）か、基準値と目標値の差が目標値の 基準近接（設定シート）以下のときは、"
                "基準値からの進捗に意味がないため 実績値 ÷ 目標値。",
    "reduction": "減少を目指す指標の達成率: (基準値 − 実績値) ÷ (基準値 − 目標値)。"
                 "実績が基準値より増えたときは「悪化」（評価 D）。"
                 "基準値がないか、基準値と目標値の差が目標値の 基準近接 以下のときは 目標値 ÷ 実績値。",
    "pace": "期間累計目標の期待水準: 期間の年度のうち評価年度までの年数 ÷ 期間の年数。",
    "linear_pace": "累計・時点目標の期待水準: 基準年度から目標年度まで一定の速さで進んだ場合の評価年度の進捗"
                   "（(評価年度 − 基準年度) ÷ (目標年度 − 基準年度)、0〜100%）。単年度目標は毎年 100% のため「−」。",
    "at_eval_year": "評価年度（設定シート）の列の達成率を取り出します。該当年度がなければ「−」。",
    "grade": "評価: 達成率が 評価A 以上なら A、評価B 以上なら B、評価C 以上なら C、それ未満と「悪化」は D（しきい値は設定シート）。",
}
