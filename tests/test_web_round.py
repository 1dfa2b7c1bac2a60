"""The 照会と回収 tab through Flask's test client: each route of a round (the master, the
editions it can be asked for, the forms zip, forms dropped as they arrive, the status
table, the merged master and its diff, the book to compare with, cancel, delete), the
refusals (a wrong master, a form for another year or another book, two departments on one
cell, a resubmission, the same file twice, a bomb, a file too large), the limits and
checks every upload route has (measured unpacking, Origin and Host, no server paths), and
that the page's results are the application layer's (the same bytes as `collect_forms`).
The browser drives the same flow in test_web_round_browser.py."""

import io
import json
import shutil
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import OJIYA
from roundtrip_forms import fill, inputs, jst
from web_books import bigger_book, lying_bomb

from xlsgen import app as A
from xlsgen.layout import read_book
from xlsgen.model import Edit, Plan
from xlsgen.package import Package, apply_plan
from xlsgen.roundtrip.assignment import AMOUNT, KPI, NUMBER
from xlsgen.web import create_app

TOKEN = "test-token-round-1234567890"
ORIGIN = "http://localhost"
FY = 2021
R4_MASTER = "ojiya_進行管理シート_R4.xlsx"


@pytest.fixture
def web(tmp_path):
    (tmp_path / "server").mkdir()
    app = create_app(token=TOKEN, parent=str(tmp_path / "server"), max_upload_mb=2)
    yield app
    app.extensions["xlsgen_store"].stop()


@pytest.fixture
def client(web):
    c = web.test_client()
    c.environ_base["HTTP_ORIGIN"] = ORIGIN
    assert c.get(f"/?token={TOKEN}").status_code == 200
    return c


@pytest.fixture(scope="module")
def distributed(tmp_path_factory):
    """The R4 forms of the 小千谷 book and their master, as `xlsgen distribute --to R4` makes
    them (a master distributed before, brought back to the page)."""
    out = tmp_path_factory.mktemp("distributed")
    dist = A.distribute_book(OJIYA, out, to="R4")
    return Path(dist.master), {f.owner: f.path for f in dist.forms}


def _answer(a, n):
    if a.value_type != NUMBER:
        return f"{a.departments[0]}の回答（{n}）"
    if a.group == AMOUNT:
        return 1000 + n
    return round(10.5 + n / 10, 1) if a.unit == "%" else 200 + n


def answers(form, bump=0, shared=False):
    return {k: _answer(i.assignment, n + bump) for n, (k, i) in enumerate(inputs(form).items())
            if shared or len(i.assignment.departments) == 1}


def wait(client, rid, done=lambda j: not j["busy"], timeout=180):
    end = time.time() + timeout
    while time.time() < end:
        j = client.get(f"/api/rounds/{rid}").get_json()
        if done(j):
            return j
        time.sleep(0.05)
    raise AssertionError(f"round not finished: {json.dumps(j, ensure_ascii=False)[:2000]}")


def new_round(client, path, name=None):
    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    r = client.post("/api/rounds", data={"file": (io.BytesIO(data), name or Path(path).name)})
    assert r.status_code == 200, r.get_data(as_text=True)
    return wait(client, r.get_json()["id"])


def choice(j, roll):
    return next(c for c in j["info"]["choices"] if c["roll"] == roll)


def distribute(client, j, roll=True, **cover):
    r = client.post(f"/api/rounds/{j['id']}/distribute", json={"edition": choice(j, roll)["edition"], **cover})
    assert r.status_code == 200, r.get_data(as_text=True)
    return wait(client, j["id"])


def drop(client, rid, files):
    """One drop of returned forms ([(path, name)]), as the page sends it: declared, then
    each file's bytes; returns the round once everything is collected."""
    files = [(Path(p), n or Path(p).name) for p, n in files]
    r = client.post(f"/api/rounds/{rid}/forms", json={"files": [{"name": n, "size": p.stat().st_size}
                                                                for p, n in files]})
    assert r.status_code == 200, r.get_data(as_text=True)
    declared = r.get_json()["forms"][-len(files):]
    for entry, (p, n) in zip(declared, files):
        if entry["state"] == "pending":
            r = client.post(f"/api/rounds/{rid}/forms/{entry['index']}", data={"file": (io.BytesIO(p.read_bytes()), n)})
            assert r.status_code == 200, r.get_data(as_text=True)
    return wait(client, rid)


