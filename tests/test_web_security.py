"""Security of `xlsgen serve` (Flask test client and the stores themselves): the inflated
size measured while streaming (never the zip's declared sizes) against a per-upload and a
per-server budget; Origin/Referer on every state-changing request; Host against the bound
address (DNS rebinding); no paths or tracebacks in any response; the per-run folder and
its removal after kill -9; the disk budget's honest expiry; shared-mode sign-in with
hashed passwords. The malicious page from a second origin in Chromium is in
test_web_browser.py."""

import io
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc

import pytest
from conftest import JOSO, NISHITOKYO, OJIYA, ROOT
from test_web import ORIGIN, TOKEN, signed_in, upload, wait_file
from web_books import lying_bomb

from xlsgen.web import config, create_app, scrub, uploads
from xlsgen.web.guard import allowed_hosts, host_ok, origin_ok
from xlsgen.web.jobs import JobStore, remove_stale_run_folders

MB = 1024 * 1024


@pytest.fixture
def web(tmp_path):
    app = create_app(token=TOKEN, parent=str(tmp_path), max_upload_mb=5)
    yield app
    app.extensions["xlsgen_store"].stop()


# --- inflated size -------------------------------------------------------------------


def test_inflated_size_is_measured_not_declared(tmp_path):
    bomb = lying_bomb(OJIYA, tmp_path / "bomb.xlsx", 300)
    declared = sum(i.file_size for i in __import__("zipfile").ZipFile(bomb).infolist())
    assert bomb.stat().st_size < 1 * MB and declared < 1 * MB  # small, and its headers say so
    tracemalloc.start()
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.inflated_size(bomb, 200 * MB)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "展開後のサイズが上限（200 MB）" in str(refused.value) and "zip 爆弾" in str(refused.value)
    assert peak < 8 * MB  # streamed in small pieces, never held whole
    real = uploads.inflated_size(OJIYA, 200 * MB)
    import zipfile

    assert real == sum(i.file_size for i in zipfile.ZipFile(OJIYA).infolist())  # honest books measure true


def test_a_lying_bomb_upload_is_refused_before_any_reader(web, tmp_path):
    client = signed_in(web)
    bomb = lying_bomb(OJIYA, tmp_path / "bomb.xlsx", 250)
    _, f = upload(client, bomb.read_bytes(), "爆弾.xlsx")
    assert f["state"] == "refused" and f["message"].startswith("爆弾.xlsx: 展開後のサイズが上限")
    _, again = upload(client, OJIYA, OJIYA.name)
    assert again["state"] == "done"


def test_per_upload_budget_counts_the_real_bytes(tmp_path):
    app = create_app(token=TOKEN, parent=str(tmp_path), upload_inflated_mb=1, server_inflated_mb=400)
    try:
        client = signed_in(app)
        _, f = upload(client, OJIYA, OJIYA.name)  # 456 KB of parts inflated: within 1 MB
        assert f["state"] == "done"
        bomb = lying_bomb(OJIYA, tmp_path / "b.xlsx", 2)  # 2 MB inflated, declared 1,000 bytes
        _, f = upload(client, bomb.read_bytes(), "b.xlsx")
        assert f["state"] == "refused" and "上限（1 MB）" in f["message"]
    finally:
        app.extensions["xlsgen_store"].stop()


def test_per_server_budget_lets_books_wait_their_turn(tmp_path):
    """Two workers, but the books' measured sizes together exceed the server's budget:
    they never run at the same time; one waits (and says so) until the other is done."""
    app = create_app(token=TOKEN, parent=str(tmp_path), workers=2, upload_inflated_mb=0.45,
                     server_inflated_mb=0.45)  # 小千谷 inflates to 0.44 MB, 常総 to 0.06 MB
    try:
        client = signed_in(app)
        job = client.post("/api/jobs").get_json()["job"]
        for p in (OJIYA, JOSO):
            client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(p.read_bytes()), p.name)})
        most, waited = 0, False
        while True:
            files = client.get(f"/api/jobs/{job}").get_json()["files"]
            most = max(most, sum(f["state"] == "running" for f in files))
            waited |= any(f["state"] == "waiting" and "順番待ち" in f["progress"]["text"] for f in files)
            if all(f["state"] in ("done", "failed", "refused") for f in files):
                break
            time.sleep(0.01)
        assert most == 1 and waited
        assert [f["state"] for f in files] == ["done", "done"]
    finally:
        app.extensions["xlsgen_store"].stop()


