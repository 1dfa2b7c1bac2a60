"""Edit a workbook package (.xlsx/.xlsm) in place: only the planned cells and the parts
a roll adds change; every other part keeps its bytes."""

from xlsgen.package.apply import Workbook, apply_plan
from xlsgen.package.ooxml import Package

__all__ = ["Package", "Workbook", "apply_plan"]
