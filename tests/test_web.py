"""`xlsgen serve` through Flask's test client: token and the friendly way in, uploads kept
for the server's life (no eviction after 30 jobs), progress, cancel, removal, downloads,
findings for clerks (groups, natural order, which file a cell is in, no CLI hints), hostile
files, the per-file limit, simulation fields; and the application layer the CLI and the
page share. Security (Origin, Host, budgets, paths, run folders, sign-in) is in
test_web_security.py; the real process and the launchers in test_web_serve.py; the
browser in test_web_browser.py."""

import ast
import io
import re
import stat
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import JOSO, NISHITOKYO, OJIYA, ROOT
from web_books import bigger_book

from xlsgen import app as A
from xlsgen.clerk import cell_key, finding_groups, for_clerk, natural_key
from xlsgen.cli import cli
from xlsgen.web import create_app, display_name

TOKEN = "test-token-1234567890abcdef"
ORIGIN = "http://localhost"


@pytest.fixture
def web(tmp_path):
    app = create_app(token=TOKEN, parent=str(tmp_path), max_upload_mb=2)
    yield app
    app.extensions["xlsgen_store"].stop()


def signed_in(app):
    c = app.test_client()
    c.environ_base["HTTP_ORIGIN"] = ORIGIN  # the page's own origin, as a browser sends it
    assert c.get(f"/?token={TOKEN}").status_code == 200  # sets the cookie
    return c


@pytest.fixture
def client(web):
    return signed_in(web)


def wait_file(client, job, index=0, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        f = client.get(f"/api/jobs/{job}").get_json()["files"][index]
        if f["state"] in ("done", "failed", "cancelled", "refused", "duplicate"):
            return f
        time.sleep(0.01)
    raise AssertionError("file not finished")


def upload(client, path_or_bytes, name, **form):
    """One book in a new job; returns (job id, the file's JSON once processed)."""
    job = client.post("/api/jobs").get_json()["job"]
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    r = client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(data), name), **form})
    assert r.status_code == 200, r.get_data(as_text=True)
    return job, wait_file(client, job, r.get_json()["index"])


def downloads(f) -> dict:
    return {d["kind"]: d for d in f["result"]["downloads"]}


def open_download(client, url, tmp_path, name="d.xlsx"):
    r = client.get(url)
    assert r.status_code == 200, r.get_data(as_text=True)
    path = tmp_path / name
    path.write_bytes(r.data)
    return r, openpyxl.load_workbook(path)


# --- the way in ------------------------------------------------------------------------


def test_without_the_token_a_friendly_page_says_how_to_get_in(web):
    c = web.test_client()
    r = c.get("/")
    page = r.get_data(as_text=True)
    assert r.status_code == 403 and 'lang="ja"' in page
    assert "「xlsgen」" in page and "アイコン" in page and "ダブルクリック" in page  # how to get in
    assert "token 付き" not in page and "Ctrl+C" not in page
    r = c.get("/?token=an-old-token-from-a-bookmark")
    assert r.status_code == 403 and "古くなっています" in r.get_data(as_text=True)
    for url in ("/api/jobs", "/download/0123456789abcdef/0/report", "/api/templates"):
        r = c.get(url)
        assert r.status_code == 403, url
    assert c.get("/api/jobs").get_json()["error"]
    assert c.get("/static/app.css").status_code == 200  # the friendly page has its style
    assert c.get("/api/templates", headers={"X-Xlsgen-Token": TOKEN}).status_code == 200
    r = c.get(f"/?token={TOKEN}")
    assert r.status_code == 200 and "ドロップ" in r.get_data(as_text=True)
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age" not in cookie
    assert c.get("/api/templates").status_code == 200  # the cookie now carries it


def test_a_remembered_token_outlives_the_browser_session(tmp_path):
    app = create_app(token=TOKEN, parent=str(tmp_path), remember_token=True)
    try:
        cookie = app.test_client().get(f"/?token={TOKEN}").headers["Set-Cookie"]
        assert re.search(r"Max-Age=(\d+)", cookie) and int(re.search(r"Max-Age=(\d+)", cookie).group(1)) > 300 * 86400
        assert "SameSite=Strict" in cookie and "HttpOnly" in cookie
    finally:
        app.extensions["xlsgen_store"].stop()


