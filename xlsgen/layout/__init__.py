"""Layouts as data: find layout files, match one against a workbook, read it.

Layout files come from `xlsgen/templates/layouts/` (shipped with the package), a `layouts/`
folder beside the input workbook (a city keeps its file with its workbooks) and an explicit
`--layout-file`. A layout matches only when all its `detect` anchors are found; otherwise it
is refused with the anchors that are missing.

A file in `layouts/` is input like any other: one that cannot be used (broken, or named like
a shipped layout, which it may not replace silently, or like another local file) is left
out and named in a warning on every book of that folder (and in the refusal when no layout
reads the book); it never stops the books it does not concern. `--layout-file` uses a file
whatever its name.
"""

from __future__ import annotations

from pathlib import Path

from xlsgen.errors import LayoutError
from xlsgen.layout.detect import MatchResult, match, sheet_role
from xlsgen.layout.engine import Trace
from xlsgen.layout.spec import LayoutSpecError, Spec, compile_labels, load_spec
from xlsgen.patterns import PatternError, new_budget
from xlsgen.read.grid import squash

__all__ = ["LayoutSpecError", "Spec", "load_spec", "builtin_dir", "find_specs", "find_layouts",
           "layout_names", "search_folders",
           "choose", "read_with_spec", "MatchResult"]


def builtin_dir() -> Path:
    from xlsgen.resources import templates_dir

    return templates_dir("layouts")


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml")
                  and not p.name.startswith((".", "~")))


def search_folders(book_path: str | Path | None = None) -> list[Path]:
    """Where layout files are looked for: the shipped folder, then `layouts/` beside the book."""
    folders = [builtin_dir()]
    if book_path is not None:
        local = Path(book_path).resolve().parent / "layouts"
        if local != builtin_dir():
            folders.append(local)
    return folders


def find_specs(book_path: str | Path | None = None) -> dict[str, Spec]:
    """Every usable layout known for a workbook: shipped ones, then `layouts/` beside it."""
    return find_layouts(book_path)[0]


def find_layouts(book_path: str | Path | None = None) -> tuple[dict[str, Spec], list[str]]:
    """(usable layouts by name, why each unusable local file was left out)."""
    specs: dict[str, Spec] = {}
    for f in _files(builtin_dir()):
        spec = load_spec(f)
        specs[spec.name] = spec
    problems: list[str] = []
    if book_path is None:
        return specs, problems
    local = Path(book_path).resolve().parent / "layouts"
    if local == builtin_dir():
        return specs, problems
    shipped = set(specs)
    for f in _files(local):
        try:
            spec = load_spec(f)
        except LayoutSpecError as exc:
            problems.append(f"様式ファイル {exc}（この様式ファイルは使いませんでした）")
            continue
        if spec.name in shipped:
            problems.append(f"様式ファイル {f}: 様式の名前「{spec.name}」は同梱の様式と同じです。同梱の様式を"
                            f"黙って置き換えないよう使いませんでした（使う場合は --layout-file {f} で指定するか、"
                            "name を別の名前にしてください）")
            continue
        if spec.name in specs:
            problems.append(f"様式ファイル {f}: 様式の名前「{spec.name}」が {specs[spec.name].path} と同じため"
                            "使いませんでした（name を別の名前にしてください）")
            continue
        specs[spec.name] = spec
    return specs, problems


def layout_names() -> list[str]:
    """Names of the shipped layouts (for `--layout` choices); a broken file is left out
    here and reported when it is used."""
    names = []
    for f in _files(builtin_dir()):
        try:
            names.append(load_spec(f).name)
        except LayoutSpecError:
            continue
    return names


def _where(folders: list[Path]) -> str:
    return "、".join(f"{f}{'' if f.is_dir() else '（フォルダがありません）'}" for f in folders)


def _refusal(path, results: list[MatchResult], forced: bool, problems: list[str] = ()) -> LayoutError:
    also = "。" + "。".join(problems) if problems else ""
    if not results:  # not one layout file to try
        return LayoutError(f"様式ファイルが1つも見つからないため様式を判定できません（探した場所: "
                           f"{_where(search_folders(path))}）。様式ファイルを置くか --layout-file で"
                           f"指定してください{also}", str(path))
    ranked = sorted(results, key=lambda r: (len(r.missing), r.spec.name))
    if forced:
        r = ranked[0]
        return LayoutError(f"様式「{r.spec.title}」（{r.spec.name}）{r.why()}"
                           f"。このブックはこの様式ではありません{also}", str(path))
    near = "；".join(f"{r.spec.title}（{r.spec.name}）{r.why(short=True)}" for r in ranked[:3])
    more = f"；ほか {len(ranked) - 3} 様式" if len(ranked) > 3 else ""
    return LayoutError(f"様式を判定できません（試した様式 {len(ranked)} 件: {near}{more}）。"
                       f"様式ファイル（探した場所: {_where(search_folders(path))}）を用意するか "
                       f"--layout-file で指定してください{also}", str(path))


def _match(spec: Spec, grids) -> MatchResult:
    """`match`, with a user pattern that runs out of time reported against its file."""
    try:
        return match(spec, grids)
    except PatternError as exc:
        raise LayoutSpecError(str(exc), spec.path) from None


