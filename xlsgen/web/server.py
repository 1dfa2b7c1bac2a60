"""Run the web page until it is closed (the page's 終了 button, Ctrl+C or SIGTERM); the run
folder with every upload and result is removed at exit (and by the next start if this
process is killed)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import webbrowser

import click
from werkzeug.serving import make_server

from xlsgen.errors import XlsgenError
from xlsgen.web import config, create_app
from xlsgen.web.guard import is_loopback

__all__ = ["serve", "is_loopback"]


def _bind_error(host: str, port: int) -> OSError | None:
    """Why host:port cannot be bound now (werkzeug would print English and exit)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host.strip("[]"), port))
    except OSError as exc:
        return exc
    return None


def serve(host: str = "127.0.0.1", port: int = 0, open_browser: bool = True, echo=click.echo,
          new_token: bool = False, from_shortcut: bool = False, allow_hosts: tuple[str, ...] = (),
          workers: int | None = None) -> None:
    """Start the server and serve until stopped. Local mode (a loopback host): the URL
    carries the token kept in the user's config folder, so a bookmark keeps working;
    a second start on the same port opens the running server instead. Shared mode (any
    other host): sections sign in with their passwords (`--add-user`)."""
    shared = not is_loopback(host)
    if shared and not config.users():
        raise XlsgenError(f"--host {host} で共有するには、サインインする課を登録してください"
                          "（xlsgen serve --add-user 課名。手順は README の「共有モード」）")
    if port and not shared:
        url = config.running_server(host, port)
        if url:
            echo(f"xlsgen はすでに起動しています: {url}")
            if open_browser:
                webbrowser.open(url)
            return
    if port and _bind_error(host, port):
        exc = _bind_error(host, port)
        if not from_shortcut:
            raise XlsgenError(f"{host}:{port} で待ち受けできません（{exc.strerror or exc}）。"
                              "--port を省略するか別の番号を指定してください")
        echo(f"警告: {host}:{port} はほかのプログラムが使っているため、空いている番号で起動します", err=True)
        port = 0
    token = None if shared else config.stored_token(renew=new_token)
    holder: dict = {}

    def quit_server():
        server = holder.get("server")
        if server is not None:
            threading.Thread(target=server.shutdown, daemon=True).start()

    web = create_app(token=token, shared=shared, bound_host=host, allow_hosts=allow_hosts,
                     remember_token=not shared, on_quit=quit_server,
                     workers=workers or (2 if shared else 1))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    store = web.extensions["xlsgen_store"]
    try:
        server = make_server(host, port, web, threaded=True)
    except OSError as exc:
        store.stop()
        raise XlsgenError(f"{host}:{port} で待ち受けできません（{exc.strerror or exc}）。"
                          "--port を省略するか別の番号を指定してください") from None
    holder["server"] = server
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{server.server_port}/"
    url = base if shared else f"{base}?token={web.config['TOKEN']}"
    if shared:
        echo(f"警告: --host {host} で共有モードで起動しています。同じネットワークの PC から開けます。"
             "使えるのは登録した課（サインイン）だけです。通信は暗号化されません（職場の LAN の中だけで使ってください）",
             err=True)
    else:
        config.record_running(os.getpid(), host, server.server_port, url)
    echo(url)
    if sys.stdout is not None:
        sys.stdout.flush()
    if open_browser:
        webbrowser.open(url)

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.stop()
        if not shared:
            config.forget_running(os.getpid())