def test_page_is_japanese_offline_and_speaks_to_clerks(client):
    html = client.get("/").get_data(as_text=True)
    assert 'lang="ja"' in html and 'type="file"' in html and "multiple" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    for asset in ("/static/app.js", "/static/app.css"):
        body = client.get(asset).get_data(as_text=True)
        assert body and "https://" not in body and "http://" not in body
    assert "Ctrl+C" not in html and "--" not in re.sub(r"<!--.*?-->", "", html)  # no terminal talk
    assert 'id="year"' not in html and "令和17" not in html  # no year picker
    assert "1ファイル 2 MB まで" in html and "合計" not in html  # the limit as it is
    assert 'role="tablist"' in html and html.count('role="tab"') == 3 and 'aria-selected="true"' in html
    assert 'id="quit"' not in html  # only when the server can be stopped from the page


# --- uploads, results, downloads ------------------------------------------------------


def test_city_workbook_gives_findings_and_every_download(client, tmp_path):
    job, f = upload(client, OJIYA, OJIYA.name)
    res = f["result"]
    assert f["state"] == "done" and res["ok"] and f["name"] == OJIYA.name
    assert res["layout_title"] == "小千谷市 進行管理シート"  # the clerk's word, not "ojiya"
    assert res["findings"] and all(g["sheet"] and g["cell"] for g in res["findings"])
    dl = downloads(f)
    assert set(dl) == {"report", "edition", "audit"}
    assert dl["edition"]["label"] == "令和4年度版" and dl["edition"]["file"] == f"{OJIYA.stem}_R4.xlsx"
    assert [d["label"] for d in res["downloads"]] == ["報告書", "令和4年度版", "監査"]
    assert "/tmp" not in str(f) and str(tmp_path) not in str(f)  # no server paths

    r, wb = open_download(client, dl["report"]["url"], tmp_path)
    assert "filename*" in r.headers["Content-Disposition"]
    assert len(wb.sheetnames) >= res["measures"]
    _, edition = open_download(client, dl["edition"]["url"], tmp_path, "e.xlsx")
    assert "変更履歴" in edition.sheetnames
    r, audit = open_download(client, dl["audit"]["url"], tmp_path, "a.xlsx")
    assert "指摘事項" in audit.sheetnames
    # the audit names the uploaded file, never the server's private name
    assert audit.properties.title == f"数式監査 {OJIYA.name}"
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:  # page headers, properties, cells: every part
        text = "".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist() if n.endswith(".xml"))
    assert "&amp;C" in text or "oddHeader" in text
    assert OJIYA.name in re.search(r"<oddHeader>(.*?)</oddHeader>", text).group(1)
    assert "input.xlsx" not in text and "input" not in audit.properties.description

    r, summary = open_download(client, f"/download/{job}/検証結果.xlsx", tmp_path, "s.xlsx")
    names = [c.value for c in summary["ファイル"]["A"][1:]]
    assert OJIYA.name in names


def test_repeated_notices_are_one_group_after_the_findings_that_matter(client):
    _, f = upload(client, NISHITOKYO, NISHITOKYO.name)
    groups = f["result"]["findings"]
    repeated = [g for g in groups if g["count"] > 1]
    era = [g for g in repeated if g["code"] == "era-normalised"]
    assert len(era) == 1 and era[0]["count"] == 39 and "令和5年度" in era[0]["message"]
    cells = [i["cell"] for i in era[0]["items"]]
    assert cells == sorted(cells, key=cell_key) and cells[:3] == ["H2", "H3", "H5"]  # H2 before H10
    assert len(groups) == 6 and groups.index(era[0]) == len(groups) - 1  # the 5 real ones first
    assert [i.get("message", "") for i in era[0]["items"]].count("") == 38  # one says H32
    assert f["result"]["warnings"] == 44  # (target-below-baseline of まち歩きイベント since the one model) the counts still say how many findings there are
    assert "翌年度版" not in {d["label"] for d in f["result"]["downloads"]} and f["result"]["notes"]


def test_findings_of_the_edition_say_so(client, tmp_path):
    job, f = upload(client, JOSO, JOSO.name)
    res = f["result"]
    edition = [g for g in res["findings"] if g["part"] == "edition"]
    assert edition and all(g["part_label"] == "翌年度版" and g["file"] == res["edition_name"] for g in edition)
    assert res["edition_name"] == f"{JOSO.stem}_R4.xlsx"
    assert all(g["part"] == "input" and g["file"] == JOSO.name for g in res["findings"] if g not in edition)
    # 検証結果.xlsx links the edition's findings to the edition's file (as named in the zip)
    r = client.get(f"/download/{job}/検証結果.xlsx")
    path = tmp_path / "s.xlsx"
    path.write_bytes(r.data)
    rows = list(openpyxl.load_workbook(path)["指摘事項"].iter_rows(min_row=2))
    linked = {row[0].hyperlink.target.split("#")[0] for row in rows if row[0].hyperlink}
    assert res["edition_name"] in {Path(t).name for t in linked}


