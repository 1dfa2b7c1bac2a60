"""Several measures stacked on one sheet (`stacked:` in a `record: sheet` layout): a 実施計画
sheet per 分野 whose project blocks each carry their own fields, KPI table (見込 and per-year
targets) and cost table; the heading above the first block and the note below the last are
shared by the sheet's measures. And the roll-forward of a rolling window of year columns
(`rollforward: window: true`): R5–R7 → R6–R8.
"""

from __future__ import annotations

import json

import jsonschema
import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from xlsgen.cli import cli
from xlsgen.layout import read_book
from xlsgen.layout.spec import LayoutSpecError, load_spec
from xlsgen.resources import schema_path

# one block: (number, name, department, level, [(kpi, unit, base, estimate, t1, t2, t3)],
#             [(line label, budget, y1, y2, y3)])
BLOCKS = {
    "分野１": [
        ("A-01", "見守り事業", "福祉課", "1-1　見守りの充実",
         [("訪問件数", "件", 120, 130, 140, 150, 160), ("登録者数", "人", 40, 45, 50, 55, 60)],
         [("事業費", 1000, 1200, 1300, 1400), ("うち国・県支出金", 500, 600, 650, 700),
          ("うち一般財源", 500, 600, 650, 700)]),
        ("A-02", "配食事業", "高齢課", "1-2　食の支援",
         [("配食数", "食", 900, 950, 1000, 1050, 1100)],
         [("事業費", 2000, 2100, 2200, 2300), ("うち国・県支出金", 0, 0, 0, 0),
          ("うち一般財源", 2000, 2100, 2200, 2300)]),
    ],
    "分野２": [
        ("B-01", "案内板事業", "観光課", "2-1　観光の振興",
         [("案内板の数", "基", 10, 12, 14, 16, 18), ("来訪者数", "人", 5000, 5200, 5400, 5600, 5800)],
         [("事業費", 300, 400, 500, 600), ("うち国・県支出金", 100, 200, 250, 300),
          ("うち一般財源", 200, 200, 250, 300)]),
        ("B-02", "清掃事業", "環境課", "2-2　美化の推進",
         [("清掃回数", "回", 24, 24, 26, 26, 28)],
         [("事業費", 800, 800, 900, 900), ("うち国・県支出金", 0, 0, 0, 0),
          ("うち一般財源", 800, 800, 900, 900)]),
    ],
}

LAYOUT = {
    "name": "stacked_plan",
    "record": "sheet",
    "detect": [{"id": "no", "labels": ["事業番号"]}, {"id": "kpi", "labels": ["指標名"]}],
    "stacked": {"start": ["事業番号"], "end": ["re:^※"]},
    "fields": {
        "title": {"label": ["re:実施計画$"], "at": "same"},
        "fiscal_year": {"label": ["re:実施計画$"], "at": "same", "type": "year"},
        "basic_goal": {"label": ["re:^分野"], "at": "same", "type": "level"},
        "sheet_note": {"label": ["re:^※"], "at": "same", "holds": "note"},
        "number": {"label": ["事業番号"]},
        "measure": {"label": ["事業名"], "required": True},
        "departments": {"label": ["担当課"]},
        "basic_policy": {"label": ["施策"], "type": "level"},
    },
    "table": {"header": ["指標名"], "header_rows": 1, "end": ["事業費"],
              "columns": {"name": {"label": ["指標名"]}, "unit": {"label": ["単位"]}}},
    "tables": {"cost": {"holds": "cost", "header": ["区分"], "header_rows": 1,
                        "unit": {"label": ["re:^\\(単位"]}, "kinds": ["当初予算", "計画"],
                        "lines": {"project_cost": ["re:^事業費$"], "grants": ["うち国・県支出金"],
                                  "general": ["うち一般財源"]}}},
    "rollforward": {"supported": True},
}


