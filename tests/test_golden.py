"""Golden files, as XlsxWriter tests itself: each output kind written from the shipped inputs
and templates is compared, part by part, with a reviewed reference in tests/golden/ after the
volatile XML is stripped (docProps dates; calcChain) and `.rels` relationships are sorted.
A difference prints a readable diff of the part.

Regenerate (then review the change, e.g. with the PNGs of docs/):

    XLSGEN_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import INPUTS, ROOT
from xlsgen.audit import audit_workbook
from xlsgen.cli import cli
from xlsgen.render.audit_report import write_audit_report

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("XLSGEN_UPDATE_GOLDEN") == "1"
SKIP_PARTS = {"xl/calcChain.xml"}
VOLATILE = [re.compile(r"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")]
KINDS = ["report_ojiya", "report_joso", "report_nishitokyo", "findings", "audit", "simulation",
         "survey"]


def normalise(name: str, data: bytes) -> list[str]:
    """A part as lines to compare: one XML tag per line, volatile values removed, the
    relationships of a .rels part sorted."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [f"<binary {len(data)} bytes {hash(data)}>"]
    for rx in VOLATILE:
        text = rx.sub("", text)
    lines = text.replace("><", ">\n<").splitlines()
    if name.endswith(".rels"):
        rels = sorted(x for x in lines if x.startswith("<Relationship "))
        lines = [x for x in lines if not x.startswith("<Relationship ")] + rels
    return lines


def parts(path: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(path) as z:
        return {n: normalise(n, z.read(n)) for n in sorted(z.namelist()) if n not in SKIP_PARTS}


def differences(got: Path, want: Path, limit: int = 60) -> str:
    """A readable account of how `got` differs from `want` ('' when they are the same)."""
    g, w = parts(got), parts(want)
    out = []
    for name in sorted(set(g) | set(w)):
        if name not in g or name not in w:
            out.append(f"part {name}: only in {'the output' if name in g else 'the golden file'}")
            continue
        if g[name] != w[name]:
            diff = list(difflib.unified_diff(w[name], g[name], f"golden/{name}", f"output/{name}",
                                             lineterm="", n=1))
            out.append("\n".join(diff[:limit] + ([f"... {len(diff) - limit} more lines"]
                                                 if len(diff) > limit else [])))
    return "\n".join(out)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Every output kind, written from copies of the inputs (so relative links are stable)."""
    root = tmp_path_factory.mktemp("golden")
    shutil.copytree(INPUTS, root / "inputs")
    runner = CliRunner()
    res = runner.invoke(cli, ["run", str(root / "inputs"), "-o", str(root / "out"), "--jobs", "1"])
    assert res.exit_code == 0, res.output
    out = root / "out"
    books = {f"report_{c}": next(out.glob(f"{c}_*_報告書.xlsx")) for c in ("ojiya", "joso", "nishitokyo")}
    books["findings"] = out / "検証結果.xlsx"
    books["audit"] = out / "audit.xlsx"
    write_audit_report(audit_workbook(books["report_ojiya"]), books["audit"], when=date(2021, 4, 1))
    books["simulation"] = out / "simulation.xlsx"
    sims = sorted(str(p) for p in (ROOT / "xlsgen" / "templates" / "simulations").glob("mitaka_model_*.yaml"))
    runner.invoke(cli, ["simulate", *sims, "-o", str(books["simulation"])])
    books["survey"] = out / "survey.xlsx"
    runner.invoke(cli, ["simulate", str(ROOT / "xlsgen" / "templates" / "reports" / "setagaya_forum_survey.yaml"),
                        "-o", str(books["survey"])])
    return books


@pytest.mark.parametrize("kind", KINDS)
def test_matches_golden(outputs, kind):
    got, want = outputs[kind], GOLDEN / f"{kind}.xlsx"
    assert got.exists(), f"{kind} was not written"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        shutil.copyfile(got, want)
        return
    assert want.exists(), f"no golden file {want.name}: XLSGEN_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py"
    diff = differences(got, want)
    assert not diff, (f"{kind} differs from tests/golden/{want.name} (review, then regenerate with "
                      f"XLSGEN_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py):\n{diff}")


def test_comparison_sees_a_change_and_ignores_volatile_parts(outputs, tmp_path):
    """The comparison itself: dates and calcChain do not count, a changed cell does."""
    src = outputs["survey"]
    assert differences(src, src) == ""
    same, changed = tmp_path / "same.xlsx", tmp_path / "changed.xlsx"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(same, "w") as a, zipfile.ZipFile(changed, "w") as b:
        for n in z.namelist():
            data = z.read(n)
            if n == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>1999-01-01T00:00:00Z", data)
            a.writestr(n, data)
            if n == "xl/sharedStrings.xml":
                data = data.replace("集計".encode(), "修正".encode(), 1)
            b.writestr(n, data)
        a.writestr("xl/calcChain.xml", b"<calcChain/>")
    assert differences(same, src) == ""
    diff = differences(changed, src)
    assert "xl/sharedStrings.xml" in diff and "修正" in diff