def test_natural_order_and_grouping_rules():
    assert sorted(["H20", "H2", "H19"], key=cell_key) == ["H2", "H19", "H20"]
    assert sorted(["10", "2", "施策10", "施策2"], key=natural_key) == ["2", "10", "施策2", "施策10"]
    f = lambda sheet, cell, msg="m", sev="warning", file="a.xlsx": {  # noqa: E731
        "severity": sev, "code": "c", "file": file, "sheet": sheet, "cell": cell, "message": msg}
    groups = finding_groups([f("10", "H20"), f("2", "H19", "x"), f("2", "H2", "x"), f("1", "A1", "y", "error"),
                             f("1", "B5", "z", file="a_R4.xlsx")], {"a.xlsx": "input", "a_R4.xlsx": "edition"})
    assert [(g["severity"], g["sheet"], g["cell"], g["count"], g["part"]) for g in groups] == [
        ("error", "1", "A1", 1, "input"), ("warning", "10", "H20", 1, "input"),
        ("warning", "1", "B5", 1, "edition"), ("warning", "2", "H2", 2, "input")]
    assert [i["cell"] for i in groups[-1]["items"]] == ["H2", "H19"]
    # the same notice but for its numbers is one group; the odd one keeps its own words
    groups = finding_groups([f("1", "H3", "「H35」は令和5年度"), f("1", "H4", "「H35」は令和5年度"),
                             f("1", "H5", "「H32」は令和2年度"), f("1", "H6", "指標「甲」")], {})
    assert [(g["count"], g["message"]) for g in groups] == [(1, "指標「甲」"), (3, "「H35」は令和5年度")]
    assert groups[1]["items"][2] == {"sheet": "1", "cell": "H5", "message": "「H32」は令和2年度"}


def test_process_book_sorts_findings_naturally(tmp_path):
    res = A.process_book(NISHITOKYO, tmp_path, NISHITOKYO.name)
    cells = [f["cell"] for f in res["findings"] if f["code"] == "era-normalised"]
    assert len(cells) == 39 and cells == sorted(cells, key=cell_key)
    assert sorted(cells, key=cell_key) != sorted(cells)  # plain text order would differ (H10 … H9)


def test_messages_have_no_command_line_hints():
    cases = {
        "このブックは令和3年度版なので、繰り越し先は翌年度の令和4年度（--to R4）だけです": "令和4年度だけです",
        "（A!B1 x。ほか 2 件、xlsgen validate で確認してください）": "もう一度送ってください",
        "実績値を書く列がありません。計画を延長する場合は --extend-to で新しい目標年度を指定してください": "この画面ではできません",
        "様式を判定できません（a は b がありません）。様式ファイル（xlsgen/templates/layouts/ や ブックと同じフォルダの layouts/）"
        "を用意するか --layout-file で指定してください": "情報システムの担当者",
    }
    for message, kept in cases.items():
        out = for_clerk(message)
        assert kept in out and "--" not in out and "xlsgen " not in out, out


def test_a_book_in_no_known_layout_gets_no_cli_hint(client, tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "会議録"
    path = tmp_path / "other.xlsx"
    wb.save(path)
    _, f = upload(client, path, "会議の記録.xlsx")
    assert f["state"] == "failed"
    reason = f["result"]["reason"]
    assert reason.startswith("会議の記録.xlsx: 様式を判定できません") and "--" not in reason
    assert "xlsgen/" not in reason and "情報システムの担当者" in reason


def test_the_edition_is_the_next_year_only_and_a_wrong_year_says_so_plainly(client):
    _, f = upload(client, JOSO, JOSO.name)
    assert downloads(f)["edition"]["label"] == "令和4年度版"
    _, f = upload(client, JOSO, JOSO.name, rollforward_to="2030")  # a script asking for another year
    assert "edition" not in downloads(f) and "report" in downloads(f)
    note = next(n for n in f["result"]["notes"] if n.startswith("翌年度版:"))
    assert "令和4年度" in note and "--to" not in note


def test_several_files_zip_of_all(client):
    job = client.post("/api/jobs").get_json()["job"]
    for p in (OJIYA, JOSO):
        client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(p.read_bytes()), p.name)})
    wait_file(client, job, 0)
    wait_file(client, job, 1)
    r = client.get(f"/download/{job}/all.zip")
    assert r.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    assert "検証結果.xlsx" in names
    for p in (OJIYA, JOSO):
        assert {f"{p.stem}_報告書.xlsx", f"{p.stem}_監査.xlsx", f"{p.stem}_R4.xlsx"} <= set(names)


