"""Run the web page on a local port until Ctrl+C; the upload folder is removed at exit."""

from __future__ import annotations

import ipaddress
import logging
import signal
import socket
import sys
import webbrowser

import click
from werkzeug.serving import make_server

from xlsgen.errors import XlsgenError
from xlsgen.web import create_app

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(host: str = "127.0.0.1", port: int = 0, open_browser: bool = True, echo=click.echo) -> None:
    """Start the server (port 0: a free port), print the URL with its token, serve."""
    web = create_app()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    store = web.extensions["xlsgen_store"]
    try:
        if port:  # werkzeug would print its own English message and exit
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            with socket.socket(family) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host.strip("[]"), port))
        server = make_server(host, port, web, threaded=True)
    except OSError as exc:
        store.cleanup()
        raise XlsgenError(f"{host}:{port} で待ち受けできません（{exc.strerror or exc}）。"
                          "--port を省略するか別の番号を指定してください") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{server.server_port}/?token={web.config['TOKEN']}"
    if not is_loopback(host):
        echo(f"警告: --host {host} で起動しています。同じネットワークの誰でも、この URL（token 付き）を"
             "知っていればファイルを送って処理できます。職場の外に URL を知らせないでください", err=True)
    echo(url)
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
        store.cleanup()
