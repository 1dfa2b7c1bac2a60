"""What `xlsgen serve` keeps in the user's config folder: the access token (so a bookmark
keeps working), the sections allowed to sign in to a shared server (passwords stored as
scrypt hashes), and which server is running (so a second start opens the first).

The folder is `%APPDATA%\\xlsgen` on Windows, `~/Library/Application Support/xlsgen` on
macOS, `$XDG_CONFIG_HOME/xlsgen` (default `~/.config/xlsgen`) elsewhere; `XLSGEN_CONFIG_DIR`
overrides it. Files are written 0600 inside a 0700 folder.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
import tempfile
import unicodedata
from pathlib import Path

from xlsgen.errors import XlsgenError

TOKEN_FILE = "serve.json"
USERS_FILE = "users.json"
RUNNING_FILE = "running.json"
# scrypt cost: 2**15 × 8 × 128 bytes = 32 MB and about 0.1 s per check on a clerk's PC
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2 ** 15, 8, 1, 32
MIN_PASSWORD = 10


def config_dir() -> Path:
    """The user's xlsgen config folder (not created)."""
    if os.environ.get("XLSGEN_CONFIG_DIR"):
        return Path(os.environ["XLSGEN_CONFIG_DIR"])
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "xlsgen"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "xlsgen"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "xlsgen"


def _read(name: str) -> dict:
    try:
        data = json.loads((config_dir() / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(name: str, data: dict) -> None:
    """Write one config file atomically, readable by this user only."""
    folder = config_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, folder / name)
    except OSError as exc:
        raise XlsgenError(f"設定を保存できません（{exc.strerror or exc}）", str(folder / name)) from None


# --- the access token ------------------------------------------------------------------


def stored_token(renew: bool = False) -> str:
    """The token kept in the config folder (made on first use, or anew with `renew`)."""
    token = _read(TOKEN_FILE).get("token")
    if renew or not isinstance(token, str) or len(token) < 24:
        token = secrets.token_urlsafe(24)
        _write(TOKEN_FILE, {**_read(TOKEN_FILE), "token": token})
    return token


# --- sections (users) of a shared server ------------------------------------------------


def _norm_user(name: str) -> str:
    return unicodedata.normalize("NFKC", str(name)).strip()


def check_user_name(name: str) -> str:
    """The section name as stored; XlsgenError for an empty or unprintable one."""
    norm = _norm_user(name)
    if not norm or len(norm) > 40 or any(unicodedata.category(c)[0] == "C" for c in norm):
        raise XlsgenError(f"課の名前「{name}」は使えません（1〜40文字、制御文字なし）")
    return norm


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash` (hex) for `password`."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P, maxmem=64 * 1024 * 1024, dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, want = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n),
                             r=int(r), p=int(p), maxmem=64 * 1024 * 1024, dklen=len(want) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), want)


def users() -> dict[str, str]:
    """Section name → stored password hash."""
    raw = _read(USERS_FILE).get("users")
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def add_user(name: str, password: str) -> str:
    """Add a section (or give it a new password); returns the stored name."""
    name = check_user_name(name)
    if len(password) < MIN_PASSWORD:
        raise XlsgenError(f"パスワードは {MIN_PASSWORD} 文字以上にしてください")
    table = users()
    table[name] = hash_password(password)
    _write(USERS_FILE, {"users": table})
    return name


def remove_user(name: str) -> bool:
    table = users()
    found = table.pop(_norm_user(name), None) is not None
    if found:
        _write(USERS_FILE, {"users": table})
    return found


def check_sign_in(name: str, password: str) -> str | None:
    """The section's stored name when `password` is right, else None (time spent alike)."""
    norm = _norm_user(name)
    stored = users().get(norm)
    if stored is None:  # spend the same time, so a wrong name and a wrong password look alike
        verify_password(password, hash_password("x" * MIN_PASSWORD, b"\0" * 16))
        return None
    return norm if verify_password(password, stored) else None


# --- the running server ------------------------------------------------------------------


def record_running(pid: int, host: str, port: int, url: str) -> None:
    _write(RUNNING_FILE, {"pid": pid, "host": host, "port": port, "url": url,
                          "started": process_started(pid)})


def running_server(host: str, port: int) -> str | None:
    """The URL of an xlsgen server this user started on host:port that is still running."""
    info = _read(RUNNING_FILE)
    try:
        pid, started = int(info["pid"]), info.get("started")
    except (KeyError, TypeError, ValueError):
        return None
    if info.get("host") != host or info.get("port") != port or not process_alive(pid, started):
        return None
    url = info.get("url")
    return url if isinstance(url, str) else None


def forget_running(pid: int) -> None:
    if _read(RUNNING_FILE).get("pid") == pid:
        try:
            (config_dir() / RUNNING_FILE).unlink()
        except OSError:
            pass


# --- processes -------------------------------------------------------------------------


def process_started(pid: int) -> str | None:
    """A token that changes when `pid` is reused (Linux: its start time), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, starttime


def process_alive(pid: int, started: str | None = None) -> bool:
    """Whether process `pid` runs (and, given `started`, is the same process)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill would terminate it
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    now = process_started(pid)
    return started is None or now is None or now == started