def test_declared_files_notice_a_duplicate_and_a_file_over_the_limit(client):
    r = client.post("/api/jobs", json={"files": [{"name": OJIYA.name, "size": OJIYA.stat().st_size},
                                                 {"name": OJIYA.name, "size": OJIYA.stat().st_size},
                                                 {"name": "大きい.xlsx", "size": 3 * 1024 * 1024}]})
    files = r.get_json()["files"]
    assert [f["state"] for f in files] == ["pending", "duplicate", "refused"]
    assert OJIYA.name in files[1]["message"] and "1回だけ" in files[1]["message"]
    assert "1ファイル 2 MB まで" in files[2]["message"] and "合計" not in files[2]["message"]
    job = r.get_json()["id"]
    assert client.post(f"/api/jobs/{job}/books/1", data={"file": (io.BytesIO(b"x"), "a.xlsx")}).status_code == 409
    # the same bytes under another name in the same drop: noticed when they arrive
    job = client.post("/api/jobs").get_json()["job"]
    for name in ("a.xlsx", "コピー.xlsx"):
        client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(OJIYA.read_bytes()), name)})
    assert wait_file(client, job, 1)["state"] == "duplicate"
    assert wait_file(client, job, 0)["state"] == "done"


def test_uploads_are_private_and_removed(web, client):
    root = web.extensions["xlsgen_store"].root
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    upload(client, OJIYA, OJIYA.name)
    assert not list(root.rglob("input.*"))  # deleted after use
    assert not list(root.rglob("*進行管理*"))  # the user's name never reaches the disk
    web.extensions["xlsgen_store"].stop()
    assert not root.exists()


# --- results for the server's life: list, cancel, remove --------------------------------


def test_results_stay_past_thirty_jobs_and_are_listed(client, tmp_path):
    first, f = upload(client, NISHITOKYO, NISHITOKYO.name)
    url = downloads(f)["report"]["url"]
    data = NISHITOKYO.read_bytes()
    for _ in range(31):
        job = client.post("/api/jobs").get_json()["job"]
        client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(b"not a workbook"), "x.xlsx")})
    listed = client.get("/api/jobs").get_json()["jobs"]
    assert len(listed) == 32 and listed[-1]["id"] == first  # newest first, the first still there
    assert client.get(url).status_code == 200 and client.get(url).data[:2] == b"PK"
    assert data  # the input is untouched
    assert client.get(f"/api/jobs/{first}").get_json()["files"][0]["state"] == "done"


def test_progress_moves_through_the_stages(client, tmp_path):
    big = bigger_book(OJIYA, tmp_path / "big.xlsx", 4)
    job = client.post("/api/jobs").get_json()["job"]
    client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(big.read_bytes()), "big.xlsx")})
    seen, fractions = [], []
    while True:
        f = client.get(f"/api/jobs/{job}").get_json()["files"][0]
        if f["state"] == "done":
            break
        p = f["progress"] or {}
        if p.get("text") and (not seen or seen[-1] != p["text"]):
            seen.append(p["text"])
            fractions.append(p["fraction"])
        time.sleep(0.02)
    stages = [s for s in seen if s in ("読み取り・検証・報告書の作成中", "翌年度版の作成中", "数式の監査中")
              or s.startswith("読み取り中")]
    assert len(stages) >= 2, seen  # the bar moves with the work, not frozen at one place
    assert fractions == sorted(fractions)


