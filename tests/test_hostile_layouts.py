"""Hostile conditions, round three (issue 20) — layout files are input like any other: safe
YAML with limits, user regexes with a time budget, no silent shadowing of a shipped layout,
a broken local file named and never stopping other books, duplicate keys and anchors that
match everything refused, Shift_JIS files read like templates."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import JOSO, OJIYA
from xlsgen.cli import cli
from xlsgen.layout import builtin_dir, find_layouts, load_spec
from xlsgen.layout.spec import LayoutSpecError
from xlsgen.rollforward import rollforward_file

KPI_LIST = builtin_dir() / "kpi_list.yaml"
OJIYA_SPEC = builtin_dir() / "ojiya.yaml"

BOMB = """name: bomb
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def folder(tmp_path: Path, layouts: dict[str, str | bytes], books=(OJIYA,)) -> Path:
    """A folder with the books and a layouts/ folder holding the given files."""
    d = tmp_path / "books"
    (d / "layouts").mkdir(parents=True)
    for b in books:
        shutil.copy(b, d / Path(b).name)
    for name, text in layouts.items():
        data = text.encode("utf-8") if isinstance(text, str) else text
        (d / "layouts" / name).write_bytes(data)
    return d


def assert_clean(res) -> None:
    assert "Traceback" not in res.output and "予期しない" not in res.output, res.output
    assert "codec" not in res.output and "Error" not in res.output, res.output


# --- 1. safe YAML with limits -------------------------------------------------------------------

HOSTILE_YAML = {
    "alias bomb": (BOMB, "別名"),
    "alias bomb in a mapping": ("name: b\nx: &x {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}\n"
                                + "".join(f"x{i}: &x{i} [" + ",".join([f"*x{i - 1 if i > 1 else ''}"] * 12) + "]\n"
                                          for i in range(1, 7)), "別名"),
    "self reference": ("name: r\ndetect: &d [*d]\n", "自分自身"),
    "deep nesting": ("name: deep\ndetect: " + "[" * 3000 + "]" * 3000 + "\n", "入れ子"),
    "python object": ("name: p\ndetect: !!python/object/apply:os.system [ls]\n", "タグ"),
    "tab indent": ("name: t\ndetect:\n\t- labels: [a]\n", "YAML"),
}


@pytest.mark.parametrize("case", list(HOSTILE_YAML))
def test_hostile_yaml_is_refused_quickly_and_named(tmp_path, case):
    text, words = HOSTILE_YAML[case]
    d = folder(tmp_path, {"evil.yaml": text})
    started = time.monotonic()
    res = invoke("validate", d / OJIYA.name)
    assert time.monotonic() - started < 10
    assert res.exit_code == 0, res.output  # the book it does not concern is read
    assert "evil.yaml" in res.output and words in res.output and "layout-file-ignored" in res.output
    assert_clean(res)
    forced = invoke("extract", d / OJIYA.name, "--layout-file", d / "layouts" / "evil.yaml")
    assert forced.exit_code == 1 and "evil.yaml" in forced.output and words in forced.output
    assert_clean(forced)


