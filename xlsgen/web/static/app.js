// xlsgen serve: vanilla JavaScript, no build step, no network beyond this server.
// The server keeps every upload and its results for its whole run; this page shows them
// from the server (GET /api/jobs) and the address (#job=…, #sim), so a reload or the back
// button brings the same view back.
"use strict";

const SEVERITY = { error: "エラー", warning: "警告" };
const PART_RANK = { input: 0, edition: 1, report: 2 };
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const MAX_MB = Number(document.body.dataset.maxMb);

function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }
function el(tag, cls, value) { const e = document.createElement(tag); if (cls) e.className = cls; if (value != null) text(e, value); return e; }
function announce(msg) { const a = $("#announce"); text(a, ""); setTimeout(() => text(a, msg), 50); }

function request(method, url, body, onUpload, xhrOut) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    if (xhrOut) xhrOut.xhr = xhr;
    xhr.open(method, url);
    if (onUpload) xhr.upload.onprogress = (e) => e.lengthComputable && onUpload(e.loaded / e.total);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status >= 400 && !(data && data.error)) {
        data = { error: xhr.status === 413 ? `ファイルが大きすぎます（1ファイル ${MAX_MB} MB まで）`
                                          : `サーバーが要求を処理できませんでした（${xhr.status}）` };
      }
      resolve({ status: xhr.status, data: data || {} });
    };
    xhr.onerror = () => resolve({ status: 0, data: { error: "xlsgen に接続できません。終了した場合は、デスクトップの「xlsgen」アイコンから起動し直してください" } });
    xhr.onabort = () => resolve({ status: -1, data: { error: "送信を中止しました" } });
    if (body && !(body instanceof FormData)) {
      xhr.setRequestHeader("Content-Type", "application/json");
      body = JSON.stringify(body);
    }
    xhr.send(body || null);
  });
}

// --- natural order (sheet 2 < sheet 10, H2 < H19 < H20) ----------------------------------
function naturalKey(s) {
  return String(s || "").normalize("NFKC").toLowerCase().split(/(\d+)/).filter((p) => p !== "")
    .map((p) => (/^\d+$/.test(p) ? [0, Number(p), ""] : [1, 0, p]));
}
function compareKeys(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (Array.isArray(x)) { const c = compareKeys(x, y); if (c) return c; continue; }
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a.length - b.length;
}
function cellKey(cell) {
  const m = /\$?([A-Z]{1,3})\$?(\d+)/.exec(cell || "");
  if (!m) return [1, 0, 0];
  const col = m[1].split("").reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0);
  return [0, col, Number(m[2])];
}
function excelRef(sheet, cell) {
  if (!cell) return sheet || "";
  return sheet ? `'${String(sheet).replace(/'/g, "''")}'!${cell}` : cell;
}