def test_progress_callback_words():
    from xlsgen.web.jobs import progress_event

    # the reader's callback: progress(n, m, sheet)
    assert progress_event((3, 33, "03"), {}) == {"stage": "read", "text": "読み取り中（シート 3 / 33：03）",
                                                 "done": 3, "total": 33, "fraction": round(0.05 + 0.45 * 3 / 33, 3)}
    assert progress_event((33, 33, "33"), {})["text"] == "読み取り完了（シート 33）・報告書の作成中"
    assert progress_event((3, 33), {})["text"] == "読み取り中（シート 3 / 33）"
    # process_book's on_stage(stage)
    assert progress_event(("edition",), {})["text"] == "翌年度版の作成中"
    assert progress_event(({"stage": "read", "done": 1, "total": 2},), {})["text"].startswith("読み取り中（シート 1 / 2")
    assert progress_event((), {"stage": "audit"})["fraction"] == 0.85
    seen = []
    A.process_book(NISHITOKYO, Path(__import__("tempfile").mkdtemp()), NISHITOKYO.name, on_stage=seen.append)
    assert seen == ["report", "audit"]  # no edition for this layout


def test_cancel_a_running_book(client, tmp_path):
    big = bigger_book(OJIYA, tmp_path / "big.xlsx", 10)
    job = client.post("/api/jobs").get_json()["job"]
    client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(big.read_bytes()), "big.xlsx")})
    while client.get(f"/api/jobs/{job}").get_json()["files"][0]["state"] != "running":
        time.sleep(0.02)
    started = time.time()
    r = client.post(f"/api/jobs/{job}/cancel", json={})
    assert r.status_code == 200
    f = wait_file(client, job)
    assert f["state"] == "cancelled" and "中止" in f["message"] and time.time() - started < 10
    assert "result" not in f
    r = client.get(f"/download/{job}/0/report")
    assert r.status_code == 404 and "中止" in r.get_data(as_text=True)
    folder = next(p for p in client.application.extensions["xlsgen_store"].root.glob(f"job-{job}/0"))
    assert not [p for p in folder.iterdir() if p.is_file()]  # partial outputs removed
    _, again = upload(client, OJIYA, OJIYA.name)  # the worker goes on
    assert again["state"] == "done"


def test_a_job_removed_while_processing_never_answers_ok(client, tmp_path):
    big = bigger_book(OJIYA, tmp_path / "big.xlsx", 6)
    job = client.post("/api/jobs").get_json()["job"]
    client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(big.read_bytes()), "big.xlsx")})
    while client.get(f"/api/jobs/{job}").get_json()["files"][0]["state"] != "running":
        time.sleep(0.02)
    assert client.post(f"/api/jobs/{job}/delete").status_code == 200
    for _ in range(40):
        r = client.get(f"/api/jobs/{job}")
        assert r.status_code == 410 and "削除" in r.get_json()["error"]
        time.sleep(0.1)
    r = client.get(f"/download/{job}/0/report")
    assert r.status_code == 410 and "削除されました" in r.get_data(as_text=True)
    assert "再起動" not in r.get_data(as_text=True)
    assert job not in {j["id"] for j in client.get("/api/jobs").get_json()["jobs"]}
    r = client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(OJIYA.read_bytes()), "a.xlsx")})
    assert r.status_code == 410
    store = client.application.extensions["xlsgen_store"]
    end = time.time() + 20
    while (store.root / f"job-{job}").exists() and time.time() < end:
        time.sleep(0.1)
    assert not (store.root / f"job-{job}").exists()


def test_unknown_job_or_kind_gets_an_honest_page(client):
    for url in ("/download/0123456789abcdef/0/report", "/download/../../etc/passwd"):
        r = client.get(url)
        page = r.get_data(as_text=True)
        assert r.status_code == 404 and "に起動しました" in page and "/etc" not in page
    job, _ = upload(client, OJIYA, OJIYA.name)
    assert client.get(f"/download/{job}/0/input").status_code == 404
    assert client.get(f"/download/{job}/9/report").status_code == 404
    assert client.get("/api/jobs/0123456789abcdef").status_code == 404


# --- hostile and broken uploads ------------------------------------------------------


def cli_message(tmp_path, data: bytes) -> str:
    """What `xlsgen build` says about the same bytes (after its file name)."""
    src = tmp_path / "same.xlsx"
    src.write_bytes(data)
    out = CliRunner().invoke(cli, ["build", str(src), "-o", str(tmp_path / "o.xlsx")])
    assert out.exit_code != 0
    return out.output.strip().split(f"{src}: ", 1)[1]


