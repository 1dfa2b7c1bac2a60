"""Desktop launchers for `xlsgen serve`, so a clerk starts the page without a terminal:
a `.desktop` entry on Linux (applications menu and desktop), a `.cmd` on Windows (desktop
and Start menu), a `.command` on macOS. Each runs this Python with
`-m xlsgen serve --port PORT --from-shortcut`: a fixed port and the token kept in the user's
config folder give a stable address (a bookmark keeps working); starting it again while it
runs just opens the page. The templates ship in xlsgen/web/launchers/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

from xlsgen.errors import XlsgenError

DEFAULT_PORT = 8765


def _template(name: str) -> str:
    return files("xlsgen.web").joinpath("launchers", name).read_text(encoding="utf-8")


def _pythonpath() -> str | None:
    """PYTHONPATH to carry into the launcher when xlsgen is imported through it (a checkout
    used without installing), so the launcher runs this very copy."""
    root = str(Path(__file__).resolve().parents[2])
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(parts) if any(Path(p).resolve() == Path(root) for p in parts) else None


def desktop_quote(arg: str) -> str:
    """One argument of a desktop entry's Exec key (freedesktop Desktop Entry spec)."""
    if arg and all(c.isalnum() or c in "-_./=:+,@" for c in arg):
        out = arg
    else:
        out = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return out.replace("\\", "\\\\").replace("%", "%%")  # string-value escaping, field codes


def linux_entry(python: str = sys.executable, port: int = DEFAULT_PORT,
                pythonpath: str | None = None) -> str:
    """The text of xlsgen.desktop."""
    argv = [python, "-m", "xlsgen", "serve", "--port", str(port), "--from-shortcut"]
    if pythonpath:
        argv = ["env", f"PYTHONPATH={pythonpath}", *argv]
    return _template("xlsgen.desktop.in").replace("@EXEC@", " ".join(desktop_quote(a) for a in argv))


def windows_script(python: str = sys.executable, port: int = DEFAULT_PORT,
                   pythonpath: str | None = None) -> str:
    """The text of xlsgen.cmd (CRLF): pythonw.exe when there is one, so no window stays."""
    exe = Path(python)
    windowless = exe.with_name("pythonw.exe")
    if exe.name.lower() == "python.exe" and windowless.exists():
        exe = windowless
    env = f'set "PYTHONPATH={pythonpath}"\r\n' if pythonpath else ""
    text = _template("xlsgen.cmd.in").replace("\r\n", "\n").replace("\n", "\r\n")
    return text.replace("@ENV@", env).replace("@PYTHON@", str(exe)).replace("@PORT@", str(port))


def mac_script(python: str = sys.executable, port: int = DEFAULT_PORT,
               pythonpath: str | None = None) -> str:
    env = f"export PYTHONPATH='{pythonpath}'\n" if pythonpath else ""
    return (f"#!/bin/sh\n# xlsgen: starts the web page (xlsgen serve) and opens it in the browser.\n{env}"
            f"exec '{python}' -m xlsgen serve --port {port} --from-shortcut\n")


def _desktop_folder() -> Path | None:
    if sys.platform != "win32" and shutil.which("xdg-user-dir"):
        try:
            out = subprocess.run(["xdg-user-dir", "DESKTOP"], capture_output=True, text=True,
                                 timeout=5).stdout.strip()
            if out and Path(out).is_dir() and Path(out) != Path.home():
                return Path(out)
        except (OSError, subprocess.SubprocessError):
            pass
    home = Path(os.environ.get("USERPROFILE") or Path.home()) if sys.platform == "win32" else Path.home()
    for name in ("Desktop", "デスクトップ"):
        if (home / name).is_dir():
            return home / name
    return None


def _write(path: Path, text: str, executable: bool = False) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(text.encode("utf-8"))
        if executable:
            tmp.chmod(0o755)
        os.replace(tmp, path)
    except OSError as exc:
        raise XlsgenError(f"起動用のアイコンを書けません（{exc.strerror or exc}）", str(path)) from None
    return path


def install_shortcut(port: int = DEFAULT_PORT, python: str = sys.executable) -> list[Path]:
    """Write the launchers for this platform; returns the files written."""
    env = _pythonpath()
    desktop = _desktop_folder()
    written = []
    if sys.platform == "win32":
        text = windows_script(python, port, env)
        start_menu = Path(os.environ.get("APPDATA") or Path.home()) / "Microsoft/Windows/Start Menu/Programs"
        for folder in (desktop, start_menu):
            if folder is not None:
                written.append(_write(folder / "xlsgen.cmd", text))
    elif sys.platform == "darwin":
        if desktop is None:
            raise XlsgenError("デスクトップのフォルダが見つかりません")
        written.append(_write(desktop / "xlsgen.command", mac_script(python, port, env), executable=True))
    else:
        text = linux_entry(python, port, env)
        apps = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "applications"
        written.append(_write(apps / "xlsgen.desktop", text, executable=True))
        if desktop is not None:
            icon = _write(desktop / "xlsgen.desktop", text, executable=True)
            written.append(icon)
            if shutil.which("gio"):  # GNOME asks before running an untrusted launcher
                subprocess.run(["gio", "set", str(icon), "metadata::trusted", "true"],
                               capture_output=True, timeout=5, check=False)
    return written
