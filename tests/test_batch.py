"""xlsgen run: good and broken workbooks, failures named, exit code, atomic and repeatable
outputs, inputs untouched, --jobs 2 equal to --jobs 1, 検証結果.xlsx with links."""

from __future__ import annotations

import hashlib
import shutil

import openpyxl
from click.testing import CliRunner

from tests.conftest import JOSO, NISHITOKYO, OJIYA
from xlsgen.cli import cli


def digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_run_folder_with_good_and_broken(tmp_path):
    inp = tmp_path / "inputs"
    inp.mkdir()
    for src in (OJIYA, JOSO, NISHITOKYO):
        shutil.copy(src, inp / src.name)
    (inp / "壊れた.xlsx").write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    (inp / "~$ojiya_進行管理シート_R3.xlsx").write_bytes(b"lock")
    other = openpyxl.Workbook()
    other.active["A1"] = "家計簿"
    other.save(inp / "別の表.xlsx")
    before = digests(inp)
    runner = CliRunner()

    res = runner.invoke(cli, ["run", str(inp), "-o", str(tmp_path / "o1"), "--jobs", "1"])
    assert res.exit_code == 1, res.output
    assert "壊れた.xlsx" in res.output and "Excel ブック" in res.output
    assert "別の表.xlsx" in res.output and "様式を判定できません" in res.output
    assert "ファイル 5（失敗 2）" in res.output and "指標 117" in res.output
    out1 = digests(tmp_path / "o1")
    assert sorted(out1) == sorted([f"{p.stem}_報告書.xlsx" for p in (OJIYA, JOSO, NISHITOKYO)]
                                  + ["検証結果.xlsx"])  # no temp files, nothing for the bad one

    res2 = runner.invoke(cli, ["run", str(inp), "-o", str(tmp_path / "o2"), "--jobs", "2"])
    assert res2.exit_code == 1
    assert digests(tmp_path / "o2") == out1
    res3 = runner.invoke(cli, ["run", str(inp), "-o", str(tmp_path / "o1"), "--jobs", "2"])
    assert res3.exit_code == 1 and digests(tmp_path / "o1") == out1  # re-run identical
    assert digests(inp) == before

    wb = openpyxl.load_workbook(tmp_path / "o1" / "検証結果.xlsx")
    files = list(wb["ファイル"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2]) for r in files[:5]] == [
        ("joso_事務事業評価シート_R3.xlsx", "成功"), ("nishitokyo_施策体系KPI.xlsx", "成功"),
        ("ojiya_進行管理シート_R3.xlsx", "成功"), ("別の表.xlsx", "失敗"), ("壊れた.xlsx", "失敗")]
    assert "Excel ブック" in files[4][3] and files[5][0] == "合計"
    findings = wb["指摘事項"]
    rows = list(findings.iter_rows(min_row=2))
    assert any(r[0].value == "壊れた.xlsx" and r[3].value == "エラー" for r in rows)
    linked = [(r[0].hyperlink, r[1].value, r[2].value) for r in rows if r[1].value and r[2].value]
    first = lambda cells: cells.split(",")[0].split(":")[0]  # noqa: E731
    assert linked and all("inputs" in h.target and h.location.endswith(f"!{first(c)}")
                          and s in h.location for h, s, c in linked)
    # the per-cell 和暦 notices of a sheet are one row listing the cells, after the others
    era = [r for r in rows if r[4].value == "era-normalised"]
    assert len(era) == 1 and "," in era[0][2].value and era[0][5].value.startswith("39 セル")
    nishi = [r[4].value for r in rows if r[0].value == "nishitokyo_施策体系KPI.xlsx"]
    # 3 missing targets, 1 unit mismatch, 1 target below its 現状値 (4,839人 → 4,000人), 和暦
    assert nishi[-1] == "era-normalised" and len(nishi) == 6
    assert files[1][1].startswith("西東京市")  # the layout in Japanese, not `nishitokyo`
    assert "数式一覧" in wb.sheetnames


def test_run_all_good_exits_zero(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    shutil.copy(JOSO, inp / JOSO.name)
    res = CliRunner().invoke(cli, ["run", str(inp), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / f"{JOSO.stem}_報告書.xlsx").exists()


def test_discover_skips_lock_files_and_our_own_outputs(tmp_path):
    from xlsgen.batch import discover

    for name in ["a_R3.xlsx", "a_R3_R4.xlsx", "a_R3_報告書.xlsx", "b.xlsx", "~$b.xlsx", "検証結果.xlsx",
                 ".hidden.xlsx", "notes.txt"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in discover(tmp_path)] == ["a_R3.xlsx", "b.xlsx"]