// --- tabs (role=tab, arrow keys) --------------------------------------------------------
const tabs = $$("[role=tab]");
function selectTab(tab, push) {
  tabs.forEach((t) => {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    t.classList.toggle("active", on);
    $("#" + t.getAttribute("aria-controls")).hidden = !on;
  });
  if (tab.id === "tab-sim") loadTemplates();
  const round = window.xlsgenRound;
  if (tab.id === "tab-round" && round) round.load();
  if (push) {
    if (tab.id === "tab-sim") setView({ sim: true }, true);
    else if (tab.id === "tab-round") setView({ round: round ? round.current() || "" : "" }, true);
    else setView({ job: currentJob }, true);
  }
}
tabs.forEach((tab, i) => {
  tab.addEventListener("click", () => selectTab(tab, true));
  tab.addEventListener("keydown", (e) => {
    let j = null;
    if (e.key === "ArrowRight") j = (i + 1) % tabs.length;
    else if (e.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = tabs.length - 1;
    if (j === null) return;
    e.preventDefault();
    tabs[j].focus();
    selectTab(tabs[j], true);
  });
});

// --- the view in the address: #job=<id>, #sim, #round or #round=<id> ----------------------
let currentJob = null;
function readView() {
  const h = new URLSearchParams(location.hash.slice(1));
  return { sim: h.has("sim"), job: h.get("job"), round: h.has("round") ? h.get("round") || "" : null };
}
function setView(view, push) {
  const hash = view.sim ? "#sim" : view.round != null ? (view.round ? `#round=${view.round}` : "#round")
    : view.job ? `#job=${view.job}` : "#";
  if (location.hash === hash) return;
  if (push) history.pushState(view, "", hash); else history.replaceState(view, "", hash);
}
function applyView() {
  const view = readView();
  if (view.round != null) {
    selectTab($("#tab-round"), false);
    if (window.xlsgenRound) window.xlsgenRound.show(view.round);
    return;
  }
  selectTab(view.sim ? $("#tab-sim") : $("#tab-books"), false);
  if (!view.sim && view.job) {
    currentJob = view.job;
    const section = $(`section.job[data-job="${view.job}"]`);
    if (section) {
      expandJob(section, true);
      section.scrollIntoView({ block: "start" });
    } else if (jobsLoaded) {
      showMissingJob(view.job);
    }
  }
}
window.addEventListener("popstate", applyView);

// --- past and present jobs ----------------------------------------------------------------
const jobs = new Map();       // id -> last JSON
const sending = new Set();    // "job:index" being sent by this page
const uploads = new Map();    // job id -> [{xhr}] to abort on cancel
let jobsLoaded = false;
let polling = null;

async function loadJobs() {
  const res = await request("GET", "/api/jobs");
  if (res.data.error) { text($("#drop-note"), res.data.error); return; }
  (res.data.jobs || []).slice().reverse().forEach((j) => renderJob(j));
  jobsLoaded = true;
  applyView();
  poll();
}

function showMissingJob(id) {
  if ($(`section.job[data-job="${id}"]`)) return;
  request("GET", `/api/jobs/${encodeURIComponent(id)}`).then((res) => {
    if (res.data.error) text($("#drop-note"), res.data.error);
  });
}

function renderJob(job) {
  jobs.set(job.id, job);
  let section = $(`section.job[data-job="${job.id}"]`);
  if (!section) {
    section = $("#job-template").content.firstElementChild.cloneNode(true);
    section.dataset.job = job.id;
    const body = $(".job-body", section);
    body.id = `job-body-${job.id}`;
    const toggle = $(".job-toggle", section);
    toggle.setAttribute("aria-controls", body.id);
    toggle.addEventListener("click", () => expandJob(section, toggle.getAttribute("aria-expanded") !== "true"));
    $(".cancel-job", section).addEventListener("click", () => cancelJob(job.id));
    $(".delete-job", section).addEventListener("click", () => deleteJob(job.id));
    $("#jobs").prepend(section);
    // older results fold away when a newer one arrives; the one in the address stays open
    $$("section.job", $("#jobs")).forEach((s) => { if (s !== section && s.dataset.job !== readView().job) expandJob(s, false); });
  }
  $("#history-empty").hidden = true;
  const n = job.files.length;
  text($(".job-title", section), `${job.created_text} に送信（${n} ファイル）`);
  const done = job.files.filter((f) => ["done", "failed", "cancelled", "duplicate", "refused"].includes(f.state)).length;
  text($(".job-state", section), job.status === "expired" ? "削除済み" : job.busy ? `処理中 ${done} / ${n}` : "完了");
  text($(".job-reason", section), job.status !== "active" ? job.reason : "");
  const summary = $(".summary-link", section), zip = $(".zip-link", section);
  summary.hidden = !job.summary_url;
  if (job.summary_url) summary.href = job.summary_url;
  zip.hidden = !job.zip_url;
  if (job.zip_url) zip.href = job.zip_url;
  const running = job.files.some((f) => !["done", "failed", "cancelled", "duplicate", "refused", "expired"].includes(f.state));
  $(".cancel-job", section).hidden = !running || job.status !== "active";
  $(".delete-job", section).hidden = job.status !== "active";
  const box = $(".files", section);
  job.files.forEach((f) => renderFile(box, job, f));
}

function expandJob(section, open) {
  const toggle = $(".job-toggle", section);
  toggle.setAttribute("aria-expanded", String(open));
  $(".job-body", section).hidden = !open;
}

const FINISHED = ["done", "failed", "cancelled", "duplicate", "refused", "expired"];

function renderFile(box, job, f) {
  let card = $(`article.file[data-index="${f.index}"]`, box);
  if (!card) {
    card = $("#file-template").content.firstElementChild.cloneNode(true);
    card.dataset.index = f.index;
    $(".cancel-file", card).addEventListener("click", () => cancelJob(job.id, f.index));
    box.appendChild(card);
  }
  const key = `${job.id}:${f.index}`;
  let state = f.state;
  if (state === "pending" && !sending.has(key)) state = "lost";
  if (card.dataset.state === state && FINISHED.includes(state)) return;  // finished cards keep their table state
  card.dataset.state = state;
  text($(".name", card), f.name);
  const status = $(".status", card);
  const r = f.result;
  if (state === "done" && r) {
    status.className = "status " + (r.errors ? "ng" : r.warnings ? "warn" : "ok");
    text(status, r.errors ? "エラー" : r.warnings ? "警告" : "OK");
    card.dataset.status = "done";
  } else if (FINISHED.includes(state) || state === "lost") {
    status.className = "status " + (state === "failed" || state === "refused" ? "ng" : "off");
    text(status, state === "lost" ? "未送信" : f.state_label);
    card.dataset.status = state === "failed" || state === "refused" ? "failed" : state;
  } else {
    status.className = "status busy";
    text(status, f.state_label || "処理中");
    delete card.dataset.status;
  }
  // progress
  const prog = $(".file-progress", card);
  const busy = !FINISHED.includes(state) && state !== "lost";
  prog.hidden = !busy;
  $(".cancel-file", card).setAttribute("aria-label", `${f.name} の処理を中止`);
  if (busy && !(state === "pending" && sending.has(key))) {
    const p = f.progress || {};
    setBar(card, p.fraction || 0, p.text || f.state_label);
  }
  // result
  text($(".summary", card), r && r.ok ? `様式: ${r.layout_title} ／ 施策 ${r.measures} ／ 指標 ${r.kpis} ／ エラー ${r.errors} 件・警告 ${r.warnings} 件`
    + (r.audit_findings != null ? ` ／ 監査の指摘 ${r.audit_findings} 件` : "") : "");
  const reason = $(".reason", card);
  text(reason, state === "lost" ? `${f.name}: 送信されていません（送信中にページを再読み込みしたか閉じたため）。もう一度ファイルを送ってください`
    : (r && r.reason) || (state !== "done" ? f.message : "") || "");
  if (reason.textContent) reason.setAttribute("role", "alert"); else reason.removeAttribute("role");
  const notes = $(".notes", card);
  notes.textContent = "";
  (r ? r.notes : []).forEach((n) => notes.appendChild(el("li", null, n)));
  if (state === "done" && f.message && r && !r.reason && !r.notes.includes(f.message)) notes.appendChild(el("li", null, f.message));
  const dl = $(".downloads", card);
  dl.textContent = "";
  (r && state === "done" ? r.downloads : []).forEach((d) => {
    const a = el("a", "button", d.label);
    a.href = d.url;
    a.setAttribute("download", d.file);
    a.dataset.kind = d.kind;
    a.title = d.kind === "edition" ? `翌年度版（${d.label}）: ${d.file}` : d.file;
    dl.appendChild(a);
  });
  const block = $(".findings-block", card);
  block.hidden = !(r && r.findings && r.findings.length);
  if (!block.hidden) findingsTable(card, r.findings);
}

function setBar(card, fraction, words) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  const bar = $(".bar", card);
  $(".fill", bar).style.width = `${pct}%`;
  bar.setAttribute("aria-valuenow", String(pct));
  bar.setAttribute("aria-valuetext", words || `${pct}%`);
  bar.setAttribute("aria-label", `${$(".name", card).textContent} の進み具合`);
  text($(".progress-text", card), words || "");
}

