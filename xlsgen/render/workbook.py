"""The xlsxwriter Workbook every report is written with: the same output, less work per
formula.

xlsxwriter runs some thirty regex substitutions over every formula to prefix Excel's newer
functions (`_xlfn.XLOOKUP`). A report's formulas use only long-standing functions, so a
formula whose every function is one of those is written as given (the same text
xlsxwriter would produce); any other formula goes through xlsxwriter's own expansion."""

from __future__ import annotations

import re

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

# functions xlsxwriter never rewrites (it prefixes only functions added since Excel 2010)
PLAIN_FUNCTIONS = frozenset("""
ABS AND AVERAGE AVERAGEIF AVERAGEIFS CHOOSE COLUMN COLUMNS CONCATENATE COUNT COUNTA COUNTBLANK
COUNTIF COUNTIFS DATE DAY EXACT FIND HLOOKUP IF IFERROR INDEX INDIRECT INT ISBLANK ISERROR
ISNUMBER ISTEXT LARGE LEFT LEN LOOKUP LOWER MATCH MAX MID MIN MOD MONTH NOT OFFSET OR POWER
PRODUCT RANK RIGHT ROUND ROUNDDOWN ROUNDUP ROW ROWS SMALL SQRT SUBSTITUTE SUM SUMIF SUMIFS
SUMPRODUCT TEXT TODAY TRIM TRUE FALSE UPPER VALUE VLOOKUP YEAR N NA
""".split())
_CALLS = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")


class FastWorksheet(Worksheet):
    def _prepare_formula(self, formula, expand_future_functions=False):
        if self.use_future_functions or expand_future_functions or \
                not PLAIN_FUNCTIONS.issuperset(_CALLS.findall(formula)):
            return super()._prepare_formula(formula, expand_future_functions)
        if formula.startswith("{"):  # what xlsxwriter strips before expanding
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula


class Workbook(xlsxwriter.Workbook):
    """xlsxwriter's Workbook whose worksheets skip the expansion a formula does not need."""

    worksheet_class = FastWorksheet
