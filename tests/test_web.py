"""`xlsgen serve` through Flask's test client: token, uploads, downloads, hostile files,
the size limit, simulation; and the application layer the CLI and the page share."""

import ast
import io
import stat
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import JOSO, NISHITOKYO, OJIYA, ROOT

from xlsgen.cli import cli
from xlsgen.web import create_app, display_name
from xlsgen.web.server import is_loopback

TOKEN = "test-token-123"


@pytest.fixture
def web(tmp_path):
    app = create_app(token=TOKEN, parent=str(tmp_path), max_upload_mb=2)
    yield app
    app.extensions["xlsgen_store"].cleanup()


@pytest.fixture
def client(web):
    c = web.test_client()
    assert c.get(f"/?token={TOKEN}").status_code == 200  # sets the cookie
    return c


def upload(client, path_or_bytes, name, **form):
    job = client.post("/api/jobs").get_json()["job"]
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    r = client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(data), name), **form})
    assert r.status_code == 200, r.get_data(as_text=True)
    return job, r.get_json()


def open_download(client, url, tmp_path, name="d.xlsx"):
    r = client.get(url)
    assert r.status_code == 200
    path = tmp_path / name
    path.write_bytes(r.data)
    return r, openpyxl.load_workbook(path)


# --- token ---------------------------------------------------------------------------


def test_requests_without_the_token_are_refused(web):
    c = web.test_client()
    for url in ("/", "/api/templates", "/download/0123456789abcdef/0/report", "/static/app.js"):
        r = c.get(url)
        assert r.status_code == 403, url
        assert "token" in r.get_data(as_text=True)
    assert c.post("/api/jobs").status_code == 403
    assert c.get("/?token=wrong").status_code == 403
    assert c.get("/api/templates", headers={"X-Xlsgen-Token": TOKEN}).status_code == 200
    r = c.get(f"/?token={TOKEN}")
    assert r.status_code == 200 and "ドロップ" in r.get_data(as_text=True)
    assert "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Strict" in r.headers["Set-Cookie"]
    assert c.get("/api/templates").status_code == 200  # the cookie now carries it


def test_page_is_japanese_and_offline(client):
    html = client.get("/").get_data(as_text=True)
    assert 'lang="ja"' in html and 'type="file"' in html and "multiple" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    for asset in ("/static/app.js", "/static/app.css"):
        body = client.get(asset).get_data(as_text=True)
        assert body and "https://" not in body and "http://" not in body


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


# --- uploads and downloads -----------------------------------------------------------


def test_city_workbook_gives_findings_and_every_download(client, tmp_path):
    job, res = upload(client, OJIYA, OJIYA.name)
    assert res["ok"] and res["layout"] == "ojiya" and res["name"] == OJIYA.name
    assert res["findings"] and all(f["sheet"] and f["cell"] for f in res["findings"])
    assert set(res["downloads"]) == {"報告書", "翌年度版", "監査"}
    assert "/tmp" not in str(res) and str(tmp_path) not in str(res)  # no server paths

    r, wb = open_download(client, res["downloads"]["報告書"], tmp_path)
    assert OJIYA.stem in r.headers["Content-Disposition"] or "filename*" in r.headers["Content-Disposition"]
    assert len(wb.sheetnames) >= res["sheets"]
    _, edition = open_download(client, res["downloads"]["翌年度版"], tmp_path, "e.xlsx")
    assert "変更履歴" in edition.sheetnames
    _, audit = open_download(client, res["downloads"]["監査"], tmp_path, "a.xlsx")
    assert "指摘事項" in audit.sheetnames

    r, summary = open_download(client, f"/download/{job}/検証結果.xlsx", tmp_path, "s.xlsx")
    names = [c.value for c in summary["ファイル"]["A"][1:]]
    assert OJIYA.name in names
    listed = {(row[1], row[2]) for row in summary["指摘事項"].iter_rows(min_row=2, values_only=True)}
    assert {(f["sheet"], f["cell"]) for f in res["findings"]} <= listed


def test_errors_come_first(client):
    _, res = upload(client, NISHITOKYO, NISHITOKYO.name)
    sev = [f["severity"] for f in res["findings"]]
    assert sev == sorted(sev, key=lambda s: s != "error")
    assert res["ok"] and "翌年度版" not in res["downloads"] and res["notes"]


def test_year_chosen_on_the_page(client, tmp_path):
    _, res = upload(client, JOSO, JOSO.name, rollforward_to="2022")
    assert res["edition_year"] == 2022 and "翌年度版" in res["downloads"]
    _, res = upload(client, JOSO, JOSO.name, rollforward_to="2030")
    assert "翌年度版" not in res["downloads"] and "報告書" in res["downloads"]
    assert any(n.startswith("翌年度版:") for n in res["notes"])


def test_several_files_zip_of_all(client, tmp_path):
    job = client.post("/api/jobs").get_json()["job"]
    for p in (OJIYA, JOSO):
        client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(p.read_bytes()), p.name)})
    r = client.get(f"/download/{job}/all.zip")
    assert r.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    assert "検証結果.xlsx" in names
    for p in (OJIYA, JOSO):
        assert {f"{p.stem}_報告書.xlsx", f"{p.stem}_監査.xlsx", f"{p.stem}_R4.xlsx"} <= set(names)


def test_uploads_are_private_and_removed(web, client):
    root = web.extensions["xlsgen_store"].root
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    upload(client, OJIYA, OJIYA.name)
    assert not list(root.rglob("input.*"))  # deleted after use
    assert not list(root.rglob("*進行管理*"))  # the user's name never reaches the disk
    web.extensions["xlsgen_store"].cleanup()
    assert not root.exists()


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
    _, res = upload(client, data, "../../壊れた.xlsx")
    assert not res["ok"] and not res["downloads"]
    assert res["name"] == "壊れた.xlsx"
    assert res["reason"] == f"壊れた.xlsx: {cli_message(tmp_path, data)}"
    assert not list(Path("/").glob("壊れた.xlsx")) and not (tmp_path.parent / "壊れた.xlsx").exists()
    _, again = upload(client, OJIYA, OJIYA.name)  # still serving
    assert again["ok"] and again["findings"]