function poll() {
  if (polling) return;
  const busyIds = () => Array.from(jobs.values()).filter((j) => j.status === "active"
    && (j.busy || j.files.some((f) => f.state === "pending" && sending.has(`${j.id}:${f.index}`)))).map((j) => j.id);
  const tick = async () => {
    const ids = busyIds();
    if (!ids.length) { polling = null; return; }
    for (const id of ids) {
      const res = await request("GET", `/api/jobs/${id}`);
      if (res.status === 410 || res.status === 404) {
        const j = jobs.get(id);
        if (j) { j.status = "expired"; j.reason = res.data.error; j.busy = false; j.files = j.files.map((f) => ({ ...f, state: "expired" })); renderGone(id, res.data.error); }
      } else if (!res.data.error) {
        const before = jobs.get(id);
        renderJob(res.data);
        if (before && before.busy && !res.data.busy) announce(`${res.data.created_text} に送信したファイルの処理が終わりました`);
      }
    }
    polling = setTimeout(tick, 600);
  };
  polling = setTimeout(tick, 300);
}

function renderGone(id, message) {
  const section = $(`section.job[data-job="${id}"]`);
  if (!section) return;
  text($(".job-reason", section), message);
  text($(".job-state", section), "削除済み");
  $$(".files, .job-actions", section).forEach((e) => { e.hidden = true; });
}