def choose(path, grids, layout: str = "auto", layout_file: str | None = None,
           ) -> tuple[Spec, MatchResult]:
    """The one layout that matches the workbook; LayoutError (Japanese) otherwise. The
    result's `notes` name the local layout files left out (warnings for the book)."""
    if layout_file:
        spec = load_spec(layout_file)
        res = _match(spec, grids)
        if not res.ok:
            raise _refusal(path, [res], True)
        return spec, res
    specs, problems = find_layouts(path)
    if layout != "auto":
        if layout not in specs:
            raise LayoutError(f"様式「{layout}」の様式ファイルがありません（使える様式: "
                              f"{'、'.join(sorted(specs))}）" + ("。" + "。".join(problems) if problems else ""),
                              str(path))
        res = _match(specs[layout], grids)
        if not res.ok:
            raise _refusal(path, [res], True, problems)
        res.notes = problems
        return specs[layout], res
    results = []
    for s in specs.values():
        try:
            results.append(_match(s, grids))
        except LayoutSpecError as exc:  # a local file's pattern that ran out of time
            problems.append(f"様式ファイル {exc}（この様式ファイルは使いませんでした）")
    hits = [r for r in results if r.ok]
    if len(hits) > 1:
        names = "、".join(f"{r.spec.title}（{r.spec.name}: {r.spec.path}）" for r in hits)
        raise LayoutError(f"複数の様式に当てはまります: {names}。--layout か --layout-file で"
                          "どちらかを指定してください", str(path))
    if not hits:
        raise _refusal(path, results, False, problems)
    hits[0].notes = problems
    return hits[0].spec, hits[0]


def read_with_spec(path, wb, spec: Spec, result: MatchResult, trace: Trace | None = None):
    """Read a workbook with a matched layout into a Book, by the layout's kind."""
    try:
        return _read_with_spec(path, wb, spec, result, trace)
    except PatternError as exc:
        raise LayoutSpecError(str(exc), spec.path) from None


def _read_with_spec(path, wb, spec: Spec, result: MatchResult, trace: Trace | None = None):
    from xlsgen.kinds import kind_of
    from xlsgen.model import Finding, Severity

    trace = trace or Trace()
    roles: dict[str, dict] = {}
    skipped = []
    skip = (spec.get("sheets") or {}).get("skip")
    on_purpose = compile_labels(skip) if skip else None
    for g in wb.grids():
        role = sheet_role(spec, g, result)
        if role is None:
            if on_purpose is None or not on_purpose.match(squash(g.name)):
                skipped.append(g.name)  # a sheet `sheets.skip` names is skipped silently
        else:
            roles[g.name] = role
    kind = kind_of(spec)
    book = kind.read(path, wb, spec, roles, trace)
    if not spec.get("parser"):  # a record parser reports the sheets it passes over itself
        for name in skipped:
            book.findings.append(Finding(
                Severity.WARNING, "sheet-skipped",
                f"シート「{name}」は{spec.title}の読み取り対象ではないため読み飛ばしました",
                str(path), name))
    book.kind = kind.NAME
    book.layout = spec.name
    book.layout_title = spec.title
    book.document_title = spec.get("document_title")
    book.layout_file = spec.path
    book.city = str(spec.get("city") or "")
    book.rollforward = dict(spec.get("rollforward") or {})
    book.report = dict(spec.get("report") or {})
    for key in ("achievement", "grades"):  # the city's own rule and scale, for the report
        if spec.get(key):
            book.report[key] = dict(spec.get(key))
    book.plan_years = spec.plan_years() or derived_plan_years(book)
    for note in getattr(result, "notes", ()):
        book.findings.append(Finding(Severity.WARNING, "layout-file-ignored", note, str(path)))
    if book.measure_count == 0:
        book.findings.append(Finding(Severity.ERROR, "no-measure-read",
                                     f"{spec.title}として読める施策・指標が1つもありません",
                                     str(path)))
    return book


def derived_plan_years(book) -> list[int]:
    """The plan's years when the layout does not say (`plan_years`): every year a measure
    has an actual column for; for a measure without any, the years after its baseline up
    to its target."""
    years: set[int] = set()
    for m in book.measures:
        if m.actual_years:
            years.update(m.actual_years)
        elif m.baseline_year and m.target_year and m.target_year > m.baseline_year:
            years.update(range(m.baseline_year + 1, m.target_year + 1))
    return sorted(years)


def read_book(path: str | Path, layout: str = "auto", layout_file: str | None = None,
              progress=None):
    """Read a workbook into the model's `Book` with the one layout file whose anchors are
    all found (or the forced one). Raises InputFileError / LayoutError / LayoutSpecError
    (Japanese, naming the file) when it cannot be read or no layout matches. Sheets the
    layout does not read are never loaded; `progress(n, m, sheet)` is called as sheet n of
    m is loaded (see `WorkbookGrids`)."""
    from xlsgen.read.grid import WorkbookGrids

    new_budget()
    with WorkbookGrids(path, progress) as wb:
        spec, result = choose(path, list(wb.grids()), layout, layout_file)
        return read_with_spec(path, wb, spec, result)


def as_book(book, layout: str = "auto", layout_file: str | None = None, progress=None):
    """`book` when it is a Book already read (it travels to every later step of a request),
    else the Book read from the path `book`: one read per book."""
    from xlsgen.model import Book

    if isinstance(book, Book):
        return book
    return read_book(book, layout, layout_file, progress)