def write_book(path):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet_no, (sheet, blocks) in enumerate(BLOCKS.items(), start=1):
        ws = wb.create_sheet(f"シート{sheet_no}")
        ws["A1"] = "令和５年度～令和７年度　実施計画"
        ws["A2"], ws["H2"] = f"{sheet}　{'暮らし' if sheet_no == 1 else 'にぎわい'}", "（単位：千円）"
        r = 4
        for number, name, dept, level, kpis, cost in blocks:
            ws.cell(r, 1, "事業番号"), ws.cell(r, 2, number), ws.cell(r, 3, "事業名"), ws.cell(r, 4, name)
            ws.cell(r + 1, 1, "担当課"), ws.cell(r + 1, 2, dept), ws.cell(r + 1, 3, "施策"), ws.cell(r + 1, 4, level)
            r += 3
            ws.cell(r, 1, "成果指標")
            ws.merge_cells(start_row=r, start_column=1, end_row=r + len(kpis), end_column=1)
            for c, head in enumerate(["指標名", "単位", "現状値（R3）", "R4見込", "R5目標", "R6目標", "R7目標"], 2):
                ws.cell(r, c, head)
            for i, kpi in enumerate(kpis, start=1):
                for c, v in enumerate(kpi, 2):
                    ws.cell(r + i, c, v)
            r += len(kpis) + 1
            ws.cell(r, 1, "事業費")
            ws.merge_cells(start_row=r, start_column=1, end_row=r + len(cost), end_column=1)
            for c, head in enumerate(["区分", "令和４年度（当初予算）", "令和５年度", "令和６年度", "令和７年度",
                                      "財源の内容"], 2):
                ws.cell(r, c, head)
            for i, (label, *amounts) in enumerate(cost, start=1):
                ws.cell(r + i, 2, label)
                for c, v in enumerate(amounts, 3):
                    ws.cell(r + i, c, v)
            r += len(cost) + 3
        ws.cell(r, 1, "※令和４年度は当初予算額")
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    d = tmp_path_factory.mktemp("stacked")
    (d / "stacked.yaml").write_text(yaml.safe_dump(LAYOUT, allow_unicode=True), "utf-8")
    return write_book(d / "plan.xlsx"), d / "stacked.yaml"


def test_each_block_is_a_measure_with_its_own_fields_and_the_sheets_shared_ones(book):
    path, layout = book
    b = read_book(path, layout_file=str(layout))
    names = [(m.sheet, m.measure.name) for m in b.measures]
    assert names == [(f"シート{i}", blk[1]) for i, blocks in enumerate(BLOCKS.values(), 1) for blk in blocks]
    for m, blk in zip(b.measures, [blk for blocks in BLOCKS.values() for blk in blocks]):
        assert m.number == blk[0] and m.departments == [blk[2]]
        assert (m.basic_policy.code, m.basic_policy.name) == tuple(blk[3].split("　"))
        # shared: the heading above the first block, the note below the last
        assert m.basic_goal.code is not None and m.basic_goal.cell == "A2"
        assert any(t.text.startswith("※令和４年度") for t in m.texts)
    assert b.findings == []


def test_each_blocks_kpis_with_estimates_and_per_year_targets(book):
    path, layout = book
    b = read_book(path, layout_file=str(layout))
    for m, blk in zip(b.measures, [blk for blocks in BLOCKS.values() for blk in blocks]):
        assert [k.name for k in m.kpis] == [k[0] for k in blk[4]]
        for k, want in zip(m.kpis, blk[4]):
            assert (k.unit, k.baseline.value, k.baseline_year) == (want[1], want[2], 2021)
            assert [(q.fiscal_year, q.value) for q in k.estimates] == [(2022, want[3])]
            assert [(q.fiscal_year, q.value) for q in k.targets] == [(2023, want[4]), (2024, want[5]),
                                                                     (2025, want[6])]
            assert (k.target.value, k.target_year) == (want[6], 2025)
            assert not k.actuals or all(q.value is None for q in k.actuals)


