"""Write a rolled-forward edition: apply a roll plan to the input's package (see
`xlsgen.package`) and write it atomically. The output's extension must match its content
(.xlsm stays a macro workbook)."""

from __future__ import annotations

import warnings
from pathlib import Path

from xlsgen.atomic import atomic_path
from xlsgen.errors import XlsgenError
from xlsgen.model import Change, Plan, Snapshot
from xlsgen.package import Package, Workbook, apply_plan
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
                  source: str | Path | None = None) -> list[Change]:
    """Apply `plan` to `pkg` and write it to `output` atomically; returns the change log."""
    check_extension(pkg, output)

    def formula_notes() -> list:
        from xlsgen.render.formula_map import notes_from_workbook
        with warnings.catch_warnings():  # openpyxl's English warnings are not for the clerk
            warnings.simplefilter("ignore")
            return notes_from_workbook(Path(source)) if source else []

    changes = apply_plan(pkg, plan, snap, formula_notes)
    with atomic_path(output, [source]) as tmp:
        pkg.write(tmp)
    return changes
