"""The marks and defaults of KPI achievement. The formulas themselves are the calculation
sheet's (xlsgen.formulas.calc): one rule a KPI for every year, named as computed.

Values are fractions (1.0 = 100 %). A missing or non-numeric input gives NA ("−", a text),
never 0 % and never #DIV/0!; a KPI that moved away from its target gives WORSE ("悪化",
graded as the lowest grade). Thresholds, the evaluation year and NEAR are defined names on
the 設定 sheet.
"""

from __future__ import annotations

NA = "−"
WORSE = "悪化"  # moved away from the target since the baseline
GRADE_NAMES = (("A", "評価A"), ("B", "評価B"), ("C", "評価C"))
DEFAULT_THRESHOLDS = {"評価A": 1.0, "評価B": 0.8, "評価C": 0.5}
DEFAULT_NEAR = 0.05  # a baseline within this share of the target: progress is meaningless
