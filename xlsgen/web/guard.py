"""Who may talk to `xlsgen serve`, and from where.

- Host: only the names the server is reached by (the bound address, loopback names, and
  in shared mode IP literals and this machine's own names), so a DNS-rebinding page whose
  name points at 127.0.0.1 is refused.
- Origin: every state-changing request must come from the page itself (Origin, else
  Referer, equal to the server's own origin; `Origin: null` refused). The token cookie is
  SameSite=Strict, but another port on localhost is the same site, so this check is what
  stops a page on another local port from posting with the clerk's cookie.
- Sign-in (shared mode): sessions in memory with a random id in an HttpOnly,
  SameSite=Strict cookie; failed sign-ins are slowed down per name and per address.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
import time
from urllib.parse import urlsplit

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "127.0.0.1", "::1"}
SESSION_HOURS = 12
MAX_FAILURES = 5
LOCK_SECONDS = 60


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _hostname(host_header: str) -> str:
    """The name part of a Host header ("[::1]:8765" → "::1", "a:1" → "a")."""
    h = (host_header or "").strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def allowed_hosts(bound: str, extra: tuple[str, ...] = ()) -> set[str]:
    """The host names a request may carry for a server bound to `bound`."""
    names = {bound.strip("[]").lower(), *LOOPBACK_NAMES, *(e.lower() for e in extra)}
    if not is_loopback(bound):
        for name in (socket.gethostname(), socket.getfqdn()):
            if name:
                names.add(name.lower())
    return names


def host_ok(host_header: str, allowed: set[str], shared: bool) -> bool:
    name = _hostname(host_header)
    if name in allowed:
        return True
    if shared:  # an address typed as numbers cannot be a rebinding attacker's name
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return False
    return False


def origin_ok(method: str, headers, scheme: str, host_header: str) -> bool:
    """A state-changing request from the page's own origin (safe methods always pass)."""
    if method.upper() in SAFE_METHODS:
        return True
    own = f"{scheme}://{host_header}".lower()
    site = headers.get("Sec-Fetch-Site")
    if site and site != "same-origin":
        return False
    origin = headers.get("Origin")
    if origin is not None:
        return origin.strip().lower() == own
    referer = headers.get("Referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}".lower() == own
    return False


class Sessions:
    """Signed-in sections of a shared server (in memory: a restart signs everyone out)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_id: dict[str, tuple[str, float]] = {}
        self.failures: dict[str, list[float]] = {}

    def create(self, user: str) -> str:
        sid = secrets.token_urlsafe(32)
        with self.lock:
            self.by_id[sid] = (user, time.time() + SESSION_HOURS * 3600)
        return sid

    def user(self, sid: str | None) -> str | None:
        if not sid:
            return None
        with self.lock:
            found = self.by_id.get(sid)
            if found and found[1] < time.time():
                del self.by_id[sid]
                found = None
        return found[0] if found else None

    def end(self, sid: str | None) -> None:
        with self.lock:
            self.by_id.pop(sid or "", None)

    def locked(self, *keys: str) -> int:
        """Seconds to wait before another sign-in attempt for any of `keys` (0: go)."""
        now = time.time()
        with self.lock:
            wait = 0
            for key in keys:
                recent = [t for t in self.failures.get(key, []) if now - t < LOCK_SECONDS]
                self.failures[key] = recent
                if len(recent) >= MAX_FAILURES:
                    wait = max(wait, int(LOCK_SECONDS - (now - recent[0])) + 1)
            return wait

    def failed(self, *keys: str) -> None:
        with self.lock:
            for key in keys:
                self.failures.setdefault(key, []).append(time.time())

    def succeeded(self, *keys: str) -> None:
        with self.lock:
            for key in keys:
                self.failures.pop(key, None)