def _zip(parts: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


HOSTILE = {
    "text": b"name,value\n1,2\n",
    "truncated": OJIYA.read_bytes()[:5000],
    "bomb": _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": b"\0" * (3 * 1024 * 1024)}),
    "entities": _zip({"[Content_Types].xml": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Types/>',
                      "xl/workbook.xml": "<workbook/>"}),
    "empty": b"",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_upload_gets_the_cli_message_and_server_keeps_serving(client, tmp_path, kind):
    data = HOSTILE[kind]
    _, f = upload(client, data, "../../壊れた.xlsx")
    assert f["state"] in ("failed", "refused") and not f.get("result", {}).get("downloads")
    assert f["name"] == "壊れた.xlsx"
    assert f["message"] == f"壊れた.xlsx: {cli_message(tmp_path, data)}"
    assert not (tmp_path.parent / "壊れた.xlsx").exists()
    _, again = upload(client, OJIYA, OJIYA.name)  # still serving
    assert again["state"] == "done" and again["result"]["findings"]


def test_other_suffixes_get_the_cli_message(client, tmp_path):
    for name, data in (("notes.txt", b"a,b\n"), ("古い.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)):
        _, f = upload(client, data, name)
        src = tmp_path / f"same{Path(name).suffix}"
        src.write_bytes(data)
        out = CliRunner().invoke(cli, ["build", str(src), "-o", str(tmp_path / "o.xlsx")])
        assert f["state"] == "failed" and f["message"] == out.output.strip().replace(f"エラー: {src}", name)


def test_display_name_keeps_only_the_last_part():
    assert display_name("..\\..\\C:\\x\\課.xlsx") == "課.xlsx"
    assert display_name("../../etc/passwd\x00.xlsx") == "passwd.xlsx"
    assert display_name("") == "ブック.xlsx"


def test_upload_size_limit_is_per_file(client):
    job = client.post("/api/jobs").get_json()["job"]
    big = io.BytesIO(b"0" * (4 * 1024 * 1024))
    r = client.post(f"/api/jobs/{job}/books", data={"file": (big, "big.xlsx")})
    assert r.status_code == 413
    message = r.get_json()["error"]
    assert "大きすぎます" in message and "1ファイル 2 MB まで" in message and "合計" not in message
    job = client.post("/api/jobs").get_json()["job"]
    r = client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(b"0" * (2 * 1024 * 1024 + 10)), "b.xlsx")})
    assert wait_file(client, job)["state"] == "refused"  # over 2 MB by a few bytes: the exact limit
    _, f = upload(client, OJIYA, OJIYA.name)
    assert f["state"] == "done"


# --- simulation ----------------------------------------------------------------------


def test_templates_are_simulations_only(client):
    templates = client.get("/api/templates").get_json()
    ids = {t["id"] for t in templates}
    assert {"mitaka_model_a", "setagaya_forum_survey"} <= ids
    layouts = {p.stem for p in (ROOT / "xlsgen/templates/layouts").glob("*.yaml")}
    assert not ids & layouts and {t["kind"] for t in templates} <= {"simulation", "survey"}
    layout = (ROOT / "xlsgen/templates/layouts/kpi_list.yaml").read_bytes()
    r = client.post("/api/templates", data={"file": (io.BytesIO(layout), "kpi_list.yaml")})
    assert r.status_code == 400 and "様式ファイル" in r.get_json()["error"]


def test_simulation_with_changed_driver(client, tmp_path):
    drivers = client.get("/api/templates/mitaka_model_a/drivers").get_json()["drivers"]
    assert any(d["name"] == "販売単価" for d in drivers)
    r = client.post("/api/simulate", json={"template": "mitaka_model_a", "drivers": {"販売単価": "12,000"}})
    body = r.get_json()
    assert r.status_code == 200, body
    r, wb = open_download(client, body["download"], tmp_path)
    sheet, ref = next(iter(wb.defined_names["販売単価"].destinations))
    assert wb[sheet][ref.replace("$", "")].value == 12000
    assert (ROOT / "xlsgen/templates/simulations/mitaka_model_a.yaml").read_text(encoding="utf-8").count("value: 10000")


def test_a_wrong_field_is_marked_at_the_field_never_blamed_on_the_template(client):
    r = client.post("/api/simulate", json={"template": "mitaka_model_a",
                                           "drivers": {"販売単価": "abc", "単収": "", "個数": "5"}})
    body = r.get_json()
    assert r.status_code == 400
    assert body["fields"] == {"販売単価": "「abc」は数値ではありません", "単収": "値を入れてください"}
    assert "テンプレート" not in body["error"] and "行目" not in str(body)
    r = client.post("/api/templates", data={"file": (io.BytesIO(b"kind: [\n"), "../t.yaml")})
    assert r.status_code == 400 and r.get_json()["error"].startswith("t.yaml: ")
    assert client.post("/api/simulate", json={"template": "../../etc/passwd"}).status_code == 404


def test_simulation_numbers_never_use_exponents(client):
    r = client.post("/api/simulate", json={"template": "mitaka_model_a", "drivers": {"販売単価": "12,000,000,000"}})
    lines = r.get_json()["lines"]
    assert r.status_code == 200 and lines
    joined = "\n".join(lines)
    assert not re.search(r"\d[eE][+-]?\d", joined), joined
    assert "28,800,000,000,000円" in joined


def test_uploaded_template(client, tmp_path):
    src = (ROOT / "xlsgen/templates/simulations/mitaka_model_b.yaml").read_bytes()
    r = client.post("/api/templates", data={"file": (io.BytesIO(src), "my.yaml")})
    body = r.get_json()
    assert r.status_code == 200 and body["drivers"]
    r = client.post("/api/simulate", json={"template": body["id"], "drivers": {}})
    _, wb = open_download(client, r.get_json()["download"], tmp_path)
    assert "前提条件" in wb.sheetnames


# --- the application layer -----------------------------------------------------------


def _imports(path: Path, package: str) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in out if m.startswith(package)}


