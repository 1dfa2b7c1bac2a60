"""Write a rolled-forward edition: apply a roll plan to the input's package (see
`xlsgen.package`) and write it atomically. The output's extension must match its content
(.xlsm stays a macro workbook)."""

from __future__ import annotations

import warnings
from pathlib import Path

from xlsgen.atomic import atomic_path
from xlsgen.errors import InputFileError, OutputError, XlsgenError
from xlsgen.model import Change, Plan, Snapshot
from xlsgen.package import Package, Workbook, apply_plan
from xlsgen.package.check import problems
from xlsgen.package.formulas import FormulaBook
from xlsgen.package.styles import INPUT_RGB

INPUT_FILL_RGB = INPUT_RGB  # light yellow: a cell left for the clerk


def open_package(src: str | Path) -> tuple[Package, Snapshot]:
    """The input's package and a snapshot of its cell values (cached values of formulas)."""
    pkg = Package(src)
    return pkg, Workbook(pkg).snapshot()


def check_extension(pkg: Package, output: str | Path) -> None:
    """Refuse an output name whose extension does not match the workbook's content."""
    want, got = pkg.kind, Path(output).suffix.lower()
    if got != want:
        what = "マクロ有効ブック" if want in (".xlsm", ".xltm") else "マクロなしのブック"
        raise XlsgenError(
            f"入力は{what}（{want}）なので、出力ファイル名の拡張子も {want} にしてください"
            f"（指定: {Path(output).name}）", str(output))


def write_edition(pkg: Package, snap: Snapshot, output: str | Path, plan: Plan,
                  source: str | Path | None = None, force: bool = False) -> list[Change]:
    """Apply `plan` to `pkg` and write it to `output` atomically; returns the change log.
    An existing file at `output` (an edition the clerk may have filled in) is never
    replaced unless `force`."""
    check_extension(pkg, output)

    def formula_notes() -> list:
        """The input's formulas, from the package the roll holds (no second load of the
        book): the sheets as they were before the edits, large unread sheets left out."""
        from xlsgen.render.formula_map import notes_from_workbook
        with warnings.catch_warnings():  # openpyxl's English warnings are not for the clerk
            warnings.simplefilter("ignore")
            return notes_from_workbook(book) if book is not None else []

    wb = Workbook(pkg)  # read before any edit is applied
    book = FormulaBook(pkg, skip=set(wb.unread())) if wb.formulas() else None
    changes = apply_plan(pkg, plan, snap, formula_notes)
    faults = problems(pkg)
    if faults:
        more = f"、ほか {len(faults) - 1} 件" if len(faults) > 1 else ""
        raise OutputError(f"書き出すブックが Excel の要件を満たさないため出力を中止しました（{faults[0]}{more}）。"
                          "何も書き出していません", str(output))
    # large sheets the roll never opened are copied as stored and not parsed again; other
    # parts copied unchanged are checked, a large one for the characters XML forbids
    unread = {pkg.sheets[n] for n in Workbook(pkg).unread()} & pkg.untouched()
    copied = {i.filename for i in pkg.infos} - pkg.changed
    try:
        with atomic_path(output, [source], replace=force, skip=unread, copied=copied) as tmp:
            pkg.write(tmp)
    except OutputError as exc:
        part = getattr(exc, "part", None)
        if part and source and _input_part(source, part) == pkg.parts.get(part):
            # a part copied as it was: the input itself is not well-formed there
            why = getattr(exc, "why", "") or ""
            what = ("に XML で使えない文字があります" if "invalid token" in why or not why else
                    f"が XML として正しくありません（{why}）")
            raise InputFileError(f"ブックの部品 {part} {what}。Excel で開いて"
                                 "保存し直してから繰り越してください（出力は書き出していません）",
                                 str(source)) from None
        raise
    return changes


def _input_part(source, part: str) -> bytes | None:
    import zipfile

    with zipfile.ZipFile(source) as z:
        try:
            return z.read(part)
        except KeyError:
            return None