async function cancelJob(id, index) {
  (uploads.get(id) || []).forEach((u, i) => { if (index == null || u.index === index) u.xhr && u.xhr.abort(); });
  const res = await request("POST", `/api/jobs/${id}/cancel`, index == null ? {} : { index });
  if (res.data.error) { text($("#drop-note"), res.data.error); return; }
  renderJob(res.data);
  announce("中止しました");
  poll();
}

async function deleteJob(id) {
  const job = jobs.get(id);
  if (!window.confirm(`${job ? job.created_text + " に送信した" : ""}結果を一覧から削除します。ダウンロードもできなくなります。よろしいですか？`)) return;
  (uploads.get(id) || []).forEach((u) => u.xhr && u.xhr.abort());
  const res = await request("POST", `/api/jobs/${id}/delete`);
  if (res.data.error) { text($("#drop-note"), res.data.error); return; }
  jobs.delete(id);
  const section = $(`section.job[data-job="${id}"]`);
  if (section) section.remove();
  $("#history-empty").hidden = jobs.size > 0;
  if (readView().job === id) setView({}, false);
  announce("一覧から削除しました");
  $("#choose-books").focus();
}

// --- sending books -------------------------------------------------------------------------
const drop = $("#drop");
const input = $("#book-input");
["dragenter", "dragover"].forEach((ev) => drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((ev) => drop.addEventListener(ev, () => drop.classList.remove("over")));
// A file dropped anywhere on the page is sent, never opened by the browser instead.
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => {
  e.preventDefault();
  if (!$("#books").hidden && e.dataTransfer) sendBooks(Array.from(e.dataTransfer.files));
  else if (!$("#round").hidden && e.dataTransfer && window.xlsgenRound) window.xlsgenRound.drop(Array.from(e.dataTransfer.files));
});
$("#choose-books").addEventListener("click", () => input.click());
input.addEventListener("change", () => { sendBooks(Array.from(input.files)); input.value = ""; });

async function sendBooks(files) {
  if (!files.length) return;
  text($("#drop-note"), "");
  const res = await request("POST", "/api/jobs", { files: files.map((f) => ({ name: f.name, size: f.size })) });
  if (!res.data.id) { text($("#drop-note"), res.data.error || "開始できません"); return; }
  const job = res.data;
  currentJob = job.id;
  setView({ job: job.id }, true);
  const dupes = job.files.filter((f) => f.state === "duplicate").map((f) => f.name);
  if (dupes.length) text($("#drop-note"), `同じファイルが2回選ばれていました（${dupes.join("、")}）。1回だけ処理します。`);
  job.files.forEach((f) => { if (f.state === "pending") sending.add(`${job.id}:${f.index}`); });
  renderJob(job);
  const section = $(`section.job[data-job="${job.id}"]`);
  expandJob(section, true);
  section.scrollIntoView({ block: "nearest" });
  poll();
  const list = [];
  uploads.set(job.id, list);
  for (let i = 0; i < files.length; i++) {
    const f = job.files[i];
    const key = `${job.id}:${i}`;
    if (!f || f.state !== "pending") continue;
    const card = $(`article.file[data-index="${i}"]`, section);
    const form = new FormData();
    form.append("file", files[i], files[i].name);
    const handle = { index: i };
    list.push(handle);
    setBar(card, 0, "送信中…");
    const sent = await request("POST", `/api/jobs/${job.id}/books/${i}`, form,
      (fr) => setBar(card, fr * 0.05, fr < 1 ? `送信中…（${Math.round(fr * 100)}%）` : "受け取り済み（順番待ち）"), handle);
    sending.delete(key);
    const known = jobs.get(job.id);
    if (known && !sent.data.error) {  // the file's state as the server took it: keep polling
      known.files[i] = sent.data;
      known.busy = true;
      poll();
    }
    if (sent.data.error) {
      const j = jobs.get(job.id);
      if (j) j.files[i] = { ...j.files[i], state: sent.status === -1 ? "cancelled" : "refused", state_label: sent.status === -1 ? "中止" : "受け付けられません", message: `${files[i].name}: ${sent.data.error}` };
      card.dataset.state = "";
      renderFile($(".files", section), j || job, j ? j.files[i] : f);
    }
  }
  uploads.delete(job.id);
  poll();
}

