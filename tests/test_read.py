"""Readers: facts of the shipped workbooks, drift tolerance, layout detection."""

import json

import pytest
from click.testing import CliRunner
from conftest import JOSO, NISHITOKYO, OJIYA
from workbooks import Drift, write_ojiya

from xlsgen.cli import cli
from xlsgen.layout import read_book


def extract(path, *args):
    result = CliRunner().invoke(cli, ["extract", str(path), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def ojiya():
    return extract(OJIYA)


def sheet(data, no):
    return next(s for s in data["measures"] if s["number"] == no)


def texts(s, key):
    """The texts of one key of a measure (its 【…課】 parts) as department and text."""
    return [{"department": t["department"], "text": t["text"]} for t in s["texts"] if t["key"] == key]


def level(lv):
    return {k: lv[k] for k in ("no", "name", "cell")}


def test_ojiya_edition_and_sheets(ojiya):
    assert ojiya["layout"] == "ojiya" and ojiya["schema_version"] == "2.0" and ojiya["kind"] == "sheet"
    assert ojiya["fiscal_year"] == 2021
    assert [s["sheet"] for s in ojiya["measures"]] == [f"{i:02d}" for i in range(1, 34)]
    assert sum(len(s["kpis"]) for s in ojiya["measures"]) == 72


def test_ojiya_plan_block(ojiya):
    s = sheet(ojiya, "01")
    assert s["strategy_page"] == "P.33"
    assert level(s["basic_goal"]) == {"no": 1, "name": "しごとをつくり、安心して働けるようにする（しごとづくり）", "cell": "C6"}
    assert (s["basic_goal"]["label"], s["basic_goal"]["code"]) == ("基本目標", "1")
    assert s["basic_policy"]["name"] == "人材育成、技術能力向上支援"
    assert s["measure"]["no"] == 1 and s["measure"]["name"] == "キャリア教育の推進"
    assert s["departments"] == ["企画政策課", "商工振興課", "学校教育課"]
    assert s["purpose"].startswith("児童・生徒が小千谷の産業を知り")
    p = s["projects"][2]
    assert p["name"] == "地元就職サポート事業"
    assert p["department"] == "企画政策課"
    assert p["tags"] == ["地方創生交付金"]
    assert p["content"].startswith("市内中学生を対象に")
    assert sheet(ojiya, "33")["measure"]["name"] == "高齢化に適応した屋根雪処理等の推進"
    assert sheet(ojiya, "18")["departments"] == ["観光交流課", "農林課"]


def test_ojiya_kpis(ojiya):
    k = sheet(ojiya, "01")["kpis"]
    assert [x["category"] for x in k] == ["学教", "商工", "商工", "商工"]
    intern = k[1]
    assert intern["name"] == "インターンシップ実施支援件数/年"
    assert intern["unit"] == "件"
    assert intern["baseline"] == {"fiscal_year": 2018, "value": 48, "unit": "件", "text": "48件",
                                  "qualifier": None, "cell": "D17"}
    assert [(a["fiscal_year"], a["value"], a["cell"]) for a in intern["actuals"]] == [
        (2020, 17, "E17"), (2021, None, "F17"), (2022, None, "G17"), (2023, None, "H17")]
    assert intern["target"]["value"] == 50 and intern["target"]["fiscal_year"] == 2024
    assert intern["target_kind"] == "per_year"
    rate = k[2]["actuals"][0]
    assert (rate["value"], rate["unit"]) == (17.8, "%")
    first = k[0]
    assert first["target"]["value"] == 3 and first["target"]["qualifier"] == "以上"
    assert first["target"]["text"] == "3日以上"
    skill = sheet(ojiya, "02")["kpis"][0]
    assert skill["target_kind"] == "running_total"
    assert (skill["cost"]["value"], skill["cost"]["unit"]) == (1083, "千円")
    qual = sheet(ojiya, "29")["kpis"][0]
    assert qual["target_kind"] == "qualitative" and qual["target"]["text"] == "整備完了\n運営開始"
    assert sheet(ojiya, "27")["kpis"][1]["baseline"]["text"] == "4校･13回"
    assert sheet(ojiya, "07")["kpis"][1]["baseline"]["value"] == 4.17


def test_ojiya_check_texts(ojiya):
    s = sheet(ojiya, "01")
    assert [t["department"] for t in texts(s, "check_analysis")] == ["企画政策課", "商工振興課", "学校教育課"]
    assert texts(s, "check_analysis")[2]["text"] == "新型コロナウイルス感染症防止のため、中学校の職場体験実施を中止した。"
    assert texts(s, "check_next")[0]["text"].startswith("アンケートの結果を反映し")
    assert {t["role"] for t in s["texts"]} == {"check", "action"}
    assert s["cells"]["check_analysis"] == "A22" and s["cells"]["check_next"] == "F22"


def _facts(data):
    """What must survive any drift: every value, name, department and text, by sheet №."""
    out = {}
    for s in data["measures"]:
        out[s["number"]] = {
            "page": s["strategy_page"],
            "levels": [(s[k]["no"], s[k]["name"]) for k in ("basic_goal", "basic_policy", "measure")],
            "departments": s["departments"],
            "purpose": s["purpose"],
            "projects": s["projects"],
            "check": (texts(s, "check_analysis"), texts(s, "check_next")),
            "kpis": [
                (k["category"], k["name"], k["unit"], k["target_kind"],
                 [(q["fiscal_year"], q["value"], q["text"] if q["value"] is None else None)
                  for q in [k["baseline"], *k["actuals"], k["target"]]],
                 (k["cost"] or {}).get("value"))
                for k in s["kpis"]
            ],
        }
    return out


@pytest.mark.parametrize("drift", [Drift(), Drift.all()], ids=["plain", "all-drift"])
def test_drifted_copy_reads_the_same_facts(tmp_path, ojiya, drift):
    path = tmp_path / "drifted.xlsx"
    write_ojiya(read_book(OJIYA), path, drift)
    drifted = extract(path)
    assert drifted["fiscal_year"] == ojiya["fiscal_year"]
    assert _facts(drifted) == _facts(ojiya)
    if drift.margin:
        assert sheet(drifted, "01")["kpis"][0]["baseline"]["cell"] != "D16"


def test_drift_total_and_note_rows_are_not_kpis(tmp_path):
    path = tmp_path / "d.xlsx"
    write_ojiya(read_book(OJIYA), path, Drift(total_and_note_rows=True))
    names = [k.name for s in read_book(path).measures for k in s.kpis]
    assert len(names) == 72 and "合計" not in names and not any(n.startswith("※") for n in names)


def test_joso_facts():
    d = extract(JOSO)
    assert d["layout"] == "joso" and d["fiscal_year"] == 2021 and d["kind"] == "project_sheets"
    m = d["measures"][0]  # the 施策 sheet
    assert m["levels"][0]["name"] == "行財政運営の効率化" and m["measure"]["name"] == "連携事業"
    assert [p["name"] for p in m["projects"]] == ["定住自立圏構想推進事業", "東京農業大学との包括連携事業"]
    ind = m["kpis"][0]
    assert (ind["baseline"]["fiscal_year"], ind["baseline"]["value"]) == (2017, 12.3)
    assert (ind["target"]["fiscal_year"], ind["target"]["value"]) == (2022, 17.3)
    assert texts(m, "opinion")[0]["text"].startswith("各連携事業の具体的な形")
    p = d["measures"][1]
    assert p["departments"] == ["常創戦略課"]
    account = texts(p, "budget_account")[0]["text"].split()
    assert account[1] == "2款" and account[4] == "4事業"
    cost, kpi = p["cost"], p["kpis"][0]
    amounts = {q["fiscal_year"]: q for q in cost["lines"][0]["values"]}
    assert cost["lines"][0]["key"] == "project_cost" and cost["unit"] == "千円"
    years = [(fy, cost["year_kinds"][str(fy)], amounts[fy]["value"], amounts[fy]["unit"])
             for fy in sorted(amounts, reverse=True) if cost["year_kinds"][str(fy)] != "計画"]
    assert years == [(2021, "予算額", 100, "千円"), (2020, "決算額", 20, "千円"), (2019, "決算額", 6, "千円")]
    results = {q["fiscal_year"]: q for q in kpi["actuals"]}
    assert results[2020]["text"] == "未締結 -"
    evaluation = next(t for t in p["texts"] if t["key"] == "check_evaluation")
    assert evaluation["fiscal_year"] == 2020 and evaluation["text"].startswith("前年度よりも連携事業案を増やす")
    assert kpi["name"].startswith("定住自立圏形成協定の締結") and kpi["notes"].startswith("※まずは")
    assert cost["year_kinds"]["2022"] == "計画" and amounts[2022]["cell"] == "C29"
    assert [(q["fiscal_year"], q["text"]) for q in kpi["targets"] if q["fiscal_year"] > 2022] == \
        [(2023, "-"), (2024, "-")]
    q = d["measures"][2]
    targets = {t["fiscal_year"]: t for t in q["kpis"][0]["targets"]}
    assert targets[2021]["value"] == 30 and targets[2021]["unit"] == "%"
    amount = {a["fiscal_year"]: a for a in q["cost"]["lines"][0]["values"]}[2020]
    assert amount["value"] is None and amount["text"] == "—" and amount["none"] is True


def test_nishitokyo_all_forty_targets():
    d = extract(NISHITOKYO)
    kpis = [k for m in d["measures"] for k in m["kpis"]]
    targets = [k["target_detail"] for k in kpis if k["target_detail"]["text"]]
    assert len(targets) == 40
    by_text = {t["text"]: t for t in targets}
    cases = {
        "延べ900人（H31～H35）": (900, "人", "cumulative", 2019, 2023),
        "1,000人(H31〜H35毎年)": (1000, "人", "per_year", 2019, 2023),
        "100件/年(H31〜H35)": (100, "件", "per_year", 2019, 2023),
        "3件(H31〜H35の合計)": (3, "件", "cumulative", 2019, 2023),
        "30人(H35)": (30, "人", "at_year", None, 2023),
        "延べ400(H35時点)": (400, None, "at_year", None, 2023),
        "300商品(〜H35)": (300, "商品", "at_year", None, 2023),
        "-": (None, None, "none", None, None),
        "5件/年(H32〜H35)": (5, "件", "per_year", 2020, 2023),
    }
    for text, expected in cases.items():
        t = by_text[text]
        assert (t["value"], t["unit"], t["kind"], t["period_start"], t["period_end"]) == expected, text
    assert all(t["kind"] in {"cumulative", "per_year", "at_year", "none"} for t in targets)
    marche = next(k for k in kpis if k["row"] == 3)
    assert [(q["fiscal_year"], q["value"]) for q in marche["actuals"]] == [
        (2014, 700), (2015, 600), (2016, 1050), (2017, 700)]
    assert (marche["baseline"]["value"], marche["baseline_year"]) == (700, 2017)
    assert any(f["code"] == "era-normalised" for f in d["findings"])
    assert d["plan_years"] == [2019, 2020, 2021, 2022, 2023] and d["city"] == "西東京市"


def test_layout_option_overrides_detection():
    result = CliRunner().invoke(cli, ["extract", str(JOSO), "--layout", "nishitokyo"])
    assert result.exit_code == 1  # no 施策体系 rows in a 常総 workbook: an error, not a crash
    assert "Traceback" not in result.output
