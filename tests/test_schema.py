"""Every extract, of every layout and every workbook the suite has, is one shape: the JSON
Schema shipped in xlsgen/schema/book.schema.json (schema_version 2.0)."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import jsonschema
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
from workbooks import Drift, write_ojiya

from xlsgen.cli import cli
from xlsgen.layout import read_book
from xlsgen.resources import schema_path

LAYOUTS = Path(__file__).parent / "layouts"
MADE = {  # test workbook → (writer, layout file or None for a shipped layout found by detection)
    "kpi_blocks": (write_kpi_blocks, None), "kpi_list": (write_kpi_list, None),
    "rows_by_kind": (write_rows_by_kind, "rows_by_kind"),
    "year_subcolumns": (write_year_subcolumns, "year_subcolumns"),
    "kpi_per_sheet": (write_kpi_per_sheet, "kpi_per_sheet"),
    "kpis_under_measures": (write_kpis_under_measures, "kpis_under_measures"),
}
DRIFTS = ["plain", *(f.name for f in fields(Drift)), "all"]


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _valid(validator, data) -> None:
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@pytest.mark.parametrize("path", [OJIYA, JOSO, NISHITOKYO], ids=["ojiya", "joso", "nishitokyo"])
def test_shipped_workbooks_extract_to_the_schema(validator, path):
    result = CliRunner().invoke(cli, ["extract", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    _valid(validator, data)
    assert data["schema_version"] == "2.0" and data["measures"]


@pytest.mark.parametrize("name", sorted(MADE))
def test_test_workbooks_extract_to_the_schema(validator, tmp_path, name):
    write, layout = MADE[name]
    write(tmp_path / f"{name}.xlsx")
    book = read_book(tmp_path / f"{name}.xlsx",
                     layout_file=str(LAYOUTS / f"{layout}.yaml") if layout else None)
    _valid(validator, book.to_dict())


@pytest.mark.parametrize("drift", DRIFTS)
def test_drifted_workbooks_extract_to_the_schema(validator, tmp_path, drift):
    d = Drift.all() if drift == "all" else Drift(**({} if drift == "plain" else {drift: True}))
    write_ojiya(read_book(OJIYA), tmp_path / "d.xlsx", d)
    _valid(validator, read_book(tmp_path / "d.xlsx").to_dict())


def test_the_schema_refuses_other_shapes(validator):
    """The check is real: the old per-layout shapes and a wrong value do not pass."""
    good = read_book(JOSO).to_dict()
    _valid(validator, good)
    for broken in ({**good, "sheets": []}, {k: v for k, v in good.items() if k != "measures"},
                   {**good, "schema_version": "1.0"}):
        assert list(validator.iter_errors(broken))
    bad_kpi = json.loads(json.dumps(good))
    bad_kpi["measures"][1]["kpis"][0]["actuals"][0]["value"] = "12"
    assert list(validator.iter_errors(bad_kpi))
    bad_text = json.loads(json.dumps(good))
    bad_text["measures"][0]["texts"][0]["role"] = "summary"
    assert list(validator.iter_errors(bad_text))
