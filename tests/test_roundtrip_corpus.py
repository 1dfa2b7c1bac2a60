"""Round trips on the city corpus of issue 17 (seven kinds xlsgen had not seen: project
sheets with cost blocks, one KPI per sheet, a measure over two sheets, a KPI list with a
担当課 column, KPI blocks with qualitative KPIs, formulas cached as "", another city's
project sheet), each read with its layout file: every form is filled, collected, and every
answer is read back through the model at the cell and department part it was asked for;
only those cells change."""

from __future__ import annotations

import pytest

from tests.city_corpus import LAYOUTS_DIR, write_corpus
from tests.fidelity_corpus import compare
from tests.roundtrip_forms import fill, inputs, jst
from xlsgen import app
from xlsgen.layout import read_book
from xlsgen.package import Package
from xlsgen.roundtrip.assignment import AMOUNT, CHOICE, NUMBER
from xlsgen.roundtrip.inputs import facts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    return d, write_corpus(d)


def _answer(a, n: int):
    """An answer of the right type; the same for every department a shared input asks
    (different answers are a conflict, tested in test_roundtrip.py)."""
    if a.value_type == CHOICE:
        return a.choices[-1]
    if a.value_type == NUMBER:
        return 1200 + n if a.group == AMOUNT else 7 + n
    return f"{a.departments[0]}の回答{n}"[: a.max_length or 200]


def _n(key: str) -> int:
    import zlib

    return zlib.crc32(key.encode()) % 1000


@pytest.mark.parametrize("book", ["a_事務事業評価シート_R4.xlsx", "b_KPI検証シート_R3.xlsx",
                                  "c_施策評価シート_R3.xlsx", "d_KPI一覧_R4.xlsx", "e_施策進捗評価シート_R4.xlsx",
                                  "f_施策進捗状況調書_R4.xlsx", "g_事務事業マネジメントシート_R4.xlsx"])
def test_corpus_round_trip(corpus, book, tmp_path):
    d, all_facts = corpus
    layout = str(LAYOUTS_DIR / f"{all_facts[book]['layout']}.yaml")
    src = d / book
    dist = app.distribute_book(src, tmp_path / "照会", layout_file=layout)
    assert dist.forms and sum(f.inputs for f in dist.forms) >= 3
    model = read_book(src, layout_file=layout)
    named = {x for m in model.measures for x in m.departments}
    assert all(f.owner in named for f in dist.forms if f.kind == "department")
    filled, answers = [], {}
    for f in dist.forms:
        mine = {k: _answer(i.assignment, _n(k)) for k, i in inputs(f.path).items()}
        answers.update(mine)
        filled.append(fill(f.path, tmp_path / "回答" / f.path.name, mine, jst(20)))
    new = tmp_path / f"回収_{book}"
    result = app.collect_forms(src, filled, new, layout_file=layout)
    assert not result.rejected and not [p for p in result.problems if p.severity == "error"], \
        [p.message for p in result.problems if p.severity == "error"][:3]
    cells: dict[str, set[str]] = {}
    for a in result.applied:
        cells.setdefault(a.sheet, set()).add(a.cell)
    assert compare(src, new, cells, Package(src).sheets) == []
    got = {}
    for fact in facts(read_book(new, layout_file=layout)):
        got.setdefault((fact.sheet, fact.cell, fact.department), fact.value)
        got.setdefault((fact.sheet, fact.cell, None), fact.value)
    written = {(a.sheet, a.cell, a.segment) for a in result.applied}
    assert written, "nothing was applied"
    for key, value in answers.items():
        sheet, _, rest = key.partition("!")
        cell, _, segment = rest.partition("#")
        if (sheet, cell, segment or None) not in written:
            continue  # an answer equal to what the master holds is not written
        assert got.get((sheet, cell, segment or None)) == value, (key, got.get((sheet, cell, segment or None)))