def test_cli_and_web_call_only_the_app_layer():
    """Neither front end imports a stage module: both go through xlsgen.app (the web's own
    modules — jobs, guard, config, uploads, launchers — are the front end itself)."""
    allowed = {"xlsgen", "xlsgen.app", "xlsgen.__version__", "xlsgen.errors", "xlsgen.errors.XlsgenError",
               "xlsgen.atomic", "xlsgen.atomic.atomic_path", "xlsgen.app.sigterm_as_interrupt", "xlsgen.web",
               "xlsgen.web.create_app", "xlsgen.web.server", "xlsgen.web.server.serve", "xlsgen.wareki",
               "xlsgen.wareki.FiscalYear"}
    web_own = {"xlsgen.web." + m for m in ("config", "guard", "jobs", "uploads", "launchers", "rounds")}
    allowed |= web_own | {f"{m}.{n}" for m in web_own for n in
                          ("process_alive", "process_started", "FINISHED", "STATE_LABELS", "Gone", "JobStore",
                           "is_loopback", "DEFAULT_PORT", "install_shortcut", "_ID", "mp_context", "owned_item")} | {
        "xlsgen.web.config", "xlsgen.web.guard", "xlsgen.web.uploads"}
    for rel in ("xlsgen/cli.py", "xlsgen/web/__init__.py", "xlsgen/web/server.py", "xlsgen/web/jobs.py",
                "xlsgen/web/guard.py", "xlsgen/web/config.py", "xlsgen/web/uploads.py", "xlsgen/web/launchers.py",
                "xlsgen/web/rounds.py"):
        assert _imports(ROOT / rel, "xlsgen") <= allowed, (rel, _imports(ROOT / rel, "xlsgen") - allowed)


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Groups of modules that import each other (directly or round a loop)."""
    reach = {m: set() for m in edges}
    for start in edges:
        stack = list(edges[start])
        while stack:
            m = stack.pop()
            if m not in reach[start]:
                reach[start].add(m)
                stack.extend(edges.get(m, ()))
    groups = {frozenset({m} | {o for o in reach[m] if m in reach[o]}) for m in edges}
    return [set(g) for g in groups if len(g) > 1]


def test_no_import_cycles():
    """Any import, module-level or inside a function, counts."""
    modules = {}
    for path in (ROOT / "xlsgen").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    edges = {m: {i for i in _imports(p, "xlsgen") if i in modules and i != m} for m, p in modules.items()}
    cycles = _strongly_connected(edges)
    assert not cycles, cycles
    assert not any(i.startswith("xlsgen.render.simulation") for i in edges["xlsgen.render.survey"])
    assert edges["xlsgen.template_values"] <= {"xlsgen.errors", "xlsgen.errors.XlsgenError", "xlsgen.yamlfile"}
    assert edges["xlsgen.yamlfile"] == set()  # the YAML checks stay a leaf
    # the check itself finds a loop
    assert _strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
