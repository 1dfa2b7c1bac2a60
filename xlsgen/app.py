"""The application layer: one function per thing a user does (build, roll forward, validate,
audit, simulate, run a folder, process an uploaded book). The command line (`xlsgen.cli`)
and the web page (`xlsgen.web`) call only these and print or show what they return; the
work itself happens in the stage modules they call.

A book is read once per request: `extract_book` returns the Book, and `build_file`,
`rollforward_file`, `audit_file` and `validate_book` take that Book (or a path, which they
read). `progress(n, m, sheet)`, where a function takes it, is called as sheet n of the
book's m sheets is read, so a front end can show a big book's read moving.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from xlsgen.errors import XlsgenError

UNEXPECTED = "予期しない問題が発生しました（{kind}: {exc}）"


def error_text(exc: BaseException) -> str:
    """The one-line Japanese message of an error, as the command line shows it."""
    if isinstance(exc, XlsgenError):
        return str(exc)
    return UNEXPECTED.format(kind=type(exc).__name__, exc=exc)


# --- extract / validate / audit ---------------------------------------------------------


def sigterm_as_interrupt() -> None:
    """Treat SIGTERM like Ctrl-C in this process (workers stopped, temporaries removed)."""
    from xlsgen.batch import sigterm_as_interrupt as install

    install()


def extract_book(book, layout: str = "auto", layout_file=None, progress=None):
    """Read a workbook into the model (`xlsgen.model.Book`); in a book not recalculated since
    an edit, the reader's checks on formulas' saved results give way to one warning, as in
    `validate`."""
    from xlsgen.layout import read_book
    from xlsgen.validate import without_stale_results

    book = read_book(book, layout, layout_file, progress)
    book.findings = without_stale_results(book, book.findings)
    return book


def validate_book(book) -> list:
    """The findings of a Book already read (its reader's own, then every rule)."""
    from xlsgen.validate import validate_book as validate

    return validate(book)


def validate_files(paths, layout: str = "auto", layout_file=None, skipped: list | None = None) -> list:
    """Validate workbooks (or folders of workbooks); one `FileReport` per file."""
    from xlsgen.validate import validate_paths

    return validate_paths(paths, layout, layout_file, skipped)


def audit_file(book, output=None, name: str | None = None):
    """Audit every formula of `book` (a path, or a Book read from it: its file is audited);
    with `output`, also write the audit workbook there (its header naming `name`, the file
    as the user knows it, when given). Returns the `AuditResult`."""
    from xlsgen.audit import audit_workbook

    checked = hasattr(book, "path")  # a Book: its reader ran the safety checks on the file
    book = getattr(book, "path", book)
    if output:
        from xlsgen.atomic import refuse_overwrite

        refuse_overwrite(output, [book])
    result = audit_workbook(book, checked)
    if output:
        import dataclasses

        from xlsgen.render.audit_report import write_audit_report

        shown = dataclasses.replace(result, file=str(Path(book).with_name(name))) if name else result
        write_audit_report(shown, output)
    return result


# --- build / roll forward / batch -------------------------------------------------------


def build_file(book, output, protect: bool = True, layout: str = "auto",
               layout_file=None, progress=None) -> dict:
    """Write the report workbook of `book` (a path, or the Book read from it); returns
    counts (sheets, kpis), layout and the model (`book`)."""
    from xlsgen import batch

    return batch.build_file(book, output, protect=protect, layout=layout, layout_file=layout_file,
                            progress=progress)


def rollforward_file(book, to, output, extend_to=None, layout: str = "auto", layout_file=None,
                     force: bool = False, progress=None):
    """Roll `book` (a path, or the Book read from it) to the edition of fiscal year `to`;
    returns the `RollResult`. An existing `output` is refused unless `force`."""
    from xlsgen import rollforward

    return rollforward.rollforward_file(book, to, output, extend_to, layout, layout_file,
                                        progress=progress, force=force)


def rollforward_lines(result, limit: int = 10) -> list[str]:
    """What to tell the user about a roll-forward (warnings start with 警告)."""
    from xlsgen.wareki import FiscalYear

    log = getattr(result, "change_log", "変更履歴")
    lines = [f"{FiscalYear(result.from_year).kanji}版 → {FiscalYear(result.to_year).kanji}版: "
             f"{result.output}（変更 {len(result.changes)} セル、「{log}」シートを確認してください）"]
    lines += [f"注意: {n}" for n in getattr(result, "notes", [])]
    reasons = Counter(re.sub(r"（指標「.*」）$", "", c.reason) for c in result.changes)
    lines += [f"  {n:4d}  {reason}" for reason, n in reasons.most_common()]
    lines += [f"  {c.sheet}!{c.cell}: " + (getattr(c, "what", "") or f"{_short(c.before)} → {_short(c.after)}")
              for c in result.changes[:limit]]
    if len(result.changes) > limit:
        lines.append(f"  …ほか {len(result.changes) - limit} 件")
    lines += [f"警告: {f.sheet}!{f.cell} {f.message}" for f in result.findings[:limit]]
    if len(result.findings) > limit:
        lines.append(f"警告: …ほか {len(result.findings) - limit} 件（空の実績値）")
    return lines


def _short(value, width: int = 30) -> str:
    text = "（空欄）" if value in (None, "") else str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def run_folder(in_dir, out_dir, jobs: int | None = None, options: dict | None = None,
               progress=None) -> dict:
    """The yearly batch over a folder (`xlsgen run`); returns the summary dict."""
    from xlsgen import batch

    return batch.run(in_dir, out_dir, jobs, options, progress)


def layout_names() -> list[str]:
    """Names of the shipped layout files (`--layout NAME`)."""
    from xlsgen.layout import layout_names as names

    return names()


def layouts_folder() -> str:
    """The folder of the shipped layout files (for messages)."""
    from xlsgen.layout import builtin_dir

    return str(builtin_dir())


def check_layout(spec, book) -> tuple[bool, list[str]]:
    """`xlsgen layout check`: whether SPEC reads BOOK, and what came from which cell.
    SPEC is a layout file, or the name of a shipped layout (or of one in `layouts/` beside
    BOOK), so an installed xlsgen checks its own layouts by name."""
    from xlsgen.layout.check import check_layout as check

    return check(layout_path(spec, book), book)


def layout_path(name_or_path, book=None) -> Path:
    """A layout file: the path as given when it exists, else the layout of that name
    (shipped, or in `layouts/` beside `book`). A bare name that is neither is refused."""
    from xlsgen.layout import find_specs

    path = Path(name_or_path)
    if path.exists() or len(path.parts) != 1 or path.suffix:
        return path
    specs = find_specs(book if book and Path(book).exists() else None)
    if str(name_or_path) in specs:
        return Path(specs[str(name_or_path)].path)
    raise XlsgenError("様式ファイルが見つかりません（ファイルでも様式の名前でもありません。"
                      f"使える様式: {'、'.join(sorted(specs))}）", str(name_or_path))


def findings_workbook(results: list[dict], output) -> None:
    """Write 検証結果.xlsx for results of `process_book`, linking each file by its own name
    and its report by `report_name` as siblings of `output` (as in the page's zip)."""
    from xlsgen.atomic import atomic_path
    from xlsgen.render.findings import write_findings

    base = Path(output).resolve().parent
    rows = []
    for r in results:
        file = str(base / r["name"])
        edition = r.get("edition_name")
        rows.append({**r, "file": file,
                     "findings": [{**f, "file": str(base / edition) if edition and f.get("file") == edition
                                   else file} for f in r["findings"]],
                     "output": str(base / r["report_name"]) if r.get("report_name") else None})
    with atomic_path(output) as tmp:
        write_findings(rows, tmp, base)


# --- simulation -------------------------------------------------------------------------


def simulate_templates(paths: list, output) -> list[str]:
    """`xlsgen simulate`: load, evaluate and write; returns the lines to show (warnings
    start with 警告)."""
    from xlsgen import simulation as S
    from xlsgen.atomic import refuse_overwrite

    paths = [str(template_path(p)) for p in paths]
    output = str(output)
    refuse_overwrite(output, paths)
    if "survey" in {S.template_kind(p) for p in paths}:
        if len(paths) != 1:
            raise XlsgenError("アンケート（kind: survey）のテンプレートは1つずつ指定してください")
        return simulate_survey(paths[0], output)
    sims = [S.load_simulation(p) for p in paths]
    ids = [s.id for s in sims]
    if len(sims) > 1 and len(set(ids)) != len(ids):
        raise XlsgenError("複数のモデルの id が重複しています（シート名と名前の接頭辞に使うため、"
                          f"別々にしてください: {', '.join(ids)}）")
    evaluations = [S.evaluate(s) for s in sims]
    from xlsgen.render.simulation import write_simulation_workbook

    write_simulation_workbook(evaluations, output)
    lines = [f"{output} を作成しました（{len(sims)}モデル）"]
    lines += [S.summary_line(ev) for ev in evaluations]
    return lines + [f"警告: {w}" for ev in evaluations for w in S.warning_lines(ev)]


def simulate_survey(path, output) -> list[str]:
    """A survey template (kind: survey) → its workbook; returns the lines to show."""
    from xlsgen.render.survey import write_survey_workbook
    from xlsgen.survey import load_survey

    survey = load_survey(path)
    write_survey_workbook(survey, output)
    lines = [f"{output} を作成しました（アンケート集計）",
             f"参加団体 {len(survey.participants)} / 回答 {survey.respondents} / "
             f"回答率 {survey.response_rate:.1%}"]
    return lines + [f"警告: {w}" for w in survey.warnings()]


def template_path(name_or_path) -> Path:
    """A template file: the path as given when it exists, else the bundled template of that
    name (`mitaka_model_a`, with or without `.yaml`), so an installed xlsgen runs its own
    templates from any folder. A missing file with a suffix is returned as given (the
    loader reports it); a bare name that is no bundled template is refused here."""
    path = Path(name_or_path)
    if path.exists() or len(path.parts) != 1:
        return path
    stem = path.stem if path.suffix.lower() in (".yaml", ".yml") else path.name
    bundled = bundled_templates()
    for t in bundled:
        if t["id"] == stem:
            return t["path"]
    if not path.suffix:
        raise XlsgenError("テンプレートが見つかりません（ファイルでも同梱のテンプレートの名前でもありません。"
                          f"同梱: {'、'.join(t['id'] for t in bundled)}）", str(name_or_path))
    return path


def bundled_templates() -> list[dict]:
    """The templates shipped with xlsgen: id (file stem), title, kind and path."""
    from xlsgen import simulation as S
    from xlsgen.resources import templates_dir

    out = []
    # layouts/ holds layout files, not simulations: only simulations and reports are offered
    paths = [p for kind in ("simulations", "reports") for p in templates_dir(kind).glob("*.yaml")]
    for path in sorted(paths, key=lambda p: p.name):
        kind = S.template_kind(path)
        title = path.stem
        try:
            import yaml

            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            title = str(raw.get("title") or title) if isinstance(raw, dict) else title
        except (OSError, ValueError, yaml.YAMLError):
            pass
        out.append({"id": path.stem, "title": title, "kind": kind, "path": path})
    return out


def template_drivers(path) -> list[dict]:
    """The inputs a user may change (section, name, label, value, unit, note), in order;
    empty for a survey template. Raises XlsgenError for a broken template."""
    from xlsgen import simulation as S

    if S.template_kind(path) == "survey":
        from xlsgen.survey import load_survey

        load_survey(path)  # the same checks as the command line
        return []
    sim = S.load_simulation(path)
    return [{"section": sec.title, "name": i.name, "label": i.label, "value": i.value,
             "unit": i.unit, "note": i.note}
            for sec in sim.sections for i in sec.inputs if not i.is_group]


def simulate_with_drivers(path, drivers: dict[str, Any], output, work_dir) -> list[str]:
    """Simulate the template at `path` with some input values replaced (`{name: value}`;
    a value is a number or text such as "20%"). The changed template is written inside
    `work_dir` under a fixed name; the template file itself is not touched."""
    import yaml

    from xlsgen import simulation as S

    if not drivers or S.template_kind(path) == "survey":
        return simulate_templates([path], output)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise XlsgenError(f"テンプレートを読み込めません（{exc}）", str(path)) from None
    known = {i["name"] for i in template_drivers(path)}
    unknown = sorted(set(drivers) - known)
    if unknown:
        raise XlsgenError(f"前提条件に無い項目です: {', '.join(unknown)}", str(path))
    for section in raw.get("sections") or []:
        for item in section.get("inputs") or []:
            name = item.get("name")
            if isinstance(name, str) and name.strip() in drivers:
                item["value"] = drivers[name.strip()]
    changed = Path(work_dir) / "template.yaml"
    changed.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        lines = simulate_templates([changed], output)
    except XlsgenError as exc:  # name the user's template, not the private copy
        raise XlsgenError(str(exc).replace(str(changed), str(path))) from None
    return [line.replace(str(changed), Path(path).name) for line in lines]


# --- one uploaded book (the web page) ---------------------------------------------------


def process_book(path, out_dir, name: str, rollforward_to=None, protect: bool = True,
                 on_stage=None, progress=None) -> dict:
    """Everything the page offers for one workbook: report, findings, roll-forward edition
    and audit workbook, written in `out_dir` under fixed names. `name` is the file's name
    as the user knows it: messages show it instead of `path`; findings of the edition name
    the edition's file (`edition_name`). The book is read once (the Book goes on to
    validation, report, roll-forward and audit). `on_stage(stage)` is told each stage as it
    starts (report, edition, audit); `progress(n, m, sheet)` follows the read of the book.
    Never raises."""
    from xlsgen import batch
    from xlsgen.clerk import finding_sort_key

    tell = on_stage or (lambda _stage: None)
    path, out_dir = Path(path), Path(out_dir)
    tell("report")
    res = batch.process_file(path, out_dir, {"protect": protect}, progress, keep_book=True)
    book = res.pop("book", None)
    res = _renamed(res, str(path), name)
    res.update(name=name, file=name, outputs={}, notes=[])
    for f in res["findings"]:
        f["file"] = name
    if res.get("output"):
        res["outputs"]["report"] = res.pop("output")
    if res["ok"]:
        edition = out_dir / f"edition{path.suffix.lower() or '.xlsx'}"
        try:
            if not book.rollforward.get("supported"):
                rollforward_to = None
            elif not rollforward_to:
                rollforward_to = book.fiscal_year + 1 if book.fiscal_year else None
            if rollforward_to:
                tell("edition")
                roll = rollforward_file(book, rollforward_to, edition)
                res["outputs"]["edition"] = str(edition)
                res["edition_year"] = roll.to_year
                res["edition_name"] = edition_file_name(name, roll.to_year, edition.suffix)
                res["findings"] += [{**f.to_dict(), "file": res["edition_name"]} for f in roll.findings]
                res["notes"] += [f"翌年度版: {n}" for n in roll.notes]
            else:
                res["notes"].append(f"翌年度版: {name}: ブックの年度を判定できないため作れません"
                                    "（この様式の繰り越しには対応していません）")
        except Exception as exc:  # noqa: BLE001 - the report stays usable
            res["notes"].append("翌年度版: " + error_text(exc).replace(str(path), name))
    audit_out = out_dir / "audit.xlsx"
    tell("audit")
    try:
        audit = audit_file(book if book is not None else path, audit_out, name=name)
        res["outputs"]["audit"] = str(audit_out)
        res["audit_findings"] = len(audit.findings)
    except Exception as exc:  # noqa: BLE001
        message = error_text(exc).replace(str(path), name)
        if message != res["reason"]:
            res["notes"].append("監査: " + message)
    parts = {name: "input", res.get("edition_name"): "edition"}
    res["findings"].sort(key=lambda f: finding_sort_key({**f, "part": parts.get(f["file"])}))
    return res


def edition_file_name(name: str, year: int, suffix: str = ".xlsx") -> str:
    """The download name of the edition of fiscal year `year` made from the book `name`."""
    from xlsgen.wareki import FiscalYear

    return f"{Path(name).stem}_{FiscalYear(year).short}{suffix}"


def _renamed(value, old: str, new: str):
    """`value` with every occurrence of the private path `old` shown as `new`."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return value


# --- the yearly round trip: distribute / collect / diff ----------------------------------


def distribute_book(book, out_dir, to=None, extend_to=None, due: str | None = None,
                    contact: str | None = None, layout: str = "auto", layout_file=None):
    """`xlsgen distribute`: one input form per department for an edition of `book`,
    written into `out_dir`. When `to` names the edition after the book's, the book is
    rolled forward first (`rollforward_file`) and the new edition, written into `out_dir`,
    is the master to collect into; otherwise the book itself is. Returns the
    `Distribution` (master, forms, notes). Nothing is written when it refuses."""
    import shutil
    import tempfile

    from xlsgen import distribute as D
    from xlsgen.atomic import atomic_path, refuse_overwrite
    from xlsgen.layout import read_book
    from xlsgen.read.refuse import refuse_failed_read
    from xlsgen.rollforward import parse_year
    from xlsgen.roundtrip import inputs as I
    from xlsgen.wareki import FiscalYear

    book, out_dir = Path(book), Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise XlsgenError("出力先（-o）には様式を書き出すフォルダを指定してください", str(out_dir))
    model = refuse_failed_read(read_book(book, layout, layout_file), "照会様式")
    to_year = parse_year(to, "--to") if to else None
    edition = model.fiscal_year
    if to_year and edition and to_year not in (edition, edition + 1):
        raise XlsgenError(f"--to には、このブックの年度版（{FiscalYear(edition).short}）か翌年度版"
                          f"（{FiscalYear(edition + 1).short}）を指定してください", str(book))
    if not (to_year and edition and to_year == edition + 1):
        roster = I.roster(model, to_year)
        return D.write_forms(book, out_dir, roster, due=due, contact=contact)
    with tempfile.TemporaryDirectory(prefix="xlsgen-distribute-") as tmp:
        name = f"{D.book_name(book)}_{FiscalYear(to_year).short}{book.suffix}"
        final = out_dir / name
        refuse_overwrite(final, [book])
        rolled = Path(tmp) / name
        rollforward_file(book, to_year, rolled, extend_to, layout, layout_file)
        master = refuse_failed_read(read_book(rolled, layout, layout_file), "照会様式")
        roster = I.roster(master, to_year, previous=model)
        result = D.write_forms(rolled, out_dir, roster, due=due, contact=contact, protect_inputs=[book])
        with atomic_path(final, [book]) as out:
            shutil.copyfile(rolled, out)
    result.master, result.rolled_from = final, book
    return result


def distribute_lines(result) -> list[str]:
    """What to tell the user after `distribute` (notes start with 注意)."""
    from xlsgen.wareki import FiscalYear

    lines = []
    if result.rolled_from:
        lines.append(f"{result.rolled_from} を{FiscalYear(result.edition).kanji}版に繰り越し、回収先のマスター "
                     f"{result.master} を書き出しました")
    else:
        lines.append(f"回収先のマスター: {result.master}（このブックに回収します。配布後は変更しないでください）")
    lines.append(f"照会様式 {len(result.forms)} 件（{FiscalYear(result.fiscal_year).kanji}の実績・評価）:")
    lines += [f"  {f.path.name}  入力欄 {f.inputs}（数値 {f.numbers}、文章・選択 {f.texts}）" for f in result.forms]
    lines += [f"注意: {n}" for n in result.notes]
    return lines


def collect_forms(master, forms, output, layout: str = "auto", layout_file=None,
                  names: dict[str, str] | None = None):
    """`xlsgen collect`: check the returned `forms` (files or folders) and write `master`
    with the accepted answers to `output`; returns the `Collection`. `names` ({path: name})
    shows each form by the name its sender gave it (the page keeps uploads under names it
    makes up)."""
    from xlsgen.collect import collect

    return collect(master, list(forms), output, layout, layout_file, names)


def collect_lines(result, limit: int = 20) -> list[str]:
    """The status table and problems as text (未記入 is counted per owner, listed in the
    回収の指摘 sheet and the JSON)."""
    from xlsgen.collect import SEVERITY_JA

    d = result.to_dict()["summary"]
    lines = [f"{result.output}: 提出 {d['submitted']} / {d['owners']}（未提出 {d['missing']}、不受理のファイル "
             f"{d['rejected_files']}）、反映 {d['applied']} セル、エラー {d['errors']}、警告 {d['warnings']}"]
    for o in result.owners:
        extra = f"  差し替え: {'、'.join(o.replaced)}" if o.replaced else ""
        lines.append(f"  {o.owner}: {o.status}" + (
            f"  記入 {o.filled}/{o.inputs}、反映 {o.applied}、指摘 {o.problems}  {o.file}（{o.saved}）{extra}"
            if o.file else ""))
    lines += [f"  不受理: {r.file}: {r.reason}" for r in result.rejected]
    shown = [p for p in result.problems if p.severity != "info" and p.code != "empty"]
    for p in shown[:limit]:
        lines.append(f"指摘: [{SEVERITY_JA[p.severity]}] {p.owner} {p.file} {p.form_cell}"
                     f"{' → ' + p.master_cell if p.master_cell else ''}: {p.message}")
    if len(shown) > limit:
        lines.append(f"指摘: …ほか {len(shown) - limit} 件（「回収の指摘」シートを確認してください）")
    return lines


def diff_files(old, new, layout: str = "auto", layout_file=None):
    """`xlsgen diff`: compare two books by label; returns the `DiffResult`."""
    from xlsgen.roundtrip.diff import diff_books

    return diff_books(old, new, layout, layout_file)


def diff_lines(result, limit: int | None = None) -> list[str]:
    from xlsgen.roundtrip.diff import lines

    return lines(result, limit)


def diff_workbook(result, output) -> None:
    """The diff as a workbook whose rows link to both books' cells."""
    from xlsgen.atomic import refuse_overwrite
    from xlsgen.render.diff_report import write_diff

    refuse_overwrite(output, [result.old, result.new])
    write_diff(result, output)


# --- the page's words (findings, editions, simulation fields) ---------------------------


def page_findings(result: dict) -> list[dict]:
    """The findings of a `process_book` result as the page lists them: repeated notices
    grouped with their cells, natural order, which file each cell is in, no CLI hints."""
    from xlsgen.clerk import finding_groups

    parts = {result.get("name"): "input"}
    if result.get("edition_name"):
        parts[result["edition_name"]] = "edition"
    return finding_groups(result.get("findings") or [], parts)


def for_clerk(message: str | None) -> str:
    """A message for the page: the same text without command-line hints."""
    from xlsgen.clerk import for_clerk as plain

    return plain(message)


def edition_label(year: int | None) -> str | None:
    """「令和4年度版」 for the edition of fiscal year 2022."""
    from xlsgen.clerk import edition_label as label

    return label(year)


def driver_problems(path, drivers: dict[str, Any]) -> dict[str, str]:
    """For each changed simulation input that is not a usable value, the reason in
    Japanese (`{name: reason}`); empty when every value is fine."""
    from xlsgen import simulation as S

    known = {d["name"]: d for d in template_drivers(path)}
    problems = {}
    for name, value in drivers.items():
        if name not in known:
            problems[name] = "この前提条件はテンプレートにありません"
            continue
        if not str(value).strip():
            problems[name] = "値を入れてください"
            continue
        errors: list[str] = []
        S.input_value(value, errors)
        if errors:
            problems[name] = errors[0]
    return problems


def is_layout_file(path) -> bool:
    """Whether a YAML file is a layout file (how to read a city's book: `detect` anchors),
    not a simulation or report template."""
    from xlsgen.template_values import read_template

    try:
        raw = read_template(path)
    except XlsgenError:
        return False
    return isinstance(raw, dict) and "detect" in raw and raw.get("kind") not in ("simulation", "survey")


# --- the round trip on the web page (照会と回収) ----------------------------------------
# Each function takes the clerk's file name (`name`) beside the server's private path, says
# its stages through `on_stage(stage)`, never raises (`ok` False with a Japanese `reason`
# naming the clerk's file) and returns plain data with the outputs' paths under `outputs`
# (the page shows file names only).

MAX_COVER_TEXT = 100  # 提出期限 / 問い合わせ先 typed on the page


def inquiry_book(path, name: str, on_stage=None) -> dict:
    """What the page offers for a book uploaded as the master: its title and edition, and
    the editions it can be asked for — its own (a correction round, or a master distributed
    before) and, when its layout rolls forward, the next one (the book is last year's
    finished edition) — each with the year it asks for and how many of its inputs the book
    already holds (a book whose inputs are filled is last year's finished edition)."""
    from xlsgen.layout import read_book
    from xlsgen.read.refuse import refuse_failed_read
    from xlsgen.roundtrip import inputs as I

    tell = on_stage or (lambda _stage: None)
    path = Path(path)
    tell("read")
    try:
        model = refuse_failed_read(read_book(path), "照会様式")
    except Exception as exc:  # noqa: BLE001 - shown on the page
        form = _form_owner(path)
        if form is not None:
            return {"ok": False, "reason": f"{name}: これは各課から戻った照会様式（{form}）です。"
                                           "ここには回収先のブック（マスター）を送ってください"}
        return {"ok": False, "reason": for_clerk(error_text(exc).replace(str(path), name))}
    tell("roster")
    edition = model.fiscal_year
    choices = []
    if edition:
        try:
            own = I.roster(model, edition)
            filled = sum(a.current not in (None, "") for a in own.assignments)
            choices.append({"edition": edition, "asks": edition - 1, "roll": False,
                            "inputs": len(own.assignments), "filled": filled,
                            "owners": len(own.owners)})
        except XlsgenError:
            pass
        if model.rollforward.get("supported"):
            choices.append({"edition": edition + 1, "asks": edition, "roll": True})
    if not choices:
        return {"ok": False, "reason": f"{name}: このブックの年度版を判定できないため、照会様式を作れません"
                                       "（この様式の照会と回収には対応していません）"}
    own = choices[0] if not choices[0]["roll"] else None
    # last year's finished edition (its inputs mostly filled): roll it and ask for the next year
    finished = own is None or (own["inputs"] and own["filled"] * 2 >= own["inputs"]) or not own["inputs"]
    rolled = next((c for c in choices if c["roll"]), None)
    for c in choices:
        c["recommended"] = (c is rolled) if (rolled and finished) else (c is own)
    return {"ok": True, "name": name, "layout_title": model.layout_title or model.layout,
            "title": model.document_title or model.title or "", "edition": edition,
            "measures": len(model.measures), "choices": choices}


def _form_owner(path: Path) -> str | None:
    """The owner of a returned form at `path`, or None when it is not a form."""
    from xlsgen.roundtrip.form import read_form

    try:
        return read_form(path).owner or "課名なし"
    except Exception:  # noqa: BLE001 - not a form (or not readable): the read's message stands
        return None


def inquiry_forms(book, out_dir, name: str, to: int | None = None, due: str | None = None,
                  contact: str | None = None, on_stage=None) -> dict:
    """Distribute the uploaded `book` (shown as `name`) for edition `to` (the book's own
    when None; the next one rolls it forward first) into `out_dir`: the forms, the master
    to collect into, and one zip of both (master at the top, forms in 各課に送る様式/)."""
    import shutil
    import zipfile

    from xlsgen.wareki import FiscalYear

    tell = on_stage or (lambda _stage: None)
    out_dir = Path(out_dir)
    src = out_dir / "book" / _legal_name(name, Path(book).suffix)
    src.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(book, src)
    forms_dir = out_dir / "forms"
    tell("distribute")
    try:
        dist = distribute_book(src, forms_dir, to=to, due=_cover_text(due), contact=_cover_text(contact))
        tell("zip")
        master = Path(dist.master)
        zip_name = _legal_name(f"{Path(master.name).stem}_照会様式", ".zip")
        zip_path = out_dir / zip_name
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(master, master.name)
            for f in dist.forms:
                zf.write(f.path, f"各課に送る様式/{f.path.name}")
    except Exception as exc:  # noqa: BLE001 - shown on the page
        text = error_text(exc).replace(str(src), name).replace(str(forms_dir) + "/", "")
        return {"ok": False, "reason": for_clerk(text)}
    return {"ok": True, "edition": dist.edition, "fiscal_year": dist.fiscal_year,
            "edition_label": f"{FiscalYear(dist.edition).kanji}版",
            "asks_label": FiscalYear(dist.fiscal_year).kanji, "rolled": dist.rolled_from is not None,
            "master_name": master.name, "zip_name": zip_name,
            "forms": [{"owner": f.owner, "kind": f.kind, "file": f.path.name, "inputs": f.inputs,
                       "numbers": f.numbers, "texts": f.texts, "measures": f.measures} for f in dist.forms],
            "notes": [for_clerk(n) for n in dist.notes],
            "outputs": {"master": str(master), "zip": str(zip_path), "book": str(src)}}


def collect_round(master, forms: list, out_dir, master_name: str, base=None,
                  base_name: str | None = None, on_stage=None) -> dict:
    """Collect the returned `forms` ([(path, name as the clerk knows it)], every form
    received so far, in the order received) into `master` (shown as `master_name`), then
    compare the result with `base` (last year's edition, shown as `base_name`; the master
    itself when None). Writes into `out_dir`, side by side under the names the clerk will
    download them by (so the diff workbook's links to both books work): the merged master
    `<master>_回収`, the diff `<master>_回収_変更点.xlsx` and the book compared with."""
    import shutil

    from xlsgen.roundtrip.diff import FLAG_JA, KIND_JA, show
    from xlsgen.wareki import FiscalYear

    tell = on_stage or (lambda _stage: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = Path(master).suffix.lower() or ".xlsx"
    stem = Path(_legal_name(master_name, suffix)).stem
    merged = out_dir / _legal_name(f"{stem}_回収", suffix)
    diff_out = out_dir / _legal_name(f"{stem}_回収_変更点", ".xlsx")
    shown_base = base_name if base is not None and base_name else master_name
    old = out_dir / _legal_name(shown_base, Path(base if base is not None else master).suffix.lower())
    if old.name in (merged.name, diff_out.name):
        old = out_dir / _legal_name(f"{Path(old.name).stem}_比較元", old.suffix)
    private = {str(master): master_name, str(out_dir) + "/": ""}
    if base is not None:
        private[str(base)] = shown_base
    for p, n in forms:
        private[str(p)] = n

    def clean(text: str) -> str:
        for path, shown in sorted(private.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(path, shown)
        return for_clerk(text)

    tell("collect")
    try:
        col = collect_forms(master, [p for p, _ in forms], merged, names={str(p): n for p, n in forms})
    except Exception as exc:  # noqa: BLE001 - shown on the page
        return {"ok": False, "reason": clean(error_text(exc))}
    data = col.to_dict()
    for key in ("master", "output"):
        data.pop(key, None)
    answered = {(f"{a.sheet}!{a.cell}", a.segment) for a in col.applied}
    outputs = {"merged": str(merged)}
    tell("diff")
    try:  # the collection stands even when the book compared with cannot be
        shutil.copyfile(base if base is not None else master, old)
        diff = diff_files(old, merged)
        diff_workbook(diff, diff_out)
    except Exception as exc:  # noqa: BLE001 - shown on the page
        old.unlink(missing_ok=True)
        return {"ok": True, "collection": data, "outputs": outputs,
                "diff": {"old": old.name, "new": merged.name, "error": clean(error_text(exc))}}
    outputs.update(diff=str(diff_out), base=str(old))
    changes = [{"kind": c.kind, "kind_label": KIND_JA.get(c.kind, c.kind), "measure": c.measure,
                "kpi": c.kpi or "", "what": c.what, "old": show(c.old, c.unit), "new": show(c.new, c.unit),
                "old_cell": c.old_cell, "new_cell": c.new_cell, "department": c.department,
                "flag": c.flag, "flag_label": FLAG_JA.get(c.flag) if c.flag else None,
                "answered": (c.new_cell, c.department) in answered or (c.new_cell, None) in answered}
               for c in diff.changes]
    label = lambda year: f"{FiscalYear(year).kanji}版" if year else ""  # noqa: E731
    return {"ok": True, "collection": data,
            "diff": {"old": old.name, "new": merged.name, "old_label": label(diff.old_edition),
                     "new_label": label(diff.new_edition), "counts": {KIND_JA.get(k, k): n for k, n in
                                                                     diff.counts().items()},
                     "flags": {FLAG_JA[f]: n for f, n in diff.to_dict()["flags"].items()},
                     "changes": changes},
            "outputs": outputs}


def _cover_text(text: str | None) -> str | None:
    """A 提出期限 / 問い合わせ先 typed on the page: one line, at most MAX_COVER_TEXT characters."""
    if not text:
        return None
    line = " ".join(str(text).split())
    return line[:MAX_COVER_TEXT] or None


def _legal_name(name: str, suffix: str) -> str:
    """`name` (the clerk's file name, with or without `suffix`) as a file name legal on
    Windows, at most 180 bytes, ending in `suffix`."""
    import unicodedata

    stem = Path(name).stem if Path(name).suffix.lower() == suffix.lower() else name
    stem = "".join("_" if ch in '\\/:*?"<>|' or unicodedata.category(ch)[0] == "C" else ch
                   for ch in unicodedata.normalize("NFC", stem)).strip(" .")
    out = ""
    for ch in stem:
        if len((out + ch + suffix).encode("utf-8")) > 180:
            break
        out += ch
    return f"{out or 'ブック'}{suffix}"
