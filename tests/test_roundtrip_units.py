"""The round trip's parts on their own: an answer checked against its assignment, a text
cell shared by departments, a form whose identity was tampered with or that is not a
workbook at all."""

from __future__ import annotations

import json
import zipfile

import pytest

from tests.conftest import OJIYA
from tests.roundtrip_forms import fill, inputs, jst
from xlsgen import app
from xlsgen.roundtrip import segments
from xlsgen.roundtrip.assignment import AMOUNT, CHOICE, KPI, NUMBER, TEXT, WRITING, Assignment
from xlsgen.roundtrip.values import EMPTY, OK, REJECTED, check


def _a(**kw) -> Assignment:
    base = dict(key="01!F16", sheet="01", cell="F16", departments=["商工振興課"], measure_no="01",
                measure="施策", group=KPI, label="件数", item="R3年度 実績値", value_type=NUMBER, unit="件",
                minimum=0, required=True, allowed_texts=["集計中", "－", "-"], previous=17)
    base.update(kw)
    return Assignment(**base)


@pytest.mark.parametrize("a,raw,fmt,status,value,code", [
    (_a(), 21, "General", OK, 21, None),
    (_a(), 21.0, "General", OK, 21, None),
    (_a(), "２１件", "General", OK, 21, None),           # full-width digits and the KPI's own unit
    (_a(previous=1100), "1,250", "General", OK, 1250, None),
    (_a(), "17人", "General", REJECTED, None, "wrong-unit"),
    (_a(), "たくさん", "General", REJECTED, None, "not-a-number"),
    (_a(), "集計中", "General", OK, "集計中", "text-answer"),   # a status the layout allows
    (_a(), -3, "General", REJECTED, None, "out-of-range"),
    (_a(), "▲3", "General", REJECTED, None, "out-of-range"),
    (_a(), 500, "General", OK, 500, "jump"),                # over ten times last year: a warning
    (_a(), True, "General", REJECTED, None, "not-a-number"),
    (_a(), 44682, "yyyy/m/d", REJECTED, None, "date"),       # 5/1 typed and taken as a date by Excel
    (_a(value_type=TEXT, group=WRITING, unit=None, segment="商工振興課", max_length=99),
     "増えた。\n【学校教育課】\n減った。", "General", REJECTED, None, "heading"),  # another department's heading
    (_a(), None, "General", EMPTY, None, "empty"),
    (_a(), "  ", "General", EMPTY, None, "empty"),
    (_a(unit="%", previous=17.8), 0.178, "0.0%", OK, 17.8, None),   # typed as 17.8% in Excel
    (_a(unit="%", previous=17.8), "17.8%", "General", OK, 17.8, None),
    (_a(), 0.5, "0%", REJECTED, None, "wrong-unit"),
    (_a(free_text=True), "着手", "General", OK, "着手", None),       # a qualitative KPI
    (_a(group=AMOUNT, unit="千円", allowed_texts=[], required=False), "未定", "General", REJECTED, None,
     "not-a-number"),
    (_a(value_type=TEXT, group=WRITING, unit=None, max_length=5), "あいうえお", "General", OK, "あいうえお", None),
    (_a(value_type=TEXT, group=WRITING, unit=None, max_length=5), "あいうえおか", "General", REJECTED, None,
     "too-long"),
    (_a(value_type=TEXT, group=WRITING, unit=None, max_length=5), 12, "General", OK, "12", None),
    (_a(value_type=CHOICE, group="choice", unit=None, choices=["拡充", "継続"]), "継続", "General", OK, "継続", None),
    (_a(value_type=CHOICE, group="choice", unit=None, choices=["拡充", "継続"]), "やめる", "General", REJECTED,
     None, "not-in-list"),
])
def test_answers(a, raw, fmt, status, value, code):
    ans = check(a, raw, fmt)
    assert ans.status == status
    assert ans.value == (pytest.approx(value) if isinstance(value, float) else value)
    assert [c for _, c, _ in ans.problems] == ([code] if code else [])
    assert all(m and not m.isascii() for _, _, m in ans.problems)  # Japanese messages


def test_a_formula_answer_is_taken_with_a_warning_or_refused_without_a_value():
    assert check(_a(), 30, "General", formula=True).problems[0][1] == "formula"
    assert check(_a(), None, "General", formula=True).status == REJECTED


TEXT_CELL = "【企画政策課】\nおぢや塾を開いた。\n【商工振興課】\n求人が増えた。\n二行目。"


