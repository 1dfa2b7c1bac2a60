"""Roll a city workbook forward one fiscal year, in the city's own layout.

The roll is planned from the model (`read_book` says where everything is) and a snapshot
of the input's cell values and number formats, by the planner of the book's kind
(`xlsgen.kinds`: `plan_roll`); the plan is a list of cell edits plus rows for history
sheets. `xlsgen.render.edition` applies it to the input's package, so the city's look
(widths, merges, fonts, borders, number formats, print setup) is kept.

Every edit is logged in `変更履歴` (sheet, cell, before, after, reason). Heisei labels past
H31 in the headers that are rewritten become 令和. Values typed in cells are never rewritten.
The planners share the helpers of `xlsgen.kinds.roll` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xlsgen.errors import XlsgenError
from xlsgen.kinds.roll import rewrite_heisei, year_label_like
from xlsgen.model import CHANGE_LOG_SHEET, Book, Change, Finding, Plan, Snapshot
from xlsgen.wareki import FiscalYear

__all__ = ["RollResult", "parse_year", "plan_rollforward", "rollforward_file", "rewrite_heisei",
           "year_label_like"]


@dataclass
class RollResult:
    output: Path
    layout: str
    from_year: int
    to_year: int
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the clerk must know (sheets renamed, formulas kept)
    change_log: str = CHANGE_LOG_SHEET  # the sheet the change log went to


def parse_year(text: str | int, what: str) -> int:
    try:
        return FiscalYear.parse(text).year
    except ValueError as exc:
        raise XlsgenError(f"{what}「{text}」を年度として読めません（{exc}）") from exc


def plan_rollforward(book: Book, snap: Snapshot, to: int, extend_to: int | None = None) -> Plan:
    """The edits that turn `book` (as read) into the edition of fiscal year `to`. Pure."""
    from xlsgen.kinds import kind_named

    edition = book.fiscal_year
    if edition is None:
        raise XlsgenError("ブックの年度版を判定できません（実績値の列・予算額の行がありません）", book.path)
    if to != edition + 1:
        raise XlsgenError(
            f"{FiscalYear(to).kanji}へは繰り越せません。このブックは{FiscalYear(edition).kanji}版なので、"
            f"繰り越し先は翌年度の{FiscalYear(edition + 1).kanji}（--to {FiscalYear(edition + 1).short}）だけです",
            book.path)
    if not book.rollforward.get("supported", False):
        raise XlsgenError(f"様式「{book.layout_title or book.layout}」の繰り越しには対応していません"
                          "（様式ファイルに rollforward: supported: true がある様式だけ繰り越せます）",
                          book.path)
    plan = kind_named(book.kind).plan_roll(book, snap, to, extend_to)
    plan.print_header = print_header(book, to)
    return plan


def print_header(book: Book, to: int) -> str:
    """The running header of the sheets a roll adds: the book and the new edition
    (`小千谷市 【小千谷市総合戦略】進行管理シート　令和4年度版`)."""
    from xlsgen.wareki import find_years

    name = book.document_title or book.title or book.layout_title or book.layout or ""
    if find_years(name):
        name = year_label_like(name, to)
    if book.city and book.city not in name:
        name = f"{book.city} {name}"
    return f"{name}　{FiscalYear(to).kanji}版".strip()


# --- the file operation ---------------------------------------------------------------


def rollforward_file(src: str | Path | Book, to: str | int, output: str | Path,
                     extend_to: str | int | None = None, layout: str = "auto",
                     layout_file: str | None = None, progress=None, force: bool = False) -> RollResult:
    """Roll the workbook `src` (a path, or the Book already read from it) to the edition of
    fiscal year `to`, written to `output`.

    The output is the input's package with only the planned cells and the added sheets
    changed (`xlsgen.render.edition`); the input is read once (a Book given is not read
    again), and only the sheets the roll plans are taken from its package. An existing
    `output` (an edition the clerk may have filled in) is refused unless `force`."""
    from xlsgen.atomic import exists_error, refuse_overwrite
    from xlsgen.layout import as_book
    from xlsgen.package.apply import KEPT_FORMULA
    from xlsgen.read.refuse import refuse_failed_read
    from xlsgen.render.edition import check_extension, open_package, write_edition

    output = Path(output)
    if not isinstance(src, Book):
        refuse_overwrite(output, [src])
    if not force and output.exists():
        raise exists_error(output)
    to_year = parse_year(to, "--to")
    extend_year = parse_year(extend_to, "--extend-to") if extend_to is not None else None
    # the reader's safety checks come first
    book = refuse_failed_read(as_book(src, layout, layout_file, progress), "繰り越した版")
    src = Path(book.path)
    refuse_overwrite(output, [src])
    pkg, snap = open_package(src)
    check_extension(pkg, output)
    plan = plan_rollforward(book, snap, to_year, extend_year)
    changes = write_edition(pkg, snap, output, plan, src, force=force)
    from xlsgen.package import Workbook

    renamed = Workbook(pkg).renamed
    notes = [f.message for f in book.findings if f.code == "layout-file-ignored"]
    notes += [f"ブックに xlsgen のものではない「{old}」シートがあるため、そのシートは変更せず「{new}」に書きました"
              for old, new in renamed.items()]
    kept = sorted({f"{c.sheet}!{c.cell}" for c in changes if c.what == KEPT_FORMULA})
    if kept:
        notes.append(f"数式のセル {len(kept)} か所は変更していません（{'、'.join(kept[:5])}"
                     f"{' ほか' if len(kept) > 5 else ''}。「{renamed.get(CHANGE_LOG_SHEET, CHANGE_LOG_SHEET)}」シート参照）")
    return RollResult(output, book.layout, book.fiscal_year, to_year, changes, plan.findings, notes,
                      renamed.get(CHANGE_LOG_SHEET, CHANGE_LOG_SHEET))
