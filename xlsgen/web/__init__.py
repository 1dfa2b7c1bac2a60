"""`xlsgen serve`: a local web page over `xlsgen.app` (Flask; no JavaScript build step).

Two modes. Local (the default, 127.0.0.1): every request needs the access token (query
`?token=`, then a cookie, or the `X-Xlsgen-Token` header); the desktop launcher keeps the
token in the user's config folder so a bookmark keeps working. Shared (`--host`): each
section signs in with its own password (stored hashed); a section sees only its uploads.

Every request's Host is checked (DNS rebinding), every state-changing request's Origin
(another page, even on another local port, cannot post with the clerk's cookie), and no
response carries a server path or a traceback. Uploads live in the run's private folder
under names the server makes up; the user's file name is kept only for display and
downloads. Results stay for the server's life (see jobs.py).
"""

from __future__ import annotations

import hmac
import io
import logging
import re
import secrets
import threading
import time
import traceback
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath

from flask import Flask, jsonify, make_response, redirect, render_template, request, send_file
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from xlsgen import __version__
from xlsgen import app as A
from xlsgen.web import config, guard, rounds
from xlsgen.web.jobs import FINISHED, STATE_LABELS, Gone, JobStore

COOKIE = "xlsgen_token"
SESSION_COOKIE = "xlsgen_session"
HEADER = "X-Xlsgen-Token"
MAX_UPLOAD_MB = 50
TEMPLATE_SUFFIXES = (".yaml", ".yml")
MAX_TEMPLATE_BYTES = 1024 * 1024
KEEP_SIMULATIONS = 200
OUTPUT_LABELS = {"report": "報告書", "edition": "翌年度版", "audit": "監査"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOCAL_USER = "local"
log = logging.getLogger("xlsgen.web")


def display_name(raw: str | None, default: str = "ブック.xlsx") -> str:
    """The last part of a user's file name, without control characters (display only)."""
    name = PureWindowsPath(PurePosixPath(str(raw or "")).name).name
    name = "".join(ch for ch in unicodedata.normalize("NFC", name)
                   if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:120] or default


_ABS_POSIX = re.compile(r"(?<![\w./\\])/(?:[^\s/\\（）「」『』、。:;,'\"]+/)+([^\s/\\（）「」『』、。:;,'\"]+)")
_ABS_WINDOWS = re.compile(r"(?<![\w])[A-Za-z]:\\(?:[^\s\\（）「」、。:;'\"]+\\)*([^\s\\（）「」、。:;'\"]+)")


def scrub(text, root: Path | None = None) -> str:
    """`text` without server paths: the run folder, then any absolute path, keep only the
    last part (a file name the user may know)."""
    text = "" if text is None else str(text)
    if root is not None:
        text = text.replace(str(root) + "/", "").replace(str(root), "")
    text = _ABS_POSIX.sub(r"\1", text)
    return _ABS_WINDOWS.sub(r"\1", text)


def create_app(token: str | None = None, parent: str | None = None,
               max_upload_mb: int = MAX_UPLOAD_MB, *, shared: bool = False,
               bound_host: str = "127.0.0.1", allow_hosts: tuple[str, ...] = (),
               remember_token: bool = False, workers: int = 1, upload_inflated_mb: int = 200,
               server_inflated_mb: int = 400, stored_mb: int = 2048, on_quit=None) -> Flask:
    """The Flask application. Local mode: `token` (generated when not given,
    `app.config["TOKEN"]`; `remember_token` makes its cookie outlive the browser session).
    Shared mode (`shared`): sections sign in (xlsgen.web.config users). Uploads go to a new
    private run folder inside `parent` (default: the system temp folder)."""
    web = Flask(__name__)
    web.config.update(TOKEN=token or secrets.token_urlsafe(24), SHARED=shared,
                      MAX_CONTENT_LENGTH=(max_upload_mb + 1) * 1024 * 1024,
                      MAX_UPLOAD_MB=max_upload_mb, JSON_AS_ASCII=False)
    web.json.ensure_ascii = False
    web.json.sort_keys = False
    store = JobStore(parent, workers=workers, max_file_mb=max_upload_mb,
                     upload_inflated_mb=upload_inflated_mb, server_inflated_mb=server_inflated_mb,
                     stored_mb=stored_mb)
    web.extensions["xlsgen_store"] = store
    round_store = rounds.RoundStore(store)
    web.extensions["xlsgen_rounds"] = round_store
    sessions = guard.Sessions()
    sims: dict[str, dict] = {}
    templates: dict[str, dict] = {}
    sim_lock = threading.Lock()
    hosts = guard.allowed_hosts(bound_host, allow_hosts)
    started = datetime.fromtimestamp(store.started)

    # --- who and from where --------------------------------------------------------

    def current_user() -> str | None:
        if shared:
            return sessions.user(request.cookies.get(SESSION_COOKIE))
        given = (request.args.get("token") or request.headers.get(HEADER)
                 or request.cookies.get(COOKIE) or "")
        return LOCAL_USER if hmac.compare_digest(given.encode(), web.config["TOKEN"].encode()) else None

    @web.before_request
    def check_request():
        if not guard.host_ok(request.host, hosts, shared):
            return _error(400, "このアドレスでは開けません。xlsgen を起動したときのアドレスを開いてください")
        if not guard.origin_ok(request.method, request.headers, request.scheme, request.host):
            return _error(403, "このページ以外からの操作は受け付けません（別のページやサイトから送られた要求です）")
        if request.path.startswith("/static/") or request.endpoint in ("login", "logout"):
            return None
        request.xlsgen_user = current_user()
        if request.xlsgen_user is None:
            if request.path.startswith("/api/"):
                return _error(401 if shared else 403, "サインインが必要です" if shared else
                              "アクセスできません。xlsgen を起動し直してページを開いてください")
            if shared:
                return redirect("/login")
            return gate_page(bool(request.args.get("token")))
        return None

    def gate_page(wrong_token: bool):
        html = render_template("gate.html", version=__version__, wrong_token=wrong_token)
        response = make_response(html, 403)
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        return response

    @web.after_request
    def headers(response):
        if not shared and request.args.get("token") and getattr(request, "xlsgen_user", None):
            response.set_cookie(COOKIE, web.config["TOKEN"], httponly=True, samesite="Strict",
                                max_age=400 * 24 * 3600 if remember_token else None)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; "
                                                       "frame-ancestors 'none'; form-action 'self'")
        return response

    # --- errors: one Japanese line, never a path or a traceback ---------------------

    @web.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        return _error(413, store.too_large_text())

    @web.errorhandler(HTTPException)
    def http_error(exc):
        messages = {404: not_found_text(), 405: "この操作はできません",
                    400: "送られた内容を読み取れません"}
        return _error(exc.code or 500, messages.get(exc.code, "要求を処理できません"))

    @web.errorhandler(Exception)
    def unexpected(exc):  # the server keeps serving; the details go to the server's log
        log.error("xlsgen serve: %s", "".join(traceback.format_exception(exc)))
        return _error(500, f"予期しない問題が発生しました（{type(exc).__name__}）。"
                           "もう一度お試しください。続くときは xlsgen を起動し直してください")

    def not_found_text() -> str:
        return ("見つかりません。結果はサーバーを終了すると消えます（このサーバーは "
                f"{started:%m月%d日 %H:%M} に起動しました）。必要ならもう一度ファイルを送ってください")

    # --- pages ---------------------------------------------------------------------

    @web.get("/")
    def index():
        return render_template("index.html", version=__version__, max_mb=max_upload_mb,
                               shared=shared, user=request.xlsgen_user,
                               can_quit=not shared and on_quit is not None,
                               started=f"{started:%H:%M}")

    @web.route("/login", methods=["GET", "POST"])
    def login():
        if not shared:
            return redirect("/")
        message = None
        if request.method == "POST":
            name = (request.form.get("user") or "").strip()
            keys = (f"user:{name}", f"addr:{request.remote_addr}")
            wait = sessions.locked(*keys)
            if wait:
                message = f"サインインの失敗が続いたため、{wait} 秒ほど待ってからやり直してください"
            else:
                user = config.check_sign_in(name, request.form.get("password") or "")
                if user:
                    sessions.succeeded(*keys)
                    response = redirect("/")
                    response.set_cookie(SESSION_COOKIE, sessions.create(user), httponly=True,
                                        samesite="Strict", max_age=guard.SESSION_HOURS * 3600)
                    return response
                sessions.failed(*keys)
                message = "課の名前かパスワードが違います"
        html = render_template("login.html", version=__version__, message=message)
        return make_response(html, 401 if message else 200)

    @web.post("/logout")
    def logout():
        sessions.end(request.cookies.get(SESSION_COOKIE))
        response = redirect("/login" if shared else "/")
        response.delete_cookie(SESSION_COOKIE)
        return response

    @web.post("/api/quit")
    def quit_server():
        if shared or on_quit is None:
            return _error(405, "この操作はできません")
        threading.Timer(0.3, on_quit).start()
        return jsonify({"ok": True, "message": "xlsgen を終了しました。もう一度使うときはデスクトップの"
                                              "「xlsgen」アイコンから起動してください"})

    # --- jobs ----------------------------------------------------------------------

    def owned(items, item_id: str, page: bool = False):
        """(the user's job or round, None), or (None, the 404/410 answer): JSON for the page's
        scripts, an HTML page for a download link (`page`)."""
        fail = page_error if page else _error
        try:
            return items.get(request.xlsgen_user, item_id), None
        except Gone as gone:
            return None, fail(410, str(gone))
        except KeyError:
            return None, fail(404, not_found_text())

    def job_or_error(job_id: str):
        return owned(store, job_id)

    @web.get("/api/jobs")
    def jobs():
        return jsonify({"started": started.isoformat(timespec="minutes"),
                        "jobs": [job_json(j) for j in store.list(request.xlsgen_user)]})

    @web.post("/api/jobs")
    def new_job():
        body = request.get_json(silent=True) or {}
        declared = []
        for f in body.get("files") or [] if isinstance(body, dict) else []:
            if isinstance(f, dict):
                size = f.get("size")
                declared.append((display_name(f.get("name")), size if isinstance(size, int) and size >= 0 else 0))
        job = store.new_job(request.xlsgen_user, declared[:200])
        return jsonify({**job_json(job), "job": job.id})

    @web.get("/api/jobs/<job_id>")
    def get_job(job_id):
        job, error = job_or_error(job_id)
        return error or jsonify(job_json(job))

    @web.post("/api/jobs/<job_id>/books")
    @web.post("/api/jobs/<job_id>/books/<int:index>")
    def add_book(job_id, index=None):
        """One uploaded workbook: received, queued; the job's JSON tells how it goes."""
        job, error = job_or_error(job_id)
        if error:
            return error
        upload = request.files.get("file")
        if upload is None:
            return _error(400, "ファイルが送られていません")
        name = display_name(upload.filename)
        year = (request.form.get("rollforward_to") or "").strip() or None
        try:
            entry = store.receive(job, index, name, upload.save, year)
        except KeyError:
            return _error(409, "このファイルはもう受け付けられません（送信済みか中止されています）")
        except Gone as gone:
            return _error(410, str(gone))
        return jsonify(file_json(job, entry))

    @web.post("/api/jobs/<job_id>/cancel")
    def cancel(job_id):
        job, error = job_or_error(job_id)
        if error:
            return error
        body = request.get_json(silent=True) or {}
        index = body.get("index") if isinstance(body, dict) and isinstance(body.get("index"), int) else None
        store.cancel(job, index)
        return jsonify(job_json(job))

    @web.post("/api/jobs/<job_id>/delete")
    def delete(job_id):
        job, error = job_or_error(job_id)
        if error:
            return error
        store.delete(job)
        return jsonify({"deleted": job.id, "message": "一覧から削除しました"})

    def job_json(job) -> dict:
        done = [f for f in job.files if f.state == "done"]
        base = f"/download/{job.id}"
        return {"id": job.id, "created": datetime.fromtimestamp(job.created).isoformat(timespec="seconds"),
                "created_text": f"{datetime.fromtimestamp(job.created):%H:%M}",
                "status": job.status, "reason": job.reason, "busy": job.busy,
                "files": [file_json(job, f) for f in job.files] if job.status == "active" else
                         [{"index": f.index, "name": f.name, "state": "expired", "state_label": "削除済み"}
                          for f in job.files],
                "summary_url": f"{base}/{'検証結果.xlsx'}" if done and job.status == "active" else None,
                "zip_url": f"{base}/all.zip" if len(done) > 1 and job.status == "active" else None}

    def file_json(job, entry) -> dict:
        out = {"index": entry.index, "name": entry.name, "state": entry.state,
               "state_label": STATE_LABELS.get(entry.state, entry.state),
               "message": scrub(A.for_clerk(entry.message), store.root) if entry.message else None,
               "progress": entry.progress if entry.state not in FINISHED else None}
        if entry.result is not None and entry.state in ("done", "failed"):
            out["result"] = result_json(job, entry)
        return out

    def result_json(job, entry) -> dict:
        r = entry.result
        findings = r.get("findings") or []
        errors = sum(f.get("severity") == "error" for f in findings)
        downloads = []
        for kind in ("report", "edition", "audit"):
            if kind in r.get("outputs", {}):
                label = A.edition_label(r.get("edition_year")) if kind == "edition" else OUTPUT_LABELS[kind]
                downloads.append({"kind": kind, "label": label or OUTPUT_LABELS[kind],
                                  "file": download_name(r, kind),
                                  "url": f"/download/{job.id}/{entry.index}/{kind}"})
        groups = [{**g, "file": g.get("file"),
                   "message": scrub(g["message"], store.root)} for g in A.page_findings(r)]
        return {"ok": r.get("ok"), "layout_title": r.get("layout_title") or r.get("layout"),
                "measures": r.get("sheets", 0), "kpis": r.get("kpis", 0), "errors": errors,
                "warnings": len(findings) - errors, "audit_findings": r.get("audit_findings"),
                "edition_label": A.edition_label(r.get("edition_year")),
                "edition_name": r.get("edition_name"),
                "reason": scrub(A.for_clerk(r.get("reason")), store.root) if r.get("reason") else None,
                "notes": [scrub(A.for_clerk(n), store.root) for n in r.get("notes", [])],
                "findings": groups, "downloads": downloads}

    # --- downloads -----------------------------------------------------------------

    def page_error(status: int, message: str):
        html = render_template("message.html", version=__version__, message=message)
        response = make_response(html, status)
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        return response

    def download_job(job_id: str):
        return owned(store, job_id, page=True)

    @web.get("/download/<job_id>/<int:index>/<kind>")
    def download(job_id, index, kind):
        job, error = download_job(job_id)
        if error:
            return error
        entry = job.files[index] if 0 <= index < len(job.files) else None
        if entry is None or kind not in OUTPUT_LABELS:
            return page_error(404, not_found_text())
        if entry.state != "done" or kind not in (entry.result or {}).get("outputs", {}):
            why = {"cancelled": "このファイルの処理は中止されたため、結果はありません",
                   "failed": "このファイルは処理できなかったため、結果はありません"}
            return page_error(409 if entry.state not in FINISHED else 404,
                              why.get(entry.state, "まだ処理が終わっていません。終わってからもう一度押してください"
                                      if entry.state not in FINISHED else "この結果はありません"))
        res = entry.result
        return send_file(res["outputs"][kind], as_attachment=True, download_name=download_name(res, kind),
                         mimetype=XLSX if res["outputs"][kind].endswith(".xlsx") else None)

    def summary_path(job) -> Path | None:
        results = [dict(f.result, report_name=download_name(f.result, "report")
                        if "report" in f.result["outputs"] else None)
                   for f in job.files if f.state in ("done", "failed") and f.result]
        if not results:
            return None
        out = job.folder / "検証結果.xlsx"
        A.findings_workbook(results, out)
        return out

    @web.get("/download/<job_id>/検証結果.xlsx")
    def summary(job_id):
        job, error = download_job(job_id)
        if error:
            return error
        path = summary_path(job)
        if path is None:
            return page_error(404, "まだ結果がありません。処理が終わってからもう一度押してください")
        return send_file(path, as_attachment=True, download_name="検証結果.xlsx", mimetype=XLSX)

    @web.get("/download/<job_id>/all.zip")
    def bundle(job_id):
        job, error = download_job(job_id)
        if error:
            return error
        path = summary_path(job)
        if path is None:
            return page_error(404, "まだ結果がありません。処理が終わってからもう一度押してください")
        buf = io.BytesIO()
        used = {"検証結果.xlsx"}
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(path, "検証結果.xlsx")
            for entry in job.files:
                if entry.state == "done":
                    for kind, p in entry.result["outputs"].items():
                        zf.write(p, _unique(download_name(entry.result, kind), used))
        buf.seek(0)
        return send_file(buf, as_attachment=True, download_name="xlsgen_結果一式.zip",
                         mimetype="application/zip")

    # --- 照会と回収: one round of distribution and collection per master ---------------

    def clean(message) -> str:
        return scrub(A.for_clerk(message), store.root)

    def round_or_error(round_id: str, page: bool = False):
        return owned(round_store, round_id, page)

    def round_reply(rnd):
        return jsonify(rounds.round_json(rnd, clean))

    @web.get("/api/rounds")
    def round_list():
        return jsonify({"rounds": [rounds.round_summary(r) for r in round_store.list(request.xlsgen_user)]})

    @web.post("/api/rounds")
    def new_round():
        """The master (or last year's edition) of a new round; its reading is queued."""
        upload = request.files.get("file")
        if upload is None:
            return _error(400, "ファイルが送られていません")
        try:
            rnd = round_store.new_round(request.xlsgen_user, display_name(upload.filename), upload.save)
        except rounds.Refused as why:
            return _error(400, f"{display_name(upload.filename)}: {why}")
        return round_reply(rnd)

    @web.get("/api/rounds/<round_id>")
    def get_round(round_id):
        rnd, error = round_or_error(round_id)
        return error or round_reply(rnd)

    def round_action(round_id, act):
        rnd, error = round_or_error(round_id)
        if error:
            return error
        try:
            act(rnd)
        except rounds.Refused as why:
            return _error(409, str(why))
        return round_reply(rnd)

    @web.post("/api/rounds/<round_id>/distribute")
    def distribute(round_id):
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        edition = body.get("edition") if isinstance(body.get("edition"), int) else None
        return round_action(round_id, lambda rnd: round_store.distribute(
            rnd, edition, _text(body.get("due")), _text(body.get("contact"))))

    @web.post("/api/rounds/<round_id>/forms")
    def declare_forms(round_id):
        body = request.get_json(silent=True)
        files = body.get("files") if isinstance(body, dict) and isinstance(body.get("files"), list) else []
        declared = [(display_name(f.get("name"), "様式.xlsx"), f["size"] if isinstance(f.get("size"), int)
                     and f["size"] >= 0 else 0) for f in files if isinstance(f, dict)]
        return round_action(round_id, lambda rnd: round_store.declare_forms(rnd, declared[:200]))

    @web.post("/api/rounds/<round_id>/forms/<int:index>")
    def receive_form(round_id, index):
        rnd, error = round_or_error(round_id)
        if error:
            return error
        upload = request.files.get("file")
        if upload is None:
            return _error(400, "ファイルが送られていません")
        try:
            round_store.receive_form(rnd, index, display_name(upload.filename, "様式.xlsx"), upload.save)
        except KeyError:
            return _error(409, "このファイルはもう受け付けられません（送信済みか中止されています）")
        except rounds.Refused as why:
            return _error(409, str(why))
        except Gone as gone:
            return _error(410, str(gone))
        return round_reply(rnd)

    @web.post("/api/rounds/<round_id>/base")
    def compare_with(round_id):
        """The book to compare the collected master with (last year's edition)."""
        rnd, error = round_or_error(round_id)
        if error:
            return error
        upload = request.files.get("file")
        if upload is None:
            return _error(400, "ファイルが送られていません")
        try:
            round_store.set_base(rnd, display_name(upload.filename), upload.save)
        except rounds.Refused as why:
            return _error(409, str(why))
        except Gone as gone:
            return _error(410, str(gone))
        return round_reply(rnd)

    @web.post("/api/rounds/<round_id>/collect")
    def recollect(round_id):
        return round_action(round_id, round_store.recollect)

    @web.post("/api/rounds/<round_id>/cancel")
    def cancel_round(round_id):
        return round_action(round_id, round_store.cancel)

    @web.post("/api/rounds/<round_id>/delete")
    def delete_round(round_id):
        rnd, error = round_or_error(round_id)
        if error:
            return error
        round_store.delete(rnd)
        return jsonify({"deleted": rnd.id, "message": "照会を削除しました"})

    @web.get("/download/round/<round_id>/<kind>")
    def round_download(round_id, kind):
        rnd, error = round_or_error(round_id, page=True)
        if error:
            return error
        found = rounds.download(rnd, kind)
        if found is None:
            return page_error(404, "まだありません。処理が終わってからもう一度押してください")
        files, name = found
        if len(files) == 1 and name == files[0][1]:
            path = files[0][0]
            return send_file(path, as_attachment=True, download_name=name,
                             mimetype=XLSX if path.suffix in (".xlsx", ".xlsm") else "application/zip")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path, inside in files:
                zf.write(path, inside)
        buf.seek(0)
        return send_file(buf, as_attachment=True, download_name=name, mimetype="application/zip")

    # --- simulation ----------------------------------------------------------------

    @web.get("/api/templates")
    def template_list():
        return jsonify([{"id": t["id"], "title": t["title"], "kind": t["kind"]}
                        for t in A.bundled_templates()])

    @web.post("/api/templates")
    def upload_template():
        upload = request.files.get("file")
        if upload is None:
            return _error(400, "テンプレートが送られていません")
        name = display_name(upload.filename, "テンプレート.yaml")
        if Path(name).suffix.lower() not in TEMPLATE_SUFFIXES:
            return _error(400, f"{name}: シミュレーションのテンプレート（.yaml）ではありません")
        key = "u-" + secrets.token_hex(8)
        folder = store.root / "templates" / key
        folder.mkdir(parents=True, mode=0o700)
        path = folder / "uploaded.yaml"
        upload.save(path)
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            return _error(400, f"{name}: テンプレートが大きすぎます（1 MB まで）")
        if A.is_layout_file(path):
            return _error(400, f"{name}: これは様式ファイル（ブックの読み方）で、シミュレーションの"
                               "テンプレートではありません")
        try:
            drivers_ = A.template_drivers(path)
        except Exception as exc:  # noqa: BLE001 - shown on the page
            return _error(400, scrub(A.for_clerk(A.error_text(exc).replace(str(path), name)), store.root))
        templates[key] = {"path": path, "name": name, "owner": request.xlsgen_user}
        return jsonify({"id": key, "title": name, "drivers": _drivers_json(drivers_)})

    def template_of(key: str) -> tuple[Path, str] | None:
        t = templates.get(key)
        if t and t["owner"] == request.xlsgen_user:
            return t["path"], t["name"]
        for t in A.bundled_templates():
            if t["id"] == key:
                return t["path"], t["path"].name
        return None

    @web.get("/api/templates/<key>/drivers")
    def drivers(key):
        found = template_of(key)
        if found is None:
            return _error(404, "このテンプレートは見つかりません")
        path, name = found
        title = next((t["title"] for t in A.bundled_templates() if t["id"] == key), name)
        try:
            return jsonify({"id": key, "title": title, "drivers": _drivers_json(A.template_drivers(path))})
        except Exception as exc:  # noqa: BLE001
            return _error(400, scrub(A.for_clerk(A.error_text(exc).replace(str(path), name)), store.root))

    @web.post("/api/simulate")
    def simulate():
        body = request.get_json(silent=True) or {}
        found = template_of(str(body.get("template") or "")) if isinstance(body, dict) else None
        if found is None:
            return _error(404, "このテンプレートは見つかりません")
        path, name = found
        values = body.get("drivers") or {}
        if not isinstance(values, dict):
            return _error(400, "前提条件の値を読み取れません")
        values = {str(k): _value(v) for k, v in values.items()}
        problems = A.driver_problems(path, values)
        if problems:
            return make_response(jsonify({"error": "入力に誤りがあります。印の付いた欄を直してください",
                                          "fields": problems}), 400)
        sim_id = secrets.token_hex(8)
        folder = store.root / "sims" / sim_id
        folder.mkdir(parents=True, mode=0o700)
        out = folder / "simulation.xlsx"
        try:
            lines = A.simulate_with_drivers(path, values, out, folder)
        except Exception as exc:  # noqa: BLE001
            return _error(400, scrub(A.for_clerk(A.error_text(exc).replace(str(path), name)), store.root))
        shown = f"{Path(name).stem}_シミュレーション.xlsx"
        lines = [scrub(line.replace(str(out), shown), store.root) for line in lines]
        with sim_lock:
            sims[sim_id] = {"path": out, "name": shown, "owner": request.xlsgen_user,
                            "created": time.time(), "folder": folder}
            for old in sorted(sims, key=lambda k: sims[k]["created"])[:-KEEP_SIMULATIONS]:
                import shutil

                shutil.rmtree(sims[old]["folder"], ignore_errors=True)
                sims[old]["path"] = None
        return jsonify({"lines": lines, "download": f"/download/sim/{sim_id}", "file": shown})

    @web.get("/download/sim/<sim_id>")
    def download_simulation(sim_id):
        sim = sims.get(sim_id)
        if sim is None or sim["owner"] != request.xlsgen_user:
            return page_error(404, not_found_text())
        if sim["path"] is None:
            return page_error(410, f"このシミュレーションの結果は削除されました（新しい {KEEP_SIMULATIONS} 件まで"
                                   "保存します）。もう一度「ブックを作る」を押してください")
        return send_file(sim["path"], as_attachment=True, download_name=sim["name"], mimetype=XLSX)

    return web