// --- findings: groups, natural order, keyboard sorting ---------------------------------------
function findingsTable(card, groups) {
  const table = $("table.findings", card);
  const tbody = $("tbody", table);
  const base = groups.map((g, i) => ({ ...g, order: i }));
  let rows = base.slice();
  let sortKey = null, sortDir = 1;
  const sevRank = (g) => (g.severity === "error" ? 0 : 1);
  const keyOf = {
    severity: (g) => [sevRank(g)],
    part: (g) => [PART_RANK[g.part] ?? 3],
    sheet: (g) => [naturalKey(g.sheet), cellKey(g.cell)],
    cell: (g) => [cellKey(g.cell), naturalKey(g.sheet)],
    message: (g) => [naturalKey(g.message)],
  };
  const render = () => {
    const sev = $(".sev-filter", card).value;
    const q = $(".text-filter", card).value.trim().toLowerCase();
    tbody.textContent = "";
    let shown = 0;
    rows.forEach((g) => {
      if (sev && g.severity !== sev) return;
      const hay = `${g.part_label} ${g.items.map((i) => `${i.sheet || ""} ${i.cell || ""}`).join(" ")} ${g.message}`.toLowerCase();
      if (q && !hay.includes(q)) return;
      tbody.appendChild(findingRow(g));
      shown++;
    });
    text($(".count", card), `${shown} / ${rows.length} 件を表示`);
  };
  $$("th", table).forEach((th) => {
    const button = $("button.sort", th);
    const fresh = button.cloneNode(true);  // a card re-rendered gets one listener only
    button.replaceWith(fresh);
    fresh.addEventListener("click", () => {
      const key = th.dataset.key;
      sortDir = sortKey === key ? -sortDir : 1;
      sortKey = key;
      rows = base.slice().sort((a, b) => (compareKeys(keyOf[key](a), keyOf[key](b)) || a.order - b.order) * sortDir);
      $$("th", table).forEach((h) => h.setAttribute("aria-sort", h === th ? (sortDir > 0 ? "ascending" : "descending") : "none"));
      render();
      announce(`${fresh.textContent}で${sortDir > 0 ? "昇順" : "降順"}に並べ替えました`);
    });
  });
  $(".sev-filter", card).onchange = render;
  $(".text-filter", card).oninput = render;
  table.parentElement.classList.toggle("findings-scroll", groups.length > 15);
  render();
}

let expanderId = 0;
function findingRow(g) {
  const tr = el("tr", g.severity);
  tr.appendChild(el("td", "sev", SEVERITY[g.severity] || g.severity));
  const part = el("td", "part", g.part_label);
  part.title = g.part === "edition" ? `このセルは翌年度版（${g.file || ""}）のセルです` : `このセルは送ったブック（${g.file || ""}）のセルです`;
  tr.appendChild(part);
  const sheets = Array.from(new Set(g.items.map((i) => i.sheet).filter(Boolean)));
  tr.appendChild(el("td", "sheet", sheets.length > 1 ? `${sheets[0]} ほか ${sheets.length - 1} シート` : (g.sheet || "-")));
  const cellTd = el("td", "cell");
  if (g.count > 1) {
    text(cellTd, `${g.cell || "-"} ほか ${g.count - 1}`);
  } else {
    cellTd.appendChild(el("span", "ref", g.cell || "-"));
    if (g.cell) cellTd.appendChild(copyButton(g.sheet, g.cell));
  }
  tr.appendChild(cellTd);
  const msg = el("td", "message");
  msg.appendChild(el("span", null, g.message));
  msg.title = `種類: ${g.code}`;
  if (g.count > 1) {
    const id = `cells-${++expanderId}`;
    const b = el("button", "button small expander", `${g.count} セルを表示`);
    b.type = "button";
    b.setAttribute("aria-expanded", "false");
    b.setAttribute("aria-controls", id);
    const list = el("ul", "cells");
    list.id = id;
    list.hidden = true;
    g.items.forEach((i) => {
      const li = el("li");
      li.appendChild(el("span", "ref", i.sheet ? `${i.sheet}!${i.cell}` : i.cell));
      li.appendChild(copyButton(i.sheet, i.cell));
      if (i.message) li.appendChild(el("span", "item-message", i.message));  // the odd one's own words
      list.appendChild(li);
    });
    b.addEventListener("click", () => {
      const open = b.getAttribute("aria-expanded") !== "true";
      b.setAttribute("aria-expanded", String(open));
      list.hidden = !open;
      text(b, open ? "セルの一覧を閉じる" : `${g.count} セルを表示`);
    });
    msg.append(" ", el("span", "count-badge", `（${g.count} セル）`), b, list);
  }
  tr.appendChild(msg);
  return tr;
}