def test_stored_results_past_the_disk_budget_expire_honestly(tmp_path):
    app = create_app(token=TOKEN, parent=str(tmp_path), stored_mb=0.55)
    try:
        client = signed_in(app)
        first, f = upload(client, NISHITOKYO, NISHITOKYO.name)
        url = f["result"]["downloads"][0]["url"]
        _, g = upload(client, OJIYA, OJIYA.name)  # its outputs (0.55 MB) and the first pass 0.55 MB together
        assert g["state"] == "done"
        r = client.get(f"/api/jobs/{first}")
        assert r.status_code == 410 and "上限（0.55 MB）" in r.get_json()["error"]
        r = client.get(url)
        assert r.status_code == 410 and "古い結果から削除しました" in r.get_data(as_text=True)
        listed = {j["id"]: j for j in client.get("/api/jobs").get_json()["jobs"]}
        assert listed[first]["status"] == "expired" and listed[first]["files"][0]["state"] == "expired"
    finally:
        app.extensions["xlsgen_store"].stop()


# --- Origin, Referer, Host -------------------------------------------------------------


def test_state_changing_requests_need_the_pages_own_origin(web):
    c = web.test_client()
    assert c.get(f"/?token={TOKEN}").status_code == 200
    jobs = lambda: len(c.get("/api/jobs").get_json()["jobs"])  # noqa: E731
    for headers in ({}, {"Origin": "http://localhost:9999"}, {"Origin": "null"},
                    {"Origin": "http://evil.example"}, {"Referer": "http://localhost:9999/page"},
                    {"Origin": ORIGIN, "Sec-Fetch-Site": "same-site"}):
        r = c.post("/api/jobs", headers=headers)
        assert r.status_code == 403 and "このページ以外からの操作" in r.get_json()["error"], headers
    r = c.post("/api/jobs", headers={"X-Xlsgen-Token": TOKEN})  # a header alone is not enough either
    assert r.status_code == 403
    assert c.post("/api/jobs", headers={"Origin": ORIGIN}).status_code == 200
    assert c.post("/api/jobs", headers={"Referer": ORIGIN + "/#job=1"}).status_code == 200
    assert c.post("/api/jobs", headers={"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}).status_code == 200
    job = c.post("/api/jobs", headers={"Origin": ORIGIN}).get_json()["job"]
    for url in (f"/api/jobs/{job}/books", f"/api/jobs/{job}/cancel", f"/api/jobs/{job}/delete", "/api/simulate",
                "/api/templates", "/logout"):
        assert c.post(url, headers={"Origin": "http://127.0.0.1:9999"}).status_code == 403, url
    assert jobs() == 0  # nothing was created by the refused requests (empty jobs are not listed)


def test_host_must_be_the_bound_address(web):
    c = web.test_client()
    for host in ("evil.example", "rebind.attacker.test:8765", "127.0.0.1.nip.io"):
        r = c.get(f"/?token={TOKEN}", headers={"Host": host})
        assert r.status_code == 400 and "このアドレスでは開けません" in r.get_data(as_text=True), host
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "localhost"):
        assert c.get(f"/?token={TOKEN}", headers={"Host": host}).status_code == 200, host


def test_host_rules_in_shared_mode():
    hosts = allowed_hosts("0.0.0.0", ("xlsgen.city.local",))
    assert host_ok("192.168.10.5:8765", hosts, shared=True)  # an address typed as numbers
    assert host_ok("xlsgen.city.local:8765", hosts, shared=True)
    assert not host_ok("attacker.example:8765", hosts, shared=True)
    assert not host_ok("192.168.10.5:8765", allowed_hosts("127.0.0.1"), shared=False)
    assert origin_ok("GET", {}, "http", "a") and not origin_ok("POST", {}, "http", "a")


# --- no paths, no tracebacks ----------------------------------------------------------


def test_no_paths_or_tracebacks_in_any_response(web, monkeypatch, tmp_path):
    c = signed_in(web)
    install = str(ROOT)
    root = str(web.extensions["xlsgen_store"].root)
    from xlsgen import app as A

    def broken():
        raise OSError(2, "No such file or directory", f"{install}/xlsgen/templates/simulations/x.yaml")

    monkeypatch.setattr(A, "bundled_templates", broken)
    responses = [c.get("/api/templates"), c.get("/api/templates/x/drivers"), c.get("/no/such/page"),
                 c.put("/api/jobs"), c.get("/download/0123456789abcdef/検証結果.xlsx"),
                 c.post("/api/simulate", json={"template": "mitaka_model_a"})]
    for r in responses:
        body = r.get_data(as_text=True)
        assert r.status_code >= 400
        for leak in (install, root, "/tmp", "site-packages", "Traceback", "File \""):
            assert leak not in body, (r.status_code, leak, body)
    assert responses[0].status_code == 500 and "予期しない問題" in responses[0].get_json()["error"]
    assert "FileNotFoundError" in responses[0].get_json()["error"]  # the kind only, for a report


def test_scrub_keeps_only_file_names():
    assert scrub("/tmp/xlsgen-web-1-x/job-1/0/input.xlsx: 壊れています") == "input.xlsx: 壊れています"
    assert scrub(r"C:\Users\taro\Desktop\予算.xlsx を開けません") == "予算.xlsx を開けません"
    assert scrub("件数/年 と 1/2 と 円/kg") == "件数/年 と 1/2 と 円/kg"  # units and fractions stay


# --- the run folder ---------------------------------------------------------------------


def test_a_killed_servers_folder_is_removed_by_the_next_start(tmp_path):
    code = ("import sys, time; from xlsgen.web.jobs import JobStore; "
            f"s = JobStore({str(tmp_path)!r}); (s.root / 'job-x').mkdir(); "
            "(s.root / 'job-x' / 'input.xlsx').write_bytes(b'secret'); print(s.root, flush=True); time.sleep(60)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    folder = __import__("pathlib").Path(proc.stdout.readline().strip())
    other = JobStore(tmp_path)  # a start while the first runs: its folder stays
    assert folder.exists() and (folder / "job-x" / "input.xlsx").exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert folder.exists()  # kill -9: nothing ran at exit
    owner = json.loads((folder / "owner.json").read_text())
    assert owner["pid"] == proc.pid
    removed = remove_stale_run_folders(tmp_path)
    assert removed == [folder] and not folder.exists()
    assert other.root.exists()  # a live server's folder is kept
    other.stop()
    assert not other.root.exists()


def test_a_folder_of_a_reused_pid_is_stale(tmp_path):
    store = JobStore(tmp_path)
    owner = json.loads((store.root / "owner.json").read_text())
    if owner["started"] is None:
        pytest.skip("no process start times on this platform")
    (store.root / "owner.json").write_text(json.dumps({"pid": os.getpid(), "started": "1"}))
    assert remove_stale_run_folders(tmp_path) == [store.root]


# --- shared mode: sign-in per section -----------------------------------------------------


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    folder = tmp_path / "config"
    monkeypatch.setenv("XLSGEN_CONFIG_DIR", str(folder))
    return folder


def test_passwords_are_stored_as_scrypt_hashes(config_dir):
    config.add_user("企画政策課", "correct horse battery")
    stored = (config_dir / "users.json").read_text(encoding="utf-8")
    assert "correct horse" not in stored and "scrypt$" in stored and "企画政策課" in stored
    assert oct(os.stat(config_dir / "users.json").st_mode & 0o777) == "0o600"
    assert config.check_sign_in("企画政策課", "correct horse battery") == "企画政策課"
    assert config.check_sign_in("企画政策課", "wrong password!") is None
    assert config.check_sign_in("ほかの課", "correct horse battery") is None
    with pytest.raises(Exception, match="10 文字以上"):
        config.add_user("財政課", "short")


def test_shared_mode_sign_in_and_sections_see_only_their_own(config_dir, tmp_path):
    config.add_user("企画政策課", "kikaku-password-1")
    config.add_user("財政課", "zaisei-password-2")
    app = create_app(parent=str(tmp_path), shared=True, bound_host="0.0.0.0")
    try:
        anon = app.test_client()
        anon.environ_base["HTTP_ORIGIN"] = ORIGIN
        r = anon.get("/")
        assert r.status_code == 302 and r.headers["Location"].endswith("/login")
        assert anon.get("/api/jobs").status_code == 401
        assert "サインイン" in anon.get("/login").get_data(as_text=True)
        assert anon.get("/?token=anything").status_code == 302  # no token way into a shared server

        def sign_in(name, password):
            c = app.test_client()
            c.environ_base["HTTP_ORIGIN"] = ORIGIN
            r = c.post("/login", data={"user": name, "password": password})
            return c, r

        c1, r = sign_in("企画政策課", "kikaku-password-1")
        assert r.status_code == 302 and "SameSite=Strict" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
        assert "企画政策課 でサインイン中" in c1.get("/").get_data(as_text=True)
        job, f = upload(c1, NISHITOKYO, NISHITOKYO.name)
        assert f["state"] == "done"
        c2, _ = sign_in("財政課", "zaisei-password-2")
        assert c2.get("/api/jobs").get_json()["jobs"] == []
        assert c2.get(f"/api/jobs/{job}").status_code == 404
        assert c2.get(f["result"]["downloads"][0]["url"]).status_code == 404
        assert c1.get(f["result"]["downloads"][0]["url"]).status_code == 200
        assert c1.post("/api/quit").status_code == 405  # nobody stops a shared server from a page
        c1.post("/logout")
        assert c1.get("/api/jobs").status_code == 401
        # wrong passwords: 401 with the reason, then a pause after five
        for _ in range(5):
            _, r = sign_in("財政課", "guess-guess-guess")
            assert r.status_code == 401 and "パスワードが違います" in r.get_data(as_text=True)
        _, r = sign_in("財政課", "zaisei-password-2")
        assert r.status_code == 401 and "待ってから" in r.get_data(as_text=True)
    finally:
        app.extensions["xlsgen_store"].stop()


def test_add_user_from_the_command_line(config_dir):
    from click.testing import CliRunner

    from xlsgen.cli import cli

    out = CliRunner().invoke(cli, ["serve", "--add-user", "税務課"], input="zeimu-password-3\nzeimu-password-3\n")
    assert out.exit_code == 0 and "登録しました: 税務課" in out.output, out.output
    assert "zeimu-password-3" not in (config_dir / "users.json").read_text(encoding="utf-8")
    assert CliRunner().invoke(cli, ["serve", "--list-users"]).output.strip() == "税務課"
    out = CliRunner().invoke(cli, ["serve", "--add-user", "財政課"], input="short\nshort\n")
    assert out.exit_code == 1 and "10 文字以上" in out.output
    assert CliRunner().invoke(cli, ["serve", "--remove-user", "税務課"]).exit_code == 0
    assert CliRunner().invoke(cli, ["serve", "--list-users"]).output.strip() == ""


def test_uploads_wait_for_the_job_they_were_declared_in(web):
    c = signed_in(web)
    job = c.post("/api/jobs", json={"files": [{"name": "a.xlsx", "size": 10}]}).get_json()["id"]
    other = c.post("/api/jobs").get_json()["job"]
    assert c.post(f"/api/jobs/{other}/books/0", data={"file": (io.BytesIO(b"x"), "a.xlsx")}).status_code == 409
    r = c.post(f"/api/jobs/{job}/books/0", data={"file": (io.BytesIO(OJIYA.read_bytes()), "a.xlsx")})
    assert r.status_code == 200 and wait_file(c, job)["state"] == "done"