def test_the_600_byte_bomb_is_refused_in_well_under_a_second(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    assert len(BOMB.encode()) < 600
    started = time.monotonic()
    with pytest.raises(LayoutSpecError, match="別名"):
        load_spec(path)
    assert time.monotonic() - started < 1


def test_an_oversized_layout_file_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: big\n" + "# " + "x" * (2 * 1024 * 1024) + "\n", encoding="utf-8")
    with pytest.raises(LayoutSpecError, match="大きすぎます"):
        load_spec(path)


@pytest.mark.parametrize("body,lines", [
    ("name: a\nname: b\ndetect:\n  - labels: [施策]\ntable: {header: [指標名]}\n", ("2行目", "1行目")),
    ("name: a\ndetect:\n  - labels: [施策]\n    labels: [指標]\ntable: {header: [指標名]}\n", ("4行目", "3行目")),
    ("name: a\ndetect:\n  - labels: [施策]\ntable:\n  header: [指標名]\n  columns:\n    baseline: {label: 基準値, role: baseline}\n"
     "    baseline: {label: 現状値, role: baseline}\n", ("8行目", "7行目")),
])
def test_duplicate_keys_are_refused_with_both_lines(tmp_path, body, lines):
    path = tmp_path / "dup.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(LayoutSpecError) as exc:
        load_spec(path)
    message = str(exc.value)
    assert "重複" in message and str(path) in message and all(line in message for line in lines), message


# --- 2. user regexes with a time budget --------------------------------------------------------

def _book_with(path: Path, texts: list[str]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "一覧"
    for i, t in enumerate(texts, start=1):
        ws.cell(i, 1, t)
    wb.save(path)
    return path


EVIL_PATTERNS = ["re:^(a+)+$", "re:(a|aa)+$", "re:^(a|a?)+$", "re:(x+x+)+y", "re:^(\\w+\\s?)*$", "re:(.*a){25}"]


@pytest.mark.parametrize("pattern", EVIL_PATTERNS)
def test_a_catastrophic_label_pattern_never_hangs(tmp_path, pattern):
    spec = (f"name: evil\ndetect:\n  - labels: [\"{pattern}\"]\n    match: contains\n"
            "table: {header: [指標名]}\n")
    d = folder(tmp_path, {"evil.yaml": spec}, books=())
    book = _book_with(d / "a.xlsx", ["a" * 41 + "!", "aaaa", "x" * 40, "見出し"] + ["a" * 30 + "b"] * 20)
    started = time.monotonic()
    res = invoke("validate", book)
    assert time.monotonic() - started < 20, pattern
    assert res.exit_code == 1 and "a.xlsx" in res.output  # no layout reads it: refused, named
    assert_clean(res)
    forced = invoke("extract", book, "--layout-file", d / "layouts" / "evil.yaml")
    assert forced.exit_code == 1
    assert_clean(forced)


def test_a_pattern_out_of_time_names_its_file_and_spares_other_books(tmp_path):
    spec = "name: slow\ndetect:\n  - labels: [\"re:(a|aa)+$\"]\n    match: contains\ntable: {header: [指標名]}\n"
    d = folder(tmp_path, {"slow.yaml": spec}, books=(OJIYA,))
    _book_with(d / "a.xlsx", ["a" * 60 + "!"])
    res = invoke("validate", d / "a.xlsx")
    assert res.exit_code == 1 and "slow.yaml" in res.output and "時間がかかりすぎる" in res.output, res.output
    ok = invoke("validate", d / OJIYA.name)
    assert ok.exit_code == 0, ok.output


# --- 3. no silent shadowing; broken local files named, other books go on -------------------------

def _shadow(text: str = None) -> str:
    text = text or OJIYA_SPEC.read_text(encoding="utf-8")
    return text.replace("title:", "title: 市の改造版", 1)


def test_a_local_file_may_not_shadow_a_shipped_layout(tmp_path):
    d = folder(tmp_path, {"ojiya.yaml": _shadow()})
    plain = rollforward_file(OJIYA, "R4", tmp_path / "plain.xlsx")
    result = rollforward_file(d / OJIYA.name, "R4", tmp_path / "local.xlsx")
    assert len(result.changes) == len(plain.changes)  # the shipped layout read it
    assert any("ojiya.yaml" in n and "同梱の様式と同じ" in n and "--layout-file" in n for n in result.notes)
    res = invoke("validate", d / OJIYA.name)
    assert res.exit_code == 0 and "ojiya.yaml" in res.output and "同梱の様式と同じ" in res.output
    ext = json.loads(invoke("extract", d / OJIYA.name).output.split("\nエラー")[0])
    assert ext["layout_file"] == str(OJIYA_SPEC)
    forced = json.loads(invoke("extract", d / OJIYA.name, "--layout-file", d / "layouts" / "ojiya.yaml").output)
    assert forced["layout_file"] == str(d / "layouts" / "ojiya.yaml")
    cli = invoke("rollforward", d / OJIYA.name, "--to", "R4", "-o", tmp_path / "cli.xlsx")
    assert cli.exit_code == 0 and "注意:" in cli.output and "ojiya.yaml" in cli.output


def test_two_local_files_with_one_name(tmp_path):
    kpi = KPI_LIST.read_text(encoding="utf-8").replace("name: kpi_list", "name: city")
    d = folder(tmp_path, {"a.yaml": kpi, "b.yaml": kpi})
    specs, problems = find_layouts(d / OJIYA.name)
    assert specs["city"].path.endswith("a.yaml")
    assert any("b.yaml" in p and "a.yaml" in p for p in problems)


BROKEN = {
    "yaml syntax": ("name: x\ndetect: [a\n", "3行目"),
    "unknown key": ("name: x\ndetect:\n  - labels: [施策]\n    colour: red\ntable: {header: [指標名]}\n", "colour"),
    "bad regex": ("name: x\ndetect:\n  - labels: [\"re:(unclosed\"]\ntable: {header: [指標名]}\n", "正規表現"),
    "shift_jis garbage": (b"name: x\n\x82\xa0\xff\xfe\x81: 1\n", "文字コード"),
    "not a mapping": ("- a\n- b\n", "キー: 値"),
    "empty": ("", "キー: 値"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_local_file_is_named_and_stops_nothing_else(tmp_path, case):
    text, words = BROKEN[case]
    d = folder(tmp_path, {"broken.yaml": text}, books=(OJIYA, JOSO))
    for book in (OJIYA, JOSO):
        res = invoke("validate", d / book.name)
        assert res.exit_code == 0, res.output
        assert "broken.yaml" in res.output and words in res.output, res.output
        assert_clean(res)
    run = invoke("run", d, "-o", tmp_path / "out", "--jobs", "1")
    assert run.exit_code == 0, run.output
    odd = _book_with(d / "odd.xlsx", ["何の様式でもない"])
    refused = invoke("validate", odd)
    assert refused.exit_code == 1 and "様式を判定できません" in refused.output and "broken.yaml" in refused.output


# --- 4. anchors that match everything ----------------------------------------------------------

EVERYTHING = {
    "re:.*": ('["re:.*"]', "exact", "空の文字列"),
    "re:.": ('["re:."]', "exact", "どのセルにも"),
    "re:\\S+": ('["re:\\\\S+"]', "exact", "どのセルにも"),
    "one character, contains": ("[の]", "contains", "短すぎます"),
    "empty label, start": ('[""]', "start", "短すぎます"),
    "optional group": ('["re:(施策)?"]', "exact", "空の文字列"),
}


@pytest.mark.parametrize("case", list(EVERYTHING))
def test_anchors_that_match_everything_are_refused_at_load(tmp_path, case):
    labels, mode, words = EVERYTHING[case]
    path = tmp_path / "all.yaml"
    path.write_text(f"name: all\ndetect:\n  - labels: {labels}\n    match: {mode}\ntable: {{header: [指標名]}}\n",
                    encoding="utf-8")
    with pytest.raises(LayoutSpecError) as exc:
        load_spec(path)
    assert words in str(exc.value) and "3行目" in str(exc.value), str(exc.value)
    res = invoke("extract", OJIYA, "--layout-file", path)
    assert res.exit_code == 1 and words in res.output


def test_an_anchor_matching_most_cells_of_a_book_is_refused(tmp_path):
    """`[^0-9]` passes the load check (a number is no match) but matches nearly every text
    cell of a real book: the layout does not read it, and says why."""
    path = tmp_path / "most.yaml"
    path.write_text('name: most\ndetect:\n  - labels: ["re:[^0-9]"]\ntable: {header: [指標名]}\n', encoding="utf-8")
    load_spec(path)
    res = invoke("extract", OJIYA, "--layout-file", path)
    assert res.exit_code == 1 and "ほとんどどのセルにも当てはまります" in res.output, res.output
    d = folder(tmp_path, {"most.yaml": path.read_text(encoding="utf-8")})
    ok = invoke("validate", d / OJIYA.name)  # among the candidates it never wins
    assert ok.exit_code == 0 and "複数の様式" not in ok.output
    check = invoke("layout", "check", path, OJIYA)
    assert check.exit_code == 1 and "ほとんどどのセル" in check.output


def test_shipped_layouts_pass_the_new_checks():
    for f in builtin_dir().glob("*.yaml"):
        load_spec(f)
    for book in (OJIYA, JOSO):
        assert invoke("extract", book).exit_code == 0


# --- 5. encodings like templates ---------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-16"])
def test_layout_files_in_windows_encodings(tmp_path, encoding):
    from tests.layout_workbooks import write_kpi_list

    book = tmp_path / "kpi.xlsx"
    write_kpi_list(book)
    text = KPI_LIST.read_text(encoding="utf-8")
    path = tmp_path / f"kpi_{encoding}.yaml"
    path.write_bytes(text.encode(encoding))
    if encoding == "cp932":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    a = invoke("extract", book, "--layout-file", KPI_LIST)
    b = invoke("extract", book, "--layout-file", path)
    assert a.exit_code == b.exit_code == 0, b.output
    strip = lambda out: {k: v for k, v in json.loads(out).items() if k != "layout_file"}  # noqa: E731
    assert strip(a.output) == strip(b.output)


def test_a_layout_file_in_an_unknown_encoding_gets_a_japanese_message(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: x\n" + b"\x81\x7f\xfd\xfe\x80\n")
    res = invoke("extract", OJIYA, "--layout-file", path)
    assert res.exit_code == 1 and "文字コード" in res.output and "bad.yaml" in res.output
    assert_clean(res)