def owners(j):
    return {o["owner"]: o for o in j["owners"]}


def result(j):
    assert j["collection"]["state"] == "done", j["collection"]
    return j["collection"]["result"]


def get(client, url, tmp_path, name):
    r = client.get(url)
    assert r.status_code == 200, r.get_data(as_text=True)
    path = tmp_path / name
    path.write_bytes(r.data)
    return r, path


def no_paths(web, tmp_path, *payloads):
    text = json.dumps(payloads, ensure_ascii=False)
    for leak in (str(tmp_path), str(web.extensions["xlsgen_store"].root), "/tmp/", "Traceback"):
        assert leak not in text, leak


def values(path) -> dict:
    """Cell (sheet!A1) → value of every cell of a workbook."""
    wb = openpyxl.load_workbook(path)
    return {f"{ws.title}!{c.coordinate}": c.value for ws in wb for row in ws.iter_rows() for c in row}


# --- the whole round on last year's book ------------------------------------------------


def test_last_years_book_to_forms_to_merged_master_and_diff(web, client, tmp_path):
    j = new_round(client, OJIYA)
    assert j["read"]["state"] == "done" and j["master_name"] == OJIYA.name
    info = j["info"]
    assert info["layout_title"] == "小千谷市 進行管理シート" and info["edition_label"] == "令和3年度版"
    assert [(c["label"], c["recommended"]) for c in info["choices"]] == [
        ("令和3年度版のまま照会する", False), ("令和4年度版を作って照会する", True)]
    assert "令和3年度の実績と評価" in choice(j, True)["about"]
    # 1. forms: the next edition, with the cover's due date and contact
    j = distribute(client, j, due="2022年5月31日", contact="企画政策課 内線123")
    d = j["distribution"]["result"]
    assert d["edition_label"] == "令和4年度版" and d["asks_label"] == "令和3年度" and d["rolled"]
    assert d["master_name"] == R4_MASTER and d["zip_name"] == "ojiya_進行管理シート_R4_照会様式.zip"
    assert len(d["forms"]) == 9 and all(f["inputs"] > 0 for f in d["forms"])
    assert set(owners(j)) == {f["owner"] for f in d["forms"]}
    assert all(o["status"] == "未提出" and o["inputs"] for o in j["owners"])
    r, bundle = get(client, d["zip_url"], tmp_path, "forms.zip")
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    out = tmp_path / "zip"
    zipfile.ZipFile(bundle).extractall(out)
    master = out / R4_MASTER
    forms = {p.name.split("_")[0]: p for p in (out / "各課に送る様式").glob("*.xlsx")}
    assert sorted(p.name for p in (out / "各課に送る様式").iterdir()) == sorted(f["file"] for f in d["forms"])
    assert read_book(master).fiscal_year == 2022
    cover = openpyxl.load_workbook(forms["学校教育課"])["表紙"]
    assert cover["B5"].value == "2022年5月31日" and cover["B6"].value == "企画政策課 内線123"

    # 2. three forms come back in one drop, one answer of the wrong type
    trade = answers(forms["商工振興課"])
    bad = next(i.assignment for i in inputs(forms["商工振興課"]).values()
               if i.assignment.group == KPI and i.assignment.value_type == NUMBER and i.assignment.key in trade)
    trade[bad.key] = "たくさん"
    files = [fill(forms["商工振興課"], tmp_path / "back" / forms["商工振興課"].name, trade, jst(20)),
             fill(forms["農林課"], tmp_path / "back" / forms["農林課"].name, answers(forms["農林課"]), jst(21)),
             fill(forms["学校教育課"], tmp_path / "back" / forms["学校教育課"].name, answers(forms["学校教育課"]), jst(22))]
    j = drop(client, j["id"], [(f, None) for f in files])
    res = result(j)
    assert res["summary"]["submitted"] == 3 and res["summary"]["missing"] == 6 and j["waiting"] == 0
    table = owners(j)
    assert {k for k, o in table.items() if o["status"] == "提出"} == {"商工振興課", "農林課", "学校教育課"}
    assert table["福祉課"]["status"] == "未提出" and table["福祉課"]["inputs"] == next(
        f["inputs"] for f in d["forms"] if f["owner"] == "福祉課")
    t = table["商工振興課"]
    assert t["filled"] == t["inputs"] == len(inputs(forms["商工振興課"])) and t["empty"] == 0
    assert t["saved_text"] == "2022年5月20日 09:00" and t["received_text"] and t["file"] == files[0].name
    wrong = [p for p in t["items"] if p["master_cell"] == bad.where]
    assert wrong and wrong[0]["severity_label"] == "エラー" and wrong[0]["form_cell"].startswith("数値の入力!")
    assert "「たくさん」" in wrong[0]["message"] and "not-a-number" not in wrong[0]["message"]
    assert t["problems"] == sum(p["severity"] in ("error", "warning") for p in t["items"])

    # 3. the merged master is exactly what the application layer gives for these forms
    r, merged = get(client, res["downloads"][0]["url"], tmp_path, "merged.xlsx")
    assert [x["file"] for x in res["downloads"]] == ["ojiya_進行管理シート_R4_回収.xlsx",
                                                      "ojiya_進行管理シート_R4_回収_変更点.xlsx",
                                                      "ojiya_進行管理シート_R4_回収_一式.zip"]
    cli = tmp_path / "cli" / "ojiya_進行管理シート_R4_回収.xlsx"
    cli.parent.mkdir()
    A.collect_forms(master, files, cli, names={str(f): f.name for f in files})
    assert merged.read_bytes() == cli.read_bytes()
    facts = {f"{k.sheet or m.sheet}!{k.actual(FY).cell}": k.actual(FY).value
             for m in read_book(merged).measures for k in m.kpis if k.actual(FY) is not None}
    farm = next(i.assignment for i in inputs(forms["農林課"]).values()
                if i.assignment.group == KPI and i.assignment.value_type == NUMBER and len(i.assignment.departments) == 1)
    assert facts[farm.where] == answers(forms["農林課"])[farm.key] and facts[bad.where] is None
    # its diff: against last year's book, the same list as `xlsgen diff`
    expected = A.diff_files(OJIYA, cli)
    assert res["diff"]["old"] == OJIYA.name and res["diff"]["old_label"] == "令和3年度版"
    assert res["diff"]["total"] == len(expected.changes) == len(res["diff"]["changes"])
    assert [(c["new_cell"], c["what"]) for c in res["diff"]["changes"]] == [(c.new_cell, c.what) for c in expected.changes]
    assert res["diff"]["answered"] == sum(c["answered"] for c in res["diff"]["changes"]) > 0
    assert all(c["answered"] for c in res["diff"]["changes"] if c["new_cell"] == farm.where)
    _, diff = get(client, res["downloads"][1]["url"], tmp_path, "diff.xlsx")
    rows = [r for r in openpyxl.load_workbook(diff)["変更点"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert len(rows) == len(expected.changes)
    _, everything = get(client, res["downloads"][2]["url"], tmp_path, "all.zip")
    assert sorted(zipfile.ZipFile(everything).namelist()) == sorted(
        [OJIYA.name, "ojiya_進行管理シート_R4_回収.xlsx", "ojiya_進行管理シート_R4_回収_変更点.xlsx"])
    # collecting again (the same forms) gives the same bytes
    r = client.post(f"/api/rounds/{j['id']}/collect")
    assert r.status_code == 200
    j = wait(client, j["id"])
    _, again = get(client, result(j)["downloads"][0]["url"], tmp_path, "again.xlsx")
    assert again.read_bytes() == merged.read_bytes()
    # the round is listed, and nothing the page got names a server path
    listed = client.get("/api/rounds").get_json()["rounds"]
    assert [x["id"] for x in listed] == [j["id"]] and "提出 3 / 9" in listed[0]["text"]
    no_paths(web, tmp_path, j, listed)


def test_a_master_distributed_before_collects_without_distributing_again(web, client, distributed, tmp_path):
    """After a restart the clerk sends the master of the zip, then the forms: collected."""
    master, forms = distributed
    j = new_round(client, master)
    assert [c["label"] for c in j["info"]["choices"]] == ["令和4年度版のまま照会する", "令和5年度版を作って照会する"]
    assert choice(j, False)["recommended"]  # its inputs are empty: the master to fill, not last year's
    j = drop(client, j["id"], [(fill(forms["福祉課"], tmp_path / forms["福祉課"].name, answers(forms["福祉課"]), jst(23)), None)])
    res = result(j)
    assert res["summary"]["submitted"] == 1 and owners(j)["福祉課"]["applied"] > 0
    assert j["collect_into"] == master.name and res["diff"]["old"] == master.name  # what this collection changed
    assert res["diff"]["total"] == res["diff"]["answered"] == owners(j)["福祉課"]["applied"]


# --- refusals --------------------------------------------------------------------------


def test_a_wrong_master_is_refused_and_says_why(web, client, distributed, tmp_path):
    master, forms = distributed
    # a returned form sent as the master
    j = new_round(client, forms["建設課"])
    assert j["read"]["state"] == "failed" and j["info"] is None
    assert "これは各課から戻った照会様式（建設課）です" in j["read"]["message"]
    assert client.post(f"/api/rounds/{j['id']}/forms", json={"files": [{"name": "a.xlsx", "size": 10}]}).status_code == 409
    # something that is no workbook
    j = new_round(client, "これは Excel ではありません".encode(), "メモ.xlsx")
    assert j["read"]["state"] == "failed" and j["read"]["message"].startswith("メモ.xlsx: ")
    assert "xlsgen validate" not in j["read"]["message"]
    # the master changed after distribution in a cell a form answers: nothing is collected
    farm = answers(forms["農林課"])
    kpi = next(i.assignment for i in inputs(forms["農林課"]).values() if i.assignment.key in farm and i.assignment.group == KPI)
    pkg = Package(master)
    apply_plan(pkg, Plan(edits=[Edit(kpi.sheet, kpi.cell, 999, "後から直した")]))
    changed = tmp_path / master.name
    pkg.write(changed)
    j = new_round(client, changed)
    j = drop(client, j["id"], [(fill(forms["農林課"], tmp_path / "f" / forms["農林課"].name, farm, jst(20)), None)])
    col = j["collection"]
    assert col["state"] == "failed" and "配布後に変更されています" in col["message"] and kpi.where in col["message"]
    assert "新しい照会を始め" in col["message"]  # what to do, in the page's words
    assert col.get("result") is None and client.get(f"/download/round/{j['id']}/merged").status_code == 404
    # forms of another book are not taken, with the reason
    from layout_workbooks import write_kpi_blocks

    other_book = tmp_path / "blocks.xlsx"
    write_kpi_blocks(other_book)
    other = A.distribute_book(other_book, tmp_path / "other").forms[0].path
    j = new_round(client, master)
    j = drop(client, j["id"], [(other, None)])
    rejected = result(j)["rejected"]
    assert len(rejected) == 1 and rejected[0]["file"] == other.name and "別のブック" in rejected[0]["reason"]
    assert rejected[0]["received_text"] and result(j)["summary"]["submitted"] == 0
    no_paths(web, tmp_path, j)


def test_a_form_for_another_year_is_rejected(client, distributed, tmp_path):
    master, forms = distributed
    r3 = A.distribute_book(OJIYA, tmp_path / "R3")
    old = next(f.path for f in r3.forms if f.owner == "学校教育課")
    old = fill(old, tmp_path / "back" / old.name, answers(old), jst(22))
    j = new_round(client, master)
    j = drop(client, j["id"], [(old, None)])
    res = result(j)
    assert [r["file"] for r in res["rejected"]] == [old.name]
    assert "令和3年度版の照会様式です（このマスターは令和4年度版）" in res["rejected"][0]["reason"]
    assert owners(j)["学校教育課"]["status"] == "未提出" and res["summary"]["applied"] == 0


def test_two_departments_on_one_cell_are_both_named_and_neither_applied(client, distributed, tmp_path):
    master, forms = distributed
    shared = {k: i.assignment for k, i in inputs(forms["建設課"]).items() if len(i.assignment.departments) > 1}
    key, a = next(iter(shared.items()))
    one, two = a.departments[:2]
    a_answers, b_answers = answers(forms[one]), answers(forms[two])
    a_answers[key], b_answers[key] = 5, 6
    j = new_round(client, master)
    j = drop(client, j["id"], [(fill(forms[one], tmp_path / forms[one].name, a_answers, jst(20)), None),
                               (fill(forms[two], tmp_path / forms[two].name, b_answers, jst(21)), None)])
    table = owners(j)
    for owner in (one, two):
        conflict = [p for p in table[owner]["items"] if p["code"] == "conflict"]
        assert conflict and conflict[0]["master_cell"] == a.where and conflict[0]["severity_label"] == "エラー"
        assert one in conflict[0]["message"] and two in conflict[0]["message"]
    _, merged = get(client, result(j)["downloads"][0]["url"], tmp_path, "merged.xlsx")
    assert values(merged)[a.where] == values(master)[a.where]  # neither answer applied


def test_a_corrected_resubmission_replaces_the_earlier_and_the_same_file_is_noticed(client, distributed, tmp_path):
    master, forms = distributed
    form = forms["農林課"]
    first = answers(form)
    kpi = next(i.assignment for i in inputs(form).values() if i.assignment.group == KPI and i.assignment.key in first)
    j = new_round(client, master)
    v1 = fill(form, tmp_path / "v1" / form.name, first, jst(20))
    j = drop(client, j["id"], [(v1, None)])
    assert owners(j)["農林課"]["saved_text"] == "2022年5月20日 09:00"
    second = {**first, kpi.key: 4321}
    v2 = fill(form, tmp_path / "v2" / form.name, second, jst(25))
    j = drop(client, j["id"], [(v2, None)])
    row = owners(j)["農林課"]
    assert row["saved_text"] == "2022年5月25日 09:00" and row["replaced"] == [form.name]
    assert row["file"] == f"{form.name}（2回目）"
    notes = [p for p in row["items"] if p["code"] == "resubmitted"]
    assert len(notes) == 1 and "→" in notes[0]["message"] and "4321" in notes[0]["message"]
    assert notes[0]["severity_label"] == "記録"
    _, merged = get(client, result(j)["downloads"][0]["url"], tmp_path, "merged.xlsx")
    assert values(merged)[kpi.where] == 4321
    # the earlier file dropped again after the correction: saved earlier, so it does not win
    j = drop(client, j["id"], [(v1, "農林課_もう一度.xlsx")])
    assert [f["state"] for f in j["forms"]][-1] == "duplicate"
    assert "同じ内容のファイル" in j["forms"][-1]["message"] and form.name in j["forms"][-1]["message"]
    assert [r["file"] for r in j["refused"]] == ["農林課_もう一度.xlsx"]


def test_upload_limits_as_on_the_other_tab(web, client, distributed, tmp_path):
    master, forms = distributed
    j = new_round(client, master)
    rid = j["id"]
    form = fill(forms["福祉課"], tmp_path / forms["福祉課"].name, answers(forms["福祉課"]), jst(20))
    # declared: over the per-file limit, and the same name and size twice in one drop
    r = client.post(f"/api/rounds/{rid}/forms", json={"files": [
        {"name": "大きい.xlsx", "size": 3 * 1024 * 1024}, {"name": form.name, "size": form.stat().st_size},
        {"name": form.name, "size": form.stat().st_size}]})
    states = [(f["name"], f["state"]) for f in r.get_json()["forms"]]
    assert states == [("大きい.xlsx", "refused"), (form.name, "pending"), (form.name, "duplicate")]
    assert "1ファイル 2 MB まで" in r.get_json()["forms"][0]["message"]
    # a form whose zip lies about its sizes: measured by unpacking, refused before any reader
    bomb = lying_bomb(forms["建設課"], tmp_path / "爆弾.xlsx", 260)
    j = drop(client, rid, [(bomb, None)])
    f = j["forms"][-1]
    assert f["state"] == "refused" and "zip 爆弾" in f["message"] and f["message"].startswith("爆弾.xlsx: ")
    assert j["collection"] is None  # nothing to collect: the bomb never reached the reader
    # a master over the limit is not kept
    big = tmp_path / "big.xlsx"
    big.write_bytes(b"PK" + b"\0" * (int(2.5 * 1024 * 1024)))
    r = client.post("/api/rounds", data={"file": (io.BytesIO(big.read_bytes()), "big.xlsx")})
    assert r.status_code == 400 and "1ファイル 2 MB まで" in r.get_json()["error"]
    assert len(client.get("/api/rounds").get_json()["rounds"]) == 1
    no_paths(web, tmp_path, j)


def test_round_routes_check_origin_host_and_owner(web, client, distributed):
    master, _ = distributed
    j = new_round(client, master)
    rid = j["id"]
    c = web.test_client()
    assert c.get(f"/?token={TOKEN}").status_code == 200
    for url in ("/api/rounds", f"/api/rounds/{rid}/distribute", f"/api/rounds/{rid}/forms",
                f"/api/rounds/{rid}/forms/0", f"/api/rounds/{rid}/base", f"/api/rounds/{rid}/collect",
                f"/api/rounds/{rid}/cancel", f"/api/rounds/{rid}/delete"):
        for headers in ({}, {"Origin": "http://localhost:9999"}, {"Origin": "null"}):
            r = c.post(url, headers=headers)
            assert r.status_code == 403 and "このページ以外からの操作" in r.get_json()["error"], (url, headers)
    r = client.get(f"/api/rounds/{rid}", headers={"Host": "rebind.attacker.test"})
    assert r.status_code == 400
    assert web.test_client().get(f"/api/rounds/{rid}").status_code == 403  # no token
    store = web.extensions["xlsgen_rounds"]
    with pytest.raises(KeyError):
        store.get("another-section", rid)  # shared mode: a section sees only its own rounds
    assert client.get("/api/rounds/0123456789abcdef").status_code == 404
    r = client.get("/download/round/0123456789abcdef/merged")
    assert r.status_code == 404 and "起動しました" in r.get_data(as_text=True)
    assert client.get(f"/download/round/{rid}/merged").status_code == 404  # nothing collected yet
    assert client.get(f"/download/round/{rid}/nonsense").status_code == 404


def test_delete_a_round_says_so_and_removes_its_files(web, client, distributed):
    master, _ = distributed
    j = new_round(client, master)
    folder = web.extensions["xlsgen_rounds"].rounds[j["id"]].folder
    assert folder.exists()
    r = client.post(f"/api/rounds/{j['id']}/delete")
    assert r.status_code == 200 and not folder.exists()
    r = client.get(f"/api/rounds/{j['id']}")
    assert r.status_code == 410 and "削除されました" in r.get_json()["error"]
    r = client.get(f"/download/round/{j['id']}/forms")
    assert r.status_code == 410 and "削除されました" in r.get_data(as_text=True)
    assert client.get("/api/rounds").get_json()["rounds"] == []


def test_progress_while_reading_and_cancel(client, tmp_path):
    big = bigger_book(OJIYA, tmp_path / "大きいブック.xlsx", 12)
    r = client.post("/api/rounds", data={"file": (io.BytesIO(big.read_bytes()), big.name)})
    rid = r.get_json()["id"]
    assert r.get_json()["busy"]
    seen = wait(client, rid, lambda j: (j["read"]["progress"] or {}).get("text") == "ブックを読み取り中"
                or not j["busy"], 60)
    assert seen["busy"], "the read finished before its progress was seen"
    assert 0 < seen["read"]["progress"]["fraction"] < 1
    r = client.post(f"/api/rounds/{rid}/cancel")
    assert r.status_code == 200
    j = wait(client, rid)
    assert j["read"]["state"] == "cancelled" and "中止しました" in j["read"]["message"] and j["info"] is None


# --- the book to compare with: a lowered target is called out ----------------------------


def test_compared_with_last_years_book_a_lowered_target_is_called_out(web, client, tmp_path):
    rolled = tmp_path / "ojiya_進行管理シート_R4.xlsx"
    A.rollforward_file(OJIYA, "R4", rolled)
    book = read_book(rolled)
    kpi = next(k for m in book.measures for k in m.kpis
               if k.target is not None and isinstance(k.target.value, (int, float)) and k.target.value > 10
               and k.target.cell and k.direction.value != "down")
    sheet = kpi.sheet or next(m.sheet for m in book.measures if kpi in m.kpis)
    pkg = Package(rolled)  # the planning section lowered a target by hand when it made the edition
    apply_plan(pkg, Plan(edits=[Edit(sheet, kpi.target.cell, kpi.target.value / 2, "目標を下げた")]))
    master = tmp_path / "master" / rolled.name
    master.parent.mkdir()
    pkg.write(master)
    j = new_round(client, master)
    j = distribute(client, j, roll=False)
    assert not j["distribution"]["result"]["rolled"]
    _, bundle = get(client, j["distribution"]["result"]["zip_url"], tmp_path, "forms.zip")
    zipfile.ZipFile(bundle).extractall(tmp_path / "zip")
    form = next((tmp_path / "zip" / "各課に送る様式").glob("商工振興課_*.xlsx"))
    j = drop(client, j["id"], [(fill(form, tmp_path / form.name, answers(form), jst(20)), None)])
    diff = result(j)["diff"]
    assert diff["old"] == master.name and not diff["flagged"]  # against the master: only the answers
    # the clerk sends last year's book to compare with
    r = client.post(f"/api/rounds/{j['id']}/base", data={"file": (io.BytesIO(OJIYA.read_bytes()), OJIYA.name)})
    assert r.status_code == 200
    j = wait(client, j["id"])
    assert j["compare_with"] == OJIYA.name and j["base"]["state"] == "ready"
    diff = result(j)["diff"]
    assert diff["old"] == OJIYA.name and diff["old_label"] == "令和3年度版" and diff["lowered"] >= 1
    lowered = [c for c in diff["flagged"] if c["flag"] == "target-lowered"]
    assert any(c["kpi"] == kpi.name and c["flag_label"] == "目標の引き下げ" for c in lowered), diff["flagged"]
    _, wb = get(client, result(j)["downloads"][1]["url"], tmp_path, "diff.xlsx")
    flags = [r[6] for r in openpyxl.load_workbook(wb)["変更点"].iter_rows(min_row=2, values_only=True)]
    assert "目標の引き下げ" in flags
    # a book of another layout cannot be compared: the collection stands, the diff says why
    shutil.copy(tmp_path / "zip" / rolled.name, tmp_path / "same.xlsx")
    from conftest import NISHITOKYO

    r = client.post(f"/api/rounds/{j['id']}/base", data={"file": (io.BytesIO(NISHITOKYO.read_bytes()), NISHITOKYO.name)})
    j = wait(client, j["id"])
    res = result(j)
    assert "様式が違うブックは比べられません" in res["diff"]["error"]
    assert [d["kind"] for d in res["downloads"]] == ["merged"] and res["summary"]["submitted"] == 1
    no_paths(web, tmp_path, j)