function copyButton(sheet, cell) {
  const b = el("button", "button small copy", "コピー");
  b.type = "button";
  const ref = excelRef(sheet, cell);
  b.dataset.ref = ref;
  b.setAttribute("aria-label", `${sheet ? sheet + "!" : ""}${cell} をコピー`);
  b.addEventListener("click", () => copyText(ref));
  return b;
}

async function copyText(value) {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(value); ok = true; }
  } catch (e) { ok = false; }
  if (!ok) {
    const area = el("textarea", "visually-hidden");
    area.value = value;
    document.body.appendChild(area);
    area.select();
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
  }
  window.lastCopied = value;
  announce(ok ? `コピーしました: ${value}（Excel で Ctrl+G を押して貼り付けると、そのセルへ移動します）` : `コピーできませんでした。${value} を手で入力してください`);
}

// --- simulation ----------------------------------------------------------------------------
let templatesLoaded = false;
let currentTemplate = null;

async function loadTemplates() {
  if (templatesLoaded) return;
  templatesLoaded = true;
  const res = await request("GET", "/api/templates");
  const select = $("#template-select");
  (Array.isArray(res.data) ? res.data : []).forEach((t) => {
    const opt = el("option", null, `${t.title}${t.kind === "survey" ? "（アンケート集計）" : ""}`);
    opt.value = t.id;
    select.appendChild(opt);
  });
}

function simError(msg) {
  const box = $("#sim-error");
  text(box, msg || "");
}

$("#template-select").addEventListener("change", async (e) => {
  if (!e.target.value) return;
  const res = await request("GET", `/api/templates/${encodeURIComponent(e.target.value)}/drivers`);
  showDrivers(res.data);
});
$("#choose-template").addEventListener("click", () => $("#template-input").click());
$("#template-input").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  const form = new FormData();
  form.append("file", file, file.name);
  const res = await request("POST", "/api/templates", form);
  $("#template-select").value = "";
  showDrivers(res.data);
});

function formatNumber(value, unit) {
  if (value == null || value === "") return "";
  if (unit === "%") return `${Number((value * 100).toPrecision(12))}%`;
  return Number(value).toLocaleString("ja-JP", { maximumFractionDigits: 10, useGrouping: true });
}

// The same rule as the server: a number (commas and full-width digits allowed), or a
// percentage; at most 15 digits (Excel keeps no more).
function fieldProblem(raw) {
  const t = String(raw).normalize("NFKC").replace(/,/g, "").trim();
  if (!t) return "値を入れてください";
  const body = t.endsWith("%") ? t.slice(0, -1).trim() : t;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) return `「${raw}」は数値ではありません（例: 12,000 や 20%）`;
  const v = Number(body);
  if (!Number.isFinite(v)) return `「${raw}」は数値ではありません`;
  if (Math.abs(t.endsWith("%") ? v / 100 : v) > 1e15) return "大きすぎます（Excel で正確に扱えるのは 15 桁まで）";
  return null;
}

function markField(inputEl, problem) {
  const msg = $(`#${CSS.escape(inputEl.id)}-error`);
  inputEl.setAttribute("aria-invalid", problem ? "true" : "false");
  text(msg, problem || "");
  inputEl.closest(".driver").classList.toggle("invalid", !!problem);
}

