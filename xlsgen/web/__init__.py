"""`xlsgen serve`: a local web page over `xlsgen.app` (Flask; no JavaScript build step).

Every request needs the access token printed with the URL (query `?token=`, then a cookie,
or the `X-Xlsgen-Token` header). Uploads live in a private folder (0700) under names the
server makes up; the user's file name is kept only for display and downloads.
"""

from __future__ import annotations

import atexit
import hmac
import io
import re
import secrets
import shutil
import tempfile
import threading
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from flask import Flask, abort, jsonify, make_response, render_template, request, send_file
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from xlsgen import __version__
from xlsgen import app as A

COOKIE = "xlsgen_token"
HEADER = "X-Xlsgen-Token"
MAX_UPLOAD_MB = 50
TEMPLATE_SUFFIXES = (".yaml", ".yml")
KEEP_JOBS = 30
OUTPUT_LABELS = {"report": "報告書", "edition": "翌年度版", "audit": "監査"}


def display_name(raw: str | None, default: str = "ブック.xlsx") -> str:
    """The last part of a user's file name, without control characters (display only)."""
    name = PureWindowsPath(PurePosixPath(str(raw or "")).name).name
    name = "".join(ch for ch in unicodedata.normalize("NFC", name)
                   if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:120] or default


class Store:
    """The private upload folder: one numbered folder per job and per file."""

    def __init__(self, parent: str | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="xlsgen-web-", dir=parent))
        self.root.chmod(0o700)
        self.jobs: dict[str, dict] = {}
        self.templates: dict[str, dict] = {}
        self.lock = threading.Lock()

    def new_job(self) -> str:
        with self.lock:
            while len(self.jobs) >= KEEP_JOBS:  # oldest first
                old = next(iter(self.jobs))
                shutil.rmtree(self.jobs.pop(old)["dir"], ignore_errors=True)
            job = secrets.token_hex(8)
            folder = Path(tempfile.mkdtemp(prefix="job-", dir=self.root))
            self.jobs[job] = {"dir": folder, "files": []}
        return job

    def job(self, job: str) -> dict:
        found = self.jobs.get(job) if re.fullmatch(r"[0-9a-f]{16}", job or "") else None
        if found is None:
            abort(404)
        return found

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def create_app(token: str | None = None, parent: str | None = None,
               max_upload_mb: int = MAX_UPLOAD_MB) -> Flask:
    """The Flask application; `token` is generated when not given (`app.config["TOKEN"]`);
    uploads go to a new private folder inside `parent` (default: the system temp folder)."""
    web = Flask(__name__)
    web.config.update(TOKEN=token or secrets.token_urlsafe(24),
                      MAX_CONTENT_LENGTH=max_upload_mb * 1024 * 1024,
                      MAX_UPLOAD_MB=max_upload_mb, JSON_AS_ASCII=False)
    web.json.ensure_ascii = False
    web.json.sort_keys = False  # downloads keep their order: 報告書, 翌年度版, 監査
    store = Store(parent)
    atexit.register(store.cleanup)  # outputs are kept for download until exit
    web.extensions["xlsgen_store"] = store

    @web.before_request
    def require_token():
        expected = web.config["TOKEN"]
        given = (request.args.get("token") or request.headers.get(HEADER)
                 or request.cookies.get(COOKIE) or "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return _error(403, "アクセスできません。xlsgen serve が表示した URL（token 付き）を開いてください")
        return None

    @web.after_request
    def remember_token(response):
        if request.args.get("token"):
            response.set_cookie(COOKIE, web.config["TOKEN"], httponly=True, samesite="Strict")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:"
        return response

    @web.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        return _error(413, f"ファイルが大きすぎます（1回に送れるのは合計 {max_upload_mb} MB までです）。"
                           "ファイルを分けて送ってください")

    @web.errorhandler(HTTPException)
    def http_error(exc):
        messages = {404: "ページまたはファイルが見つかりません（サーバーを再起動した場合は、もう一度ファイルを送ってください）",
                    405: "この操作はできません", 400: "送られた内容を読み取れません"}
        return _error(exc.code or 500, messages.get(exc.code, "要求を処理できません"))

    @web.errorhandler(Exception)
    def unexpected(exc):  # the server keeps serving; the user sees one Japanese line
        return _error(500, A.error_text(exc))

    @web.get("/")
    def index():
        return render_template("index.html", version=__version__, max_mb=max_upload_mb)

    @web.post("/api/jobs")
    def new_job():
        return jsonify({"job": store.new_job()})

    @web.post("/api/jobs/<job>/books")
    def add_book(job):
        """One uploaded workbook → its result (status, findings, download links)."""
        info = store.job(job)
        upload = request.files.get("file")
        if upload is None:
            return _error(400, "ファイルが送られていません")
        name = display_name(upload.filename)
        # Anything else (.xls, .csv, a text file) goes through the same read-layer checks
        # as the command line and gets its message; only a plain suffix is kept.
        suffix = Path(name).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""
        with store.lock:
            index_ = len(info["files"])
            info["files"].append(None)
        folder = info["dir"] / str(index_)
        folder.mkdir(mode=0o700)
        src = folder / f"input{suffix}"
        upload.save(src)
        year = (request.form.get("rollforward_to") or "").strip() or None
        try:
            res = A.process_book(src, folder, name, rollforward_to=year)
        finally:
            src.unlink(missing_ok=True)  # the upload is not kept once processed
        info["files"][index_] = res
        return jsonify(_public(job, index_, res))

    @web.get("/download/<job>/<int:index>/<kind>")
    def download(job, index, kind):
        info = store.job(job)
        if kind not in OUTPUT_LABELS or not 0 <= index < len(info["files"]) or not info["files"][index]:
            abort(404)
        res = info["files"][index]
        path = res["outputs"].get(kind)
        if not path:
            abort(404)
        return send_file(path, as_attachment=True, download_name=_download_name(res, kind),
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    def _summary(info: dict) -> Path:
        results = [dict(r, report_name=_download_name(r, "report") if "report" in r["outputs"] else None)
                   for r in info["files"] if r]
        if not results:
            abort(404)
        out = info["dir"] / "検証結果.xlsx"
        A.findings_workbook(results, out)
        return out

    @web.get("/download/<job>/検証結果.xlsx")
    def summary(job):
        return send_file(_summary(store.job(job)), as_attachment=True, download_name="検証結果.xlsx")

    @web.get("/download/<job>/all.zip")
    def bundle(job):
        info = store.job(job)
        summary_path = _summary(info)
        buf = io.BytesIO()
        used = {"検証結果.xlsx"}
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(summary_path, "検証結果.xlsx")
            for res in (r for r in info["files"] if r):
                for kind, path in res["outputs"].items():
                    zf.write(path, _unique(_download_name(res, kind), used))
        buf.seek(0)
        return send_file(buf, as_attachment=True, download_name="xlsgen_結果一式.zip",
                         mimetype="application/zip")

    # --- simulation ---------------------------------------------------------------------

    @web.get("/api/templates")
    def templates():
        return jsonify([{"id": t["id"], "title": t["title"], "kind": t["kind"]}
                        for t in A.bundled_templates()])

    @web.post("/api/templates")
    def upload_template():
        upload = request.files.get("file")
        if upload is None:
            return _error(400, "テンプレートが送られていません")
        name = display_name(upload.filename, "テンプレート.yaml")
        if Path(name).suffix.lower() not in TEMPLATE_SUFFIXES:
            return _error(400, f"{name}: テンプレート（.yaml）ではありません")
        job = store.new_job()
        folder = store.job(job)["dir"]
        path = folder / "uploaded.yaml"
        upload.save(path)
        try:
            drivers = A.template_drivers(path)
        except Exception as exc:  # noqa: BLE001 - shown on the page
            return _error(400, A.error_text(exc).replace(str(path), name))
        key = "u-" + job
        store.templates[key] = {"path": path, "name": name, "dir": folder}
        return jsonify({"id": key, "title": name, "drivers": _drivers_json(drivers)})

    @web.get("/api/templates/<key>/drivers")
    def drivers(key):
        path, name = _template(key)
        title = next((t["title"] for t in A.bundled_templates() if t["id"] == key), name)
        try:
            return jsonify({"id": key, "title": title, "drivers": _drivers_json(A.template_drivers(path))})
        except Exception as exc:  # noqa: BLE001
            return _error(400, A.error_text(exc).replace(str(path), name))

    @web.post("/api/simulate")
    def simulate():
        body = request.get_json(silent=True) or {}
        path, name = _template(str(body.get("template") or ""))
        values = body.get("drivers") or {}
        if not isinstance(values, dict):
            return _error(400, "前提条件の値を読み取れません")
        job = store.new_job()
        folder = store.job(job)["dir"]
        out = folder / "simulation.xlsx"
        try:
            lines = A.simulate_with_drivers(path, {str(k): _value(v) for k, v in values.items()},
                                            out, folder)
        except Exception as exc:  # noqa: BLE001
            return _error(400, A.error_text(exc).replace(str(path), name))
        lines = [line.replace(str(out), f"{Path(name).stem}.xlsx") for line in lines]
        store.job(job)["files"].append({"outputs": {"simulation": str(out)}, "name": name})
        return jsonify({"lines": lines, "download": f"/download/{job}/simulation"})

    @web.get("/download/<job>/simulation")
    def download_simulation(job):
        info = store.job(job)
        if not info["files"] or "simulation" not in info["files"][0].get("outputs", {}):
            abort(404)
        res = info["files"][0]
        return send_file(res["outputs"]["simulation"], as_attachment=True,
                         download_name=f"{Path(res['name']).stem}_シミュレーション.xlsx")

    def _template(key: str) -> tuple[Path, str]:
        if key in store.templates:
            t = store.templates[key]
            return t["path"], t["name"]
        for t in A.bundled_templates():
            if t["id"] == key:
                return t["path"], t["path"].name
        abort(404)

    return web


def _error(status: int, message: str):
    """A Japanese one-line error: JSON for the page's scripts, text otherwise."""
    if request.path.startswith("/api/"):
        return make_response(jsonify({"error": message}), status)
    response = make_response(f"<!doctype html><meta charset=utf-8><title>xlsgen</title>"
                             f"<p>{_escape(message)}</p>", status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _public(job: str, index: int, res: dict) -> dict:
    """The JSON the page shows for one file (no server paths)."""
    downloads = {OUTPUT_LABELS[k]: f"/download/{job}/{index}/{k}" for k in res["outputs"]}
    return {"name": res["name"], "ok": res["ok"], "reason": res.get("reason"),
            "layout": res.get("layout"), "sheets": res.get("sheets", 0), "kpis": res.get("kpis", 0),
            "findings": [{k: f.get(k) for k in ("severity", "code", "sheet", "cell", "message")}
                         for f in res["findings"]],
            "notes": res.get("notes", []), "edition_year": res.get("edition_year"),
            "audit_findings": res.get("audit_findings"), "downloads": downloads}


def _download_name(res: dict, kind: str) -> str:
    stem = Path(res["name"]).stem
    if kind == "edition":
        from xlsgen.wareki import FiscalYear

        return f"{stem}_{FiscalYear(res['edition_year']).short}.xlsx"
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