def test_each_blocks_cost_table_and_the_unit_above_the_first_block(book):
    path, layout = book
    b = read_book(path, layout_file=str(layout))
    rows = []
    for m, blk in zip(b.measures, [blk for blocks in BLOCKS.values() for blk in blocks]):
        cost = m.cost
        assert cost.years == [2022, 2023, 2024, 2025]
        assert (cost.unit, cost.cells["unit"].split("!")[-1]) == ("千円", "H2")  # shared heading
        for line, (_label, *amounts) in zip(cost.lines, blk[5]):
            assert [q.value for q in line.values] == amounts
        assert m.tables["cost"]["year_columns"] == {"2022": "C", "2023": "D", "2024": "E", "2025": "F"}
        rows.append((m.sheet, m.tables["cost"]["first_row"], m.tables["kpi"]["first_row"]))
    assert len(set(rows)) == len(rows)  # each block's own tables, not the sheet's first


def test_extract_validate_and_build(book, tmp_path):
    path, layout = book
    r = CliRunner().invoke(cli, ["extract", str(path), "--layout-file", str(layout)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
    assert not errors, [e.message for e in errors[:3]]
    assert len(data["measures"]) == 4
    r = CliRunner().invoke(cli, ["validate", str(path), "--layout-file", str(layout), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert [f for file in json.loads(r.output)["files"] for f in file["findings"]] == []
    out = tmp_path / "report.xlsx"
    r = CliRunner().invoke(cli, ["build", str(path), "--layout-file", str(layout), "-o", str(out)])
    assert r.exit_code == 0, r.output
    names = openpyxl.load_workbook(out).sheetnames
    assert all(any(blk[1] in n for n in names) for blocks in BLOCKS.values() for blk in blocks)


@pytest.mark.parametrize("change, message", [
    ({"record": "row", "group_by": "x"}, "stacked は record: sheet"),
    ({"stacked": {"end": ["※"]}}, "stacked には start"),
])
def test_stacked_keys_are_checked(tmp_path, change, message):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump({**LAYOUT, **change}, allow_unicode=True), "utf-8")
    with pytest.raises(LayoutSpecError, match=message):
        load_spec(f)


# --- roll-forward of a rolling window (rollforward: window: true) ---------------------------

def _window_layout(d):
    f = d / "window.yaml"
    f.write_text(yaml.safe_dump({**LAYOUT, "rollforward": {"supported": True, "window": True}},
                                allow_unicode=True), "utf-8")
    return f


def test_a_rolling_window_moves_every_year_on_by_one(book, tmp_path):
    """R5–R7 → R6–R8: headers name the next years (the title's too, full-width digits kept),
    each value moves to the column that now holds its year (R5目標 → the R5見込 column, shaded
    to review; never a plan figure into the 現状値 column), the newest year is an empty input
    column, values no column holds go to 過年度実績; the rolled book reads as the R6 edition."""
    from xlsgen.model import PAST_YEARS_SHEET
    from xlsgen.render.edition import INPUT_FILL_RGB
    from xlsgen.rollforward import rollforward_file

    path, _ = book
    layout = _window_layout(tmp_path)
    old = read_book(path, layout_file=str(layout))
    out = tmp_path / "plan_R6.xlsx"
    rollforward_file(path, "R6", out, layout_file=str(layout))
    wb = openpyxl.load_workbook(out)
    ws = wb["シート1"]
    assert ws["A1"].value == "令和６年度～令和８年度　実施計画"
    new = read_book(out, layout_file=str(layout))
    assert new.fiscal_year == old.fiscal_year + 1 == 2024
    for m0, m1 in zip(old.measures, new.measures):
        assert m1.measure.name == m0.measure.name
        for k0, k1 in zip(m0.kpis, m1.kpis):
            assert k1.baseline_year == 2022 and k1.baseline.value is None  # 現状値（R4）: to be typed
            assert shaded_cell(wb, m1.sheet, k1.baseline.cell, INPUT_FILL_RGB)
            assert [(q.fiscal_year, q.value) for q in k1.estimates] == [(2023, k0.targets[0].value)]
            assert shaded_cell(wb, m1.sheet, k1.estimates[0].cell, INPUT_FILL_RGB)  # to review
            assert [(q.fiscal_year, q.value) for q in k1.targets] == \
                [(2024, k0.targets[1].value), (2025, k0.targets[2].value), (2026, None)]
            assert not shaded_cell(wb, m1.sheet, k1.targets[0].cell, INPUT_FILL_RGB)
            assert shaded_cell(wb, m1.sheet, k1.targets[2].cell, INPUT_FILL_RGB)
        assert m1.cost.years == [2023, 2024, 2025, 2026]
        for l0, l1 in zip(m0.cost.lines, m1.cost.lines):
            # R5計画 → the R5 当初予算 column (to review), R6 R7 move, R8 open
            assert [q.value for q in l1.values] == [q.value for q in l0.values[1:]] + [None]
    past = [[c.value for c in row] for row in wb[PAST_YEARS_SHEET].iter_rows(min_row=2)]
    k0 = old.measures[0].kpis[0]
    archived = {(p[1], p[7]): p[6] for p in past}
    assert archived[("シート1", k0.baseline.cell)] == k0.baseline.value
    assert archived[("シート1", k0.estimates[0].cell)] == k0.estimates[0].value
    line = old.measures[0].cost.lines[0]
    assert archived[("シート1", line.values[0].cell)] == line.values[0].value  # R4 当初予算


def shaded_cell(wb, sheet, cell, rgb) -> bool:
    return wb[sheet][cell].fill.fgColor.rgb == rgb


def test_without_window_a_missing_year_column_names_the_key(book, tmp_path):
    from xlsgen.errors import XlsgenError
    from xlsgen.rollforward import rollforward_file

    path, layout = book
    with pytest.raises(XlsgenError, match="window: true"):
        rollforward_file(path, "R6", tmp_path / "x.xlsx", layout_file=str(layout))


def test_a_plan_read_as_blocks_is_refused_with_the_shape_that_rolls(book, tmp_path):
    """record: block reads each block's first KPI (no actual cell anywhere): the refusal names
    the layout that rolls (stacked + window), not a years-as-rows table."""
    from xlsgen.errors import XlsgenError
    from xlsgen.rollforward import rollforward_file

    path, _ = book
    spec = {"name": "blocks", "record": "block", "detect": LAYOUT["detect"],
            "fields": {k: LAYOUT["fields"][k] for k in ("title", "fiscal_year")},
            "block": {"start": ["事業番号"], "end": ["re:^※"],
                      "fields": {"name": {"label": ["指標名"], "at": "below"},
                                 "baseline": {"label": ["re:^現状値"], "at": "below", "type": "quantity"},
                                 "target": {"label": ["R7目標"], "at": "below", "type": "quantity"}}},
            "table": {"header": ["指標名"], "years": "columns"},
            "rollforward": {"supported": True}}
    f = tmp_path / "blocks.yaml"
    f.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    assert read_book(path, layout_file=str(f)).measures[0].kpis
    with pytest.raises(XlsgenError, match="stacked: で読み") as e:
        rollforward_file(path, "R6", tmp_path / "x.xlsx", layout_file=str(f))
    assert "年度が行の表" not in str(e.value)


@pytest.mark.parametrize("text, want", [
    ("令和５年度～令和７年度　実施計画", "令和６年度～令和８年度　実施計画"),  # full-width kept
    ("計画期間計\n（R5～R7）", "計画期間計\n（R6～R8）"),
    ("平成31年度\n（令和元年度）", "令和2年度"),  # one year said twice is said once
    ("平成30年度", "令和元年度"),
    ("現状値（R3）", "現状値（R4）"),
    ("R4見込", "R5見込"),
])
def test_window_headers_name_the_next_year_as_written(text, want):
    from xlsgen.kinds.window import shift_years

    assert shift_years(text) == want
