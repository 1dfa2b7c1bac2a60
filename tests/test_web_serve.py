"""The real `xlsgen serve` process: one URL line, a stable address (fixed port and a token
kept in the user's config folder), a second start that opens the running one, the page's
終了 button, cleanup at exit and after kill -9, shared mode; and the desktop launchers a
clerk starts it from (the .desktop entry is run as a desktop would run it, with a
browser that records the address it is asked to open)."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from xlsgen.cli import cli
from xlsgen.web import launchers

URL = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{20,})")


def _env(tmp_path, **extra):
    return dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path),
                XLSGEN_CONFIG_DIR=str(tmp_path / "config"), **extra)


def _start(tmp_path, *args, **env):
    return subprocess.Popen([sys.executable, "-m", "xlsgen", "serve", "--no-browser", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path, **env))


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
    proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, **headers):
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=20) as r:
        return r.status, r.read().decode("utf-8")


def test_serve_prints_one_url_line_and_cleans_up(tmp_path):
    proc = _start(tmp_path, "--port", "0")
    try:
        line = proc.stdout.readline().strip()
        m = URL.fullmatch(line)
        assert m, line
        base = f"http://127.0.0.1:{m.group(1)}/"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base, timeout=10)
        assert refused.value.code == 403 and "アイコン" in refused.value.read().decode("utf-8")
        status, page = _get(line)
        assert status == 200 and "ドロップ" in page and 'id="quit"' in page
        assert list(tmp_path.glob("xlsgen-web-*"))
    finally:
        _stop(proc)
    assert proc.stdout.read() == ""  # exactly one line
    assert not list(tmp_path.glob("xlsgen-web-*"))


def test_a_fixed_port_and_the_stored_token_give_a_stable_address(tmp_path):
    port = _free_port()
    proc = _start(tmp_path, "--port", str(port))
    try:
        first = proc.stdout.readline().strip()
        assert URL.fullmatch(first) and f":{port}/" in first
        stored = json.loads((tmp_path / "config" / "serve.json").read_text())["token"]
        assert first.endswith(stored)
        assert oct((tmp_path / "config" / "serve.json").stat().st_mode & 0o777) == "0o600"
        # a second start (a double click on the icon) opens the running one and leaves
        again = subprocess.run([sys.executable, "-m", "xlsgen", "serve", "--no-browser", "--port", str(port)],
                               capture_output=True, text=True, env=_env(tmp_path), timeout=60)
        assert again.returncode == 0 and again.stdout.strip() == f"xlsgen はすでに起動しています: {first}"
        assert _get(first)[0] == 200
    finally:
        _stop(proc)
    proc = _start(tmp_path, "--port", str(port))  # the next day: the bookmark still works
    try:
        assert proc.stdout.readline().strip() == first
        assert _get(first)[0] == 200
    finally:
        _stop(proc)
    proc = _start(tmp_path, "--port", str(port), "--new-token")
    try:
        renewed = proc.stdout.readline().strip()
        assert renewed != first and URL.fullmatch(renewed)
        with pytest.raises(urllib.error.HTTPError) as old:
            urllib.request.urlopen(first, timeout=10)
        assert old.value.code == 403 and "古くなっています" in old.value.read().decode("utf-8")
    finally:
        _stop(proc)


def test_a_busy_port_is_an_error_on_the_command_line_and_a_fallback_from_the_icon(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "xlsgen", "serve", "--no-browser", "--port", str(port)],
                             capture_output=True, text=True, env=_env(tmp_path), timeout=60)
        assert out.returncode == 1 and "待ち受けできません" in out.stderr and "Traceback" not in out.stderr
        proc = _start(tmp_path, "--port", str(port), "--from-shortcut")
        try:
            line = proc.stdout.readline().strip()
            assert URL.fullmatch(line) and f":{port}/" not in line
            assert _get(line)[0] == 200
        finally:
            _stop(proc)


def test_the_quit_button_stops_the_server_and_removes_everything(tmp_path):
    proc = _start(tmp_path, "--port", "0")
    line = proc.stdout.readline().strip()
    base = line.split("?")[0].rstrip("/")
    token = URL.fullmatch(line).group(2)
    req = urllib.request.Request(base + "/api/quit", method="POST", data=b"",
                                 headers={"X-Xlsgen-Token": token, "Origin": base})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert "終了しました" in json.loads(r.read())["message"]
    assert proc.wait(timeout=30) == 0
    assert not list(tmp_path.glob("xlsgen-web-*"))
    assert not (tmp_path / "config" / "running.json").exists()
    # a quit from another origin is refused like any other state change
    proc = _start(tmp_path, "--port", "0")
    try:
        line = proc.stdout.readline().strip()
        base = line.split("?")[0].rstrip("/")
        req = urllib.request.Request(base + "/api/quit", method="POST", data=b"",
                                     headers={"X-Xlsgen-Token": URL.fullmatch(line).group(2),
                                              "Origin": "http://127.0.0.1:1"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=10)
        assert refused.value.code == 403 and proc.poll() is None
    finally:
        _stop(proc)


def test_after_kill_9_the_next_start_removes_the_uploads(tmp_path):
    proc = _start(tmp_path, "--port", "0")
    line = proc.stdout.readline().strip()
    folders = list(tmp_path.glob("xlsgen-web-*"))
    assert len(folders) == 1
    (folders[0] / "job-x").mkdir()
    (folders[0] / "job-x" / "input.xlsx").write_bytes(b"a clerk's book")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=20)
    assert folders[0].exists()
    assert line
    proc = _start(tmp_path, "--port", "0")
    try:
        assert URL.fullmatch(proc.stdout.readline().strip())
        assert not folders[0].exists() and len(list(tmp_path.glob("xlsgen-web-*"))) == 1
    finally:
        _stop(proc)


def test_shared_mode_needs_sections_and_prints_no_token(tmp_path):
    out = subprocess.run([sys.executable, "-m", "xlsgen", "serve", "--no-browser", "--host", "0.0.0.0"],
                         capture_output=True, text=True, env=_env(tmp_path), timeout=60)
    assert out.returncode == 1 and "--add-user" in out.stderr
    runner_env = {"XLSGEN_CONFIG_DIR": str(tmp_path / "config")}
    res = CliRunner(env=runner_env).invoke(cli, ["serve", "--add-user", "企画政策課"],
                                          input="kikaku-password-1\nkikaku-password-1\n")
    assert res.exit_code == 0, res.output
    proc = _start(tmp_path, "--host", "0.0.0.0", "--port", "0")
    try:
        line = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://0\.0\.0\.0:\d+/", line), line
        port = line.rsplit(":", 1)[1].strip("/")
        with pytest.raises(urllib.error.HTTPError) as redirected:  # urllib follows to /login (200) …
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/jobs", timeout=10)
        assert redirected.value.code == 401
        status, page = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "サインイン" in page and "課の名前" in page
    finally:
        _stop(proc)
    err = proc.stderr.read()
    assert err.startswith("警告: ") and "共有モード" in err and "登録した課" in err


# --- launchers ---------------------------------------------------------------------------


def _desktop_entry(text: str) -> dict:
    """Parse a desktop entry (and check its shape) → its keys."""
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    keys = {}
    for line in lines[1:]:
        key, _, value = line.partition("=")
        assert re.fullmatch(r"[A-Za-z0-9-]+(\[[A-Za-z_@.]+\])?", key) and _, line
        assert key not in keys
        keys[key] = value
    assert {"Type", "Name", "Exec"} <= set(keys) and keys["Type"] == "Application"
    return keys


def _exec_argv(value: str) -> list[str]:
    """The Exec key as a desktop launches it: unescape the string, then split the quoting."""
    assert "%" not in value.replace("%%", "")  # no field codes
    value = value.replace("\\\\", "\\").replace("%%", "%")
    argv, word, quoted, i = [], None, False, 0
    while i < len(value):
        c = value[i]
        if quoted and c == "\\" and value[i + 1:i + 2] in ('"', "`", "$", "\\"):
            word, i = (word or "") + value[i + 1], i + 2
            continue
        if c == '"':
            quoted, word = not quoted, word or ""
        elif c == " " and not quoted:
            if word is not None:
                argv.append(word)
            word = None
        else:
            word = (word or "") + c
        i += 1
    assert not quoted
    return argv + ([word] if word is not None else [])


def test_install_shortcut_writes_an_entry_that_starts_the_page(tmp_path):
    home = tmp_path / "home"
    (home / "Desktop").mkdir(parents=True)
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f"#!/bin/sh\necho \"$1\" >> {opened}\n")
    browser.chmod(0o755)
    env = _env(tmp_path, HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"), XDG_CONFIG_HOME=str(home / ".config"),
               BROWSER=str(browser))
    env.pop("XLSGEN_CONFIG_DIR")
    port = _free_port()
    out = subprocess.run([sys.executable, "-m", "xlsgen", "serve", "--install-shortcut", "--port", str(port)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    entry = home / ".local/share/applications/xlsgen.desktop"
    icon = home / "Desktop/xlsgen.desktop"
    assert f"作成しました: {entry}" in out.stdout and f"作成しました: {icon}" in out.stdout
    keys = _desktop_entry(entry.read_text(encoding="utf-8"))
    assert icon.read_text(encoding="utf-8") == entry.read_text(encoding="utf-8") and os.access(icon, os.X_OK)
    assert keys["Terminal"] == "false" and "xlsgen" in keys["Name"] and keys["Name[ja]"]
    argv = _exec_argv(keys["Exec"])
    assert argv[-6:] == ["-m", "xlsgen", "serve", "--port", str(port), "--from-shortcut"]
    # run it the way the desktop does: no terminal, stdin closed, our PYTHONPATH carried by the entry
    launch_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen(argv, env=launch_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        end = time.time() + 60
        while not (opened.exists() and opened.read_text().strip()) and time.time() < end:
            time.sleep(0.1)
        url = opened.read_text().strip().splitlines()[0]
        assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/\?token=[A-Za-z0-9_-]{{20,}}", url)
        status, page = _get(url)
        assert status == 200 and "ドロップ" in page
        token = (home / ".config/xlsgen/serve.json").read_text()
        assert url.split("token=")[1] in token  # the stored token: the bookmark stays valid
        # double-clicking again opens the same page instead of a second server
        again = subprocess.run(argv, env=launch_env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and opened.read_text().strip().splitlines() == [url, url]
    finally:
        _stop(proc)


def test_desktop_exec_quoting():
    assert launchers.desktop_quote("/usr/bin/python3") == "/usr/bin/python3"
    quoted = launchers.desktop_quote('/opt/my python/bin/py"3$')
    assert _exec_argv(quoted) == ['/opt/my python/bin/py"3$']
    assert _exec_argv(launchers.desktop_quote(r"C:\a b\%x")) == [r"C:\a b\%x"]


def test_windows_launcher_script(tmp_path):
    py = tmp_path / "Python311" / "python.exe"
    py.parent.mkdir()
    py.write_bytes(b"")
    (py.parent / "pythonw.exe").write_bytes(b"")
    text = launchers.windows_script(str(py), 8765)
    assert text.startswith("@echo off\r\n") and text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert f'start "xlsgen" /min "{py.parent / "pythonw.exe"}" -m xlsgen serve --port 8765 --from-shortcut' in text
    assert "set \"PYTHONPATH=C:\\src\"" in launchers.windows_script(str(py), 8765, "C:\\src")
    shipped = Path(launchers.__file__).parent / "launchers"
    assert {p.name for p in shipped.iterdir()} >= {"xlsgen.desktop.in", "xlsgen.cmd.in"}
