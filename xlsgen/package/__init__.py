"""Edit a workbook package (.xlsx/.xlsm) in place: only the planned cells and the parts
a roll adds change; every other part keeps its bytes."""

__all__ = ["Package", "Workbook", "apply_plan"]


def __getattr__(name: str):
    # imported on first use: a reader that only needs `xlsgen.package.sheet` does not load
    # the editing machinery
    if name == "Package":
        from xlsgen.package.ooxml import Package

        return Package
    if name in ("Workbook", "apply_plan"):
        from xlsgen.package import apply

        return getattr(apply, name)
    raise AttributeError(f"module 'xlsgen.package' has no attribute {name!r}")