function showDrivers(data) {
  $("#sim-result").hidden = true;
  if (data.error) {
    simError(data.error);
    $("#sim-form").hidden = true;
    return;
  }
  simError("");
  currentTemplate = data.id;
  text($("#sim-title"), data.title);
  const box = $("#drivers");
  box.textContent = "";
  let fieldset = null, section = null;
  data.drivers.forEach((d, i) => {
    if (d.section !== section) {
      section = d.section;
      fieldset = el("fieldset");
      fieldset.appendChild(el("legend", null, section));
      box.appendChild(fieldset);
    }
    const row = el("div", "driver");
    const label = el("label", null, d.label);
    const inputEl = el("input");
    inputEl.type = "text";
    inputEl.inputMode = "decimal";
    inputEl.name = d.name;
    inputEl.id = `driver-${i}`;
    inputEl.dataset.name = d.name;
    label.htmlFor = inputEl.id;
    inputEl.value = formatNumber(d.value, d.unit);
    inputEl.dataset.initial = inputEl.value;
    const unit = el("span", "unit", d.unit);
    unit.id = `${inputEl.id}-unit`;
    const note = el("span", "note", d.note);
    note.id = `${inputEl.id}-note`;
    const err = el("span", "field-error", "");
    err.id = `${inputEl.id}-error`;
    inputEl.setAttribute("aria-describedby", `${err.id} ${unit.id} ${note.id}`);
    inputEl.addEventListener("change", () => markField(inputEl, fieldProblem(inputEl.value)));
    inputEl.addEventListener("input", () => { if (inputEl.getAttribute("aria-invalid") === "true") markField(inputEl, fieldProblem(inputEl.value)); });
    row.append(label, inputEl, unit, note, err);
    fieldset.appendChild(row);
  });
  if (!data.drivers.length) box.appendChild(el("p", null, "このテンプレートには変えられる前提条件がありません（そのままブックを作ります）。"));
  $("#sim-form").hidden = false;
}

$("#sim-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const drivers = {};
  let firstBad = null;
  $$("#drivers input").forEach((i) => {
    const problem = i.value !== i.dataset.initial ? fieldProblem(i.value) : null;
    markField(i, problem);
    if (problem && !firstBad) firstBad = i;
    if (i.value !== i.dataset.initial) drivers[i.dataset.name] = i.value;
  });
  if (firstBad) {
    simError("入力に誤りがあります。印の付いた欄を直してください");
    firstBad.focus();
    return;
  }
  const button = $("#sim-form button[type=submit]");
  button.disabled = true;
  text(button, "作成中…");
  const res = await request("POST", "/api/simulate", { template: currentTemplate, drivers });
  button.disabled = false;
  text(button, "ブックを作る");
  if (res.data.error) {
    simError(res.data.error);
    const fields = res.data.fields || {};
    let first = null;
    $$("#drivers input").forEach((i) => { if (fields[i.dataset.name]) { markField(i, fields[i.dataset.name]); first = first || i; } });
    if (first) first.focus();
    $("#sim-result").hidden = true;
    return;
  }
  simError("");
  const list = $("#sim-lines");
  list.textContent = "";
  res.data.lines.forEach((l) => list.appendChild(el("li", null, l)));
  const link = $("#sim-download");
  link.href = res.data.download;
  link.setAttribute("download", res.data.file || "");
  $("#sim-result").hidden = false;
  $("#sim-result").focus();
});

// --- quitting ------------------------------------------------------------------------------
const quit = $("#quit");
if (quit) quit.addEventListener("click", async () => {
  if (!window.confirm("xlsgen を終了します。これまでの結果は消えます（ダウンロード済みのファイルは残ります）。よろしいですか？")) return;
  const res = await request("POST", "/api/quit");
  document.body.textContent = "";
  const main = el("main", "narrow");
  main.id = "main";
  const card = el("div", "card");
  card.appendChild(el("h1", null, "xlsgen を終了しました"));
  card.appendChild(el("p", null, res.data.message || "もう一度使うときは、デスクトップの「xlsgen」アイコンから起動してください"));
  main.appendChild(card);
  document.body.appendChild(main);
});

applyView();
loadJobs();