def _error(status: int, message: str):
    """A Japanese one-line error: JSON for the page's scripts, a small page otherwise."""
    message = scrub(message)
    if request.path.startswith("/api/"):
        return make_response(jsonify({"error": message}), status)
    html = render_template("message.html", version=__version__, message=message)
    response = make_response(html, status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def _text(value) -> str | None:
    """A short text typed on the page (提出期限, 問い合わせ先), or None."""
    return str(value)[:200] if isinstance(value, str) and value.strip() else None


def download_name(res: dict, kind: str) -> str:
    stem = Path(res["name"]).stem
    if kind == "edition":
        return res.get("edition_name") or A.edition_file_name(res["name"], res["edition_year"])
    return f"{stem}_{OUTPUT_LABELS[kind]}.xlsx"


def _unique(name: str, used: set[str]) -> str:
    stem, suffix, n = Path(name).stem, Path(name).suffix, 2
    candidate = name
    while candidate in used:
        candidate = f"{stem}_{n}{suffix}"
        n += 1
    used.add(candidate)
    return candidate


def _drivers_json(drivers: list[dict]) -> list[dict]:
    return [{k: d[k] for k in ("section", "name", "label", "value", "unit", "note")} for d in drivers]


def _value(raw):
    """A driver value from the form: a number, or the text as typed ("20%", "1,000")."""
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, (int, float)):
        return raw
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    try:
        return float(text.replace(",", "")) if not text.endswith("%") else text
    except ValueError:
        return text
