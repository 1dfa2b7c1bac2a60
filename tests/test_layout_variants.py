"""Layout files written from docs/layouts.md alone (tests/layouts/*.yaml) for three further
kinds of workbook: rows whose 区分 says 目標値 / 実績値, a year merged over 目標値 / 実績値 /
達成率 sub-columns, one sheet per KPI. Their facts are pinned, and every workbook of the
suite is refused by every layout that is not its own."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import JOSO, NISHITOKYO, OJIYA
from layout_workbooks import (
    write_kpi_blocks,
    write_kpi_list,
    write_kpi_per_sheet,
    write_kpis_under_measures,
    write_rows_by_kind,
    write_year_subcolumns,
)

from xlsgen.cli import cli
from xlsgen.layout import builtin_dir, load_spec

HERE = Path(__file__).parent / "layouts"


def extract(path, spec):
    r = CliRunner().invoke(cli, ["extract", str(path), "--layout-file", str(spec)])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def facts(qs):
    return [(q["fiscal_year"], q["value"], q["cell"]) for q in qs]


def texts(s, key):
    """The texts of one key of a measure (its 【…課】 parts) as department and text."""
    return [{"department": t["department"], "text": t["text"]} for t in s["texts"] if t["key"] == key]


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("variants")
    made = {"rows_by_kind": write_rows_by_kind, "year_subcolumns": write_year_subcolumns,
            "kpi_per_sheet": write_kpi_per_sheet, "kpi_blocks": write_kpi_blocks,
            "kpi_list": write_kpi_list, "kpis_under_measures": write_kpis_under_measures}
    out = {"ojiya": OJIYA, "joso": JOSO, "nishitokyo": NISHITOKYO}
    for name, write in made.items():
        write(d / f"{name}.xlsx")
        out[name] = d / f"{name}.xlsx"
    return out


def test_rows_by_kind(books):
    d = extract(books["rows_by_kind"], HERE / "rows_by_kind.yaml")
    s = d["measures"][0]
    assert s["measure"]["name"] == "商店街活性化事業"
    assert texts(s, "check_analysis") == [{"department": "商工課", "text": "空き店舗は減った。"}]
    shops, visitors = s["kpis"]  # the 評価・課題 heading ends the table
    assert len(s["kpis"]) == 2
    assert facts(shops["targets"]) == [(2020, 20, "C5"), (2021, 18, "D5"), (2022, 16, "E5")]
    assert facts(shops["actuals"]) == [(2020, 22, "C6"), (2021, 17, "D6"), (2022, None, "E6")]
    assert (shops["target"]["value"], shops["target"]["cell"], shops["target_year"]) == (10, "F5", 2024)
    assert visitors["actuals"][1]["status"] == "集計中" and visitors["actuals"][1]["value"] is None
    assert d["fiscal_year"] == 2022


def test_year_subcolumns(books):
    d = extract(books["year_subcolumns"], HERE / "year_subcolumns.yaml")
    rate, people = d["measures"][0]["kpis"]
    assert (rate["name"], rate["unit"]) == ("健診受診率", "%")
    assert facts(rate["targets"]) == [(2020, 50, "C5"), (2021, 55, "F5")]
    assert facts(rate["actuals"]) == [(2020, 45, "D5"), (2021, 56, "G5")]
    assert facts(rate["achievements"]) == [(2020, 90, "E5"), (2021, 101.8, "H5")]
    assert (rate["target"]["value"], rate["target_year"]) == (65, 2024)
    assert people["actuals"][1]["text"] == "－" and people["unit"] == "人"
    # the city's 達成率 agree with actual ÷ target of the year
    assert not [f for f in d["findings"] if f["code"] == "achievement-differs"]


def test_year_subcolumns_wrong_rate_is_flagged(books, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(books["year_subcolumns"])
    wb.active["E5"] = 0.8  # 45 ÷ 50 is 90%
    wb.save(tmp_path / "w.xlsx")
    d = extract(tmp_path / "w.xlsx", HERE / "year_subcolumns.yaml")
    assert [f["cell"] for f in d["findings"] if f["code"] == "achievement-differs"] == ["E5"]


def test_kpi_per_sheet(books):
    d = extract(books["kpi_per_sheet"], HERE / "kpi_per_sheet.yaml")
    assert [s["sheet"] for s in d["measures"]] == ["KPI1", "KPI2"]
    k = d["measures"][1]["kpis"][0]
    assert (k["name"], k["unit"], k["extra"]) == ("指標KPI2", "人", {"progress": "やや遅れ"})
    assert (k["baseline"]["value"], k["baseline_year"], k["baseline"]["cell"]) == (50, 2014, "B6")
    assert facts(k["actuals"]) == [(2015, 48, "C6"), (2016, 55, "D6"), (2017, 60, "E6")]
    assert (k["target"]["value"], k["target_year"]) == (80, 2020)
    assert texts(d["measures"][0], "check_next") == [{"department": "産業振興課", "text": "支援を拡充する。"}]


def test_kpis_under_measures(books):
    d = extract(books["kpis_under_measures"], HERE / "kpis_under_measures.yaml")
    assert [(s["measure"]["no"], s["measure"]["name"], [k["name"] for k in s["kpis"]])
            for s in d["measures"]] == [(1, "観光の振興", ["観光客数", "宿泊者数"]),
                                      (2, "農業の振興", ["新規就農者数"])]
    tourists, stays = d["measures"][0]["kpis"]
    assert (tourists["baseline"]["value"], tourists["baseline"]["fiscal_year"]) == (520, 2018)  # 520（H30）
    assert tourists["unit"] == "千人" and tourists["extra"] == {"issue": "感染症の影響で減少した。"}
    assert (stays["baseline"]["value"], stays["baseline"]["qualifier"]) == (41000, "約")
    assert stays["actuals"][1]["status"] == "調査中" and stays["extra"] == {"issue": "宿泊施設が不足している。"}
    farm = d["measures"][1]["kpis"][0]["actuals"][1]
    assert farm["none"] is True and farm["text"] == "該当なし" and "status" not in farm


def test_every_workbook_is_refused_by_every_other_layout(books):
    specs = [*builtin_dir().glob("*.yaml"), *HERE.glob("*.yaml")]
    for book_name, path in books.items():
        for spec in specs:
            own = {"progress_generic": "ojiya"}.get(load_spec(spec).name, load_spec(spec).name)
            if own == book_name:
                continue
            r = CliRunner().invoke(cli, ["extract", str(path), "--layout-file", str(spec)])
            assert r.exit_code == 1, (book_name, spec.name, r.output[:300])
            assert "Traceback" not in r.output


FACT_FIELDS = ("number", "title", "strategy_page", "basic_goal", "basic_policy", "measure",
               "departments", "purpose", "projects", "texts")
Q = ("fiscal_year", "value", "unit", "text", "cell")


def _facts(d):
    out = []
    for s in d["measures"]:
        out.append((s["sheet"], *(json.dumps(s[k], ensure_ascii=False) for k in FACT_FIELDS)))
        for k in s["kpis"]:
            qs = [k["baseline"], *k["actuals"], k["target"], k["cost"] or {}]
            out.append((k["name"], k["category"], k["unit"], k["target_kind"], k["direction"], k["row"],
                        *(tuple(q.get(x) for x in Q) for q in qs)))
    return out


@pytest.mark.parametrize("drift", [None, "all"])
def test_generic_engine_reads_the_progress_sheets_like_the_builtin(tmp_path, drift):
    """A spec written from the docs alone (no parser) reads the 小千谷 workbook, and its
    every drift, to the same facts as the built-in layout."""
    from workbooks import Drift, write_ojiya

    from xlsgen.layout import read_book

    path = OJIYA
    if drift:
        path = tmp_path / "drift.xlsx"
        write_ojiya(read_book(OJIYA), path, Drift.all())
    builtin = CliRunner().invoke(cli, ["extract", str(path)])
    generic = extract(path, HERE / "progress_generic.yaml")
    assert generic["layout"] == "progress_generic"
    assert _facts(generic) == _facts(json.loads(builtin.output))
    assert len(_facts(generic)) == 33 + 72