def test_other_suffixes_get_the_cli_message(client, tmp_path):
    for name, data in (("notes.txt", b"a,b\n"), ("古い.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)):
        _, res = upload(client, data, name)
        src = tmp_path / f"same{Path(name).suffix}"
        src.write_bytes(data)
        out = CliRunner().invoke(cli, ["build", str(src), "-o", str(tmp_path / "o.xlsx")])
        assert not res["ok"] and res["reason"] == out.output.strip().replace(f"エラー: {src}", name)


def test_display_name_keeps_only_the_last_part():
    assert display_name("..\\..\\C:\\x\\課.xlsx") == "課.xlsx"
    assert display_name("../../etc/passwd\x00.xlsx") == "passwd.xlsx"
    assert display_name("") == "ブック.xlsx"


def test_upload_size_limit(client):
    job = client.post("/api/jobs").get_json()["job"]
    big = io.BytesIO(b"0" * (3 * 1024 * 1024))
    r = client.post(f"/api/jobs/{job}/books", data={"file": (big, "big.xlsx")})
    assert r.status_code == 413
    assert "大きすぎます" in r.get_json()["error"] and "2 MB" in r.get_json()["error"]
    _, res = upload(client, OJIYA, OJIYA.name)
    assert res["ok"]


def test_unknown_job_and_kind(client):
    assert client.get("/download/../../etc/passwd").status_code in (403, 404)
    assert client.get("/download/0123456789abcdef/0/report").status_code == 404
    job, _ = upload(client, OJIYA, OJIYA.name)
    assert client.get(f"/download/{job}/0/input").status_code == 404
    assert client.get(f"/download/{job}/9/report").status_code == 404


# --- simulation ----------------------------------------------------------------------


def test_simulation_with_changed_driver(client, tmp_path):
    templates = client.get("/api/templates").get_json()
    assert {"mitaka_model_a", "setagaya_forum_survey"} <= {t["id"] for t in templates}
    drivers = client.get("/api/templates/mitaka_model_a/drivers").get_json()["drivers"]
    assert any(d["name"] == "販売単価" for d in drivers)
    r = client.post("/api/simulate", json={"template": "mitaka_model_a", "drivers": {"販売単価": "12,000"}})
    body = r.get_json()
    assert r.status_code == 200, body
    _, wb = open_download(client, body["download"], tmp_path)
    sheet, ref = next(iter(wb.defined_names["販売単価"].destinations))
    assert wb[sheet][ref.replace("$", "")].value == 12000
    assert (ROOT / "xlsgen/templates/simulations/mitaka_model_a.yaml").read_text(encoding="utf-8").count("value: 10000")


def test_simulation_errors_are_japanese(client):
    r = client.post("/api/simulate", json={"template": "mitaka_model_a", "drivers": {"販売単価": "abc"}})
    assert r.status_code == 400 and "数値ではありません" in r.get_json()["error"]
    assert "/tmp" not in r.get_json()["error"]
    r = client.post("/api/templates", data={"file": (io.BytesIO(b"kind: [\n"), "../t.yaml")})
    assert r.status_code == 400 and r.get_json()["error"].startswith("t.yaml: ")
    assert client.post("/api/simulate", json={"template": "../../etc/passwd"}).status_code == 404


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
    """Neither front end imports a stage module: both go through xlsgen.app."""
    allowed = {"xlsgen", "xlsgen.app", "xlsgen.__version__", "xlsgen.errors", "xlsgen.errors.XlsgenError",
               "xlsgen.atomic", "xlsgen.atomic.atomic_path", "xlsgen.app.sigterm_as_interrupt", "xlsgen.web", "xlsgen.web.create_app",
               "xlsgen.web.server", "xlsgen.web.server.serve", "xlsgen.wareki", "xlsgen.wareki.FiscalYear"}
    for rel in ("xlsgen/cli.py", "xlsgen/web/__init__.py", "xlsgen/web/server.py"):
        assert _imports(ROOT / rel, "xlsgen") <= allowed, rel


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
    """Any import, module-level or inside a function, counts. rollforward ↔ render.edition
    is being broken on the roll-forward branch; nothing else may loop."""
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


# --- the real process ----------------------------------------------------------------


def _start(tmp_path, *args):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))
    return subprocess.Popen([sys.executable, "-m", "xlsgen", "serve", "--no-browser", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_serve_prints_one_url_line_and_cleans_up(tmp_path):
    import re
    import urllib.error
    import urllib.request

    proc = _start(tmp_path, "--port", "0")
    try:
        line = proc.stdout.readline().strip()
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{20,})", line)
        assert m, line
        base = f"http://127.0.0.1:{m.group(1)}/"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base, timeout=10)
        assert refused.value.code == 403
        with urllib.request.urlopen(line, timeout=10) as ok:
            assert ok.status == 200 and "ドロップ" in ok.read().decode("utf-8")
        assert list(tmp_path.glob("xlsgen-web-*"))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.stdout.read() == ""  # exactly one line
    assert not list(tmp_path.glob("xlsgen-web-*"))


def test_serve_on_the_network_warns(tmp_path):
    proc = _start(tmp_path, "--host", "0.0.0.0", "--port", "0")
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("http://0.0.0.0:") and "?token=" in line
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    err = proc.stderr.read()
    assert err.startswith("警告: ") and "ネットワーク" in err