def test_segments_split_and_replace_keep_the_other_departments():
    parts = segments.split(TEXT_CELL)
    assert [(p.department, p.body) for p in parts] == [("企画政策課", "おぢや塾を開いた。"),
                                                        ("商工振興課", "求人が増えた。\n二行目。")]
    order = ["企画政策課", "商工振興課", "学校教育課"]
    assert segments.replace(TEXT_CELL, "商工振興課", "新しい文。", order) == \
        "【企画政策課】\nおぢや塾を開いた。\n【商工振興課】\n新しい文。"
    assert segments.replace(TEXT_CELL, "学校教育課", "追加。", order).endswith("【学校教育課】\n追加。")
    assert segments.replace("【商工振興課】\nA", "企画政策課", "B", order) == "【企画政策課】\nB\n【商工振興課】\nA"
    assert segments.replace(None, "学校教育課", "C", order) == "【学校教育課】\nC"
    assert segments.replace("〔企画課〕\n古い", "企画課", "新しい", []) == "〔企画課〕\n新しい"
    assert segments.body("前書き\n【企画政策課】\nX", "企画政策課") == "X"
    assert segments.replace("前書き\n【企画政策課】\nX", "企画政策課", "Y", order) == "前書き\n【企画政策課】\nY"


@pytest.fixture(scope="module")
def distributed(tmp_path_factory):
    d = tmp_path_factory.mktemp("dist")
    return app.distribute_book(OJIYA, d / "照会")


def test_a_tampered_identity_is_refused(distributed, tmp_path):
    form = next(f.path for f in distributed.forms if f.owner == "企画政策課")
    key, first = next((k, i) for k, i in inputs(form).items() if i.assignment.group == KPI)
    good = fill(form, tmp_path / "good" / form.name, {key: 3}, jst(20))
    was = f'"cell":"{first.assignment.cell}"'.encode()
    now = f'"cell":"Z{first.assignment.cell[1:]}"'.encode()
    bad = tmp_path / "bad" / form.name
    bad.parent.mkdir()
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(bad, "w") as w:  # another master cell in the identity
        for i in z.infolist():
            data = z.read(i.filename)
            if i.filename == "xl/sharedStrings.xml" or i.filename.startswith("xl/worksheets/"):
                data = data.replace(was, now)
            w.writestr(i, data)
    assert bad.read_bytes() != good.read_bytes()
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[:2000])
    result = app.collect_forms(distributed.master, [bad, truncated], tmp_path / "new.xlsx")
    reasons = {r.file: r.reason for r in result.rejected}
    assert "識別情報が壊れています" in reasons[form.name]
    assert "壊れて" in reasons["truncated.xlsx"] or "zip" in reasons["truncated.xlsx"]
    assert not result.applied
    ok = app.collect_forms(distributed.master, [good], tmp_path / "ok.xlsx")
    assert [a.after for a in ok.applied] == [3]


def test_forms_are_shown_by_the_names_their_senders_gave_them(distributed, tmp_path):
    """The page keeps uploads under names it makes up; the status shows the real names."""
    form = next(f.path for f in distributed.forms if f.owner == "企画政策課")
    upload = fill(form, tmp_path / "upload_1.xlsx", {}, jst(20))
    stray = tmp_path / "upload_2.xlsx"
    stray.write_bytes(b"not a workbook")
    result = app.collect_forms(distributed.master, [upload, stray], tmp_path / "new.xlsx",
                               names={str(upload): form.name, str(stray): "メモ.xlsx"})
    owner = next(o for o in result.owners if o.owner == "企画政策課")
    assert owner.file == form.name and [r.file for r in result.rejected] == ["メモ.xlsx"]
    assert "upload_" not in json.dumps(result.to_dict(), ensure_ascii=False).replace(str(tmp_path), "")


def test_a_forged_form_cannot_write_other_cells_or_loosen_its_checks(distributed, tmp_path):
    """The seal has no secret: a form rebuilt with another target cell and a new seal is
    still checked against the master's own assignments."""
    from xlsgen.render.form import write_form
    from xlsgen.roundtrip.form import read_form

    form = next(f.path for f in distributed.forms if f.owner == "企画政策課")
    real = read_form(form)
    text = next(i for i in real.inputs if i.assignment.segment)
    text.assignment.max_length = 100_000          # looser than the master's
    forged_inputs = [text]
    number = next(i for i in real.inputs if i.assignment.group == KPI)
    number.assignment.cell = "A1"                 # the title cell of the master
    forged_inputs.append(number)
    for n, inputs_ in enumerate(([text], forged_inputs)):
        out = tmp_path / f"forged{n}.xlsx"
        write_form(out, real.identity, inputs_)
        answers = {text.assignment.key: "あ" * 2000, number.assignment.key: 1}
        filled = fill(out, tmp_path / "back" / out.name,
                      {i.assignment.key: answers[i.assignment.key] for i in inputs_}, jst(20 + n))
        result = app.collect_forms(distributed.master, [filled], tmp_path / f"new{n}.xlsx")
        if n == 0:  # the master's limit applies
            assert [p.code for p in result.problems if p.severity == "error"] == ["too-long"]
        else:       # a cell the master never asked for: the whole form is refused
            assert "一致しません" in result.rejected[0].reason and f"{number.assignment.sheet}!A1" in result.rejected[0].reason
        assert not result.applied
