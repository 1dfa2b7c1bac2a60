// xlsgen serve: vanilla JavaScript, no build step, no network beyond this server.
"use strict";

const SEVERITY = { error: "エラー", warning: "警告" };
const $ = (sel, root = document) => root.querySelector(sel);

function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }

function request(method, url, body, onUpload) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    if (onUpload) xhr.upload.onprogress = (e) => e.lengthComputable && onUpload(e.loaded / e.total);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status >= 400 && !(data && data.error)) {
        data = { error: xhr.status === 413 ? "ファイルが大きすぎます。ファイルを分けて送ってください"
                                          : `サーバーが要求を処理できませんでした（${xhr.status}）` };
      }
      resolve({ status: xhr.status, data: data || {} });
    };
    xhr.onerror = () => resolve({ status: 0, data: { error: "サーバーに接続できません。xlsgen serve が動いているか確かめてください" } });
    if (body && !(body instanceof FormData)) {
      xhr.setRequestHeader("Content-Type", "application/json");
      body = JSON.stringify(body);
    }
    xhr.send(body || null);
  });
}

// --- tabs -----------------------------------------------------------------------------
document.querySelectorAll(".tab").forEach((tab) => tab.addEventListener("click", () => {
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === tab));
  document.querySelectorAll(".panel").forEach((p) => p.classList.toggle("active", p.id === tab.dataset.tab));
  if (tab.dataset.tab === "sim") loadTemplates();
}));

// --- workbooks ------------------------------------------------------------------------
const drop = $("#drop");
const input = $("#book-input");
let busy = false;

["dragenter", "dragover"].forEach((ev) => drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((ev) => drop.addEventListener(ev, () => drop.classList.remove("over")));
// A file dropped anywhere on the page is sent, never opened by the browser instead.
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => {
  e.preventDefault();
  if ($("#books").classList.contains("active") && e.dataTransfer) sendBooks(Array.from(e.dataTransfer.files));
});
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
const MAX_BYTES = Number(document.body.dataset.maxMb) * 1024 * 1024;
input.addEventListener("change", () => { sendBooks(Array.from(input.files)); input.value = ""; });

async function sendBooks(files) {
  if (!files.length || busy) return;
  busy = true;
  const results = $("#results");
  results.textContent = "";
  $("#batch").classList.add("hidden");
  const progress = $("#progress");
  progress.classList.remove("hidden");
  const setProgress = (done, msg) => { $("#bar-fill").style.width = `${Math.round(done * 100)}%`; text($("#progress-text"), msg); };
  setProgress(0, "準備中…");
  const job = await request("POST", "/api/jobs");
  if (!job.data.job) {
    setProgress(0, job.data.error || "開始できません");
    busy = false;
    return;
  }
  const id = job.data.job;
  let processed = 0;
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    const card = fileCard(file.name);
    results.appendChild(card);
    if (i === 0) card.scrollIntoView({ block: "nearest" });
    if (file.size > MAX_BYTES - 64 * 1024) {  // refused before sending (the server would answer 413)
      fillCard(card, { name: file.name, ok: false, findings: [], notes: [], downloads: {},
                       reason: `${file.name}: ファイルが大きすぎます（1回に送れるのは ${document.body.dataset.maxMb} MB までです）` });
      continue;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("rollforward_to", $("#year").value);
    const base = i / files.length;
    setProgress(base, `${i + 1} / ${files.length} 件目: ${file.name} を送信中…`);
    const res = await request("POST", `/api/jobs/${id}/books`, form, (f) => {
      setProgress(base + f / files.length * 0.3, f < 1 ? `${i + 1} / ${files.length} 件目: ${file.name} を送信中…`
                                                       : `${i + 1} / ${files.length} 件目: ${file.name} を処理中…（読み取り・検証・報告書・翌年度版・監査）`);
    });
    fillCard(card, res.data.error ? { name: file.name, ok: false, reason: res.data.error, findings: [], notes: [], downloads: {} } : res.data);
    if (!res.data.error) processed++;
  }
  setProgress(1, `${files.length} 件の処理が終わりました。`);
  if (processed) {
    $("#summary-link").href = `/download/${id}/${encodeURIComponent("検証結果.xlsx")}`;
    $("#zip-link").href = `/download/${id}/all.zip`;
    $("#zip-link").classList.toggle("hidden", files.length < 2);
    $("#batch").classList.remove("hidden");
  }
  busy = false;
}

function fileCard(name) {
  const card = $("#file-template").content.firstElementChild.cloneNode(true);
  text($(".name", card), name);
  const status = $(".status", card);
  status.className = "status busy";
  text(status, "処理中");
  $(".findings-block", card).classList.add("hidden");
  return card;
}

function fillCard(card, r) {
  const errors = r.findings.filter((f) => f.severity === "error").length;
  const warnings = r.findings.length - errors;
  const status = $(".status", card);
  status.className = "status " + (!r.ok ? "ng" : errors ? "ng" : warnings ? "warn" : "ok");
  text(status, !r.ok ? "失敗" : errors ? "エラー" : warnings ? "警告" : "OK");
  card.dataset.status = r.ok ? "done" : "failed";
  text($(".name", card), r.name);
  if (r.ok) {
    text($(".summary", card), `様式: ${r.layout} ／ 施策シート ${r.sheets} ／ 指標 ${r.kpis} ／ エラー ${errors} 件・警告 ${warnings} 件`
      + (r.audit_findings != null ? ` ／ 監査の指摘 ${r.audit_findings} 件` : ""));
  }
  text($(".reason", card), r.reason || "");
  const notes = $(".notes", card);
  (r.notes || []).forEach((n) => notes.appendChild(text(document.createElement("li"), n)));
  const dl = $(".downloads", card);
  Object.entries(r.downloads || {}).forEach(([label, url]) => {
    const a = text(document.createElement("a"), label);
    a.href = url;
    a.className = "button";
    a.setAttribute("download", "");
    dl.appendChild(a);
  });
  if (r.findings.length) {
    $(".findings-block", card).classList.remove("hidden");
    findingsTable(card, r.findings);
  }
}

function findingsTable(card, findings) {
  const table = $("table.findings", card);
  const tbody = $("tbody", table);
  const rank = (f) => (f.severity === "error" ? 0 : 1);
  let rows = findings.slice().sort((a, b) => rank(a) - rank(b));
  let sortKey = null, sortDir = 1;
  const render = () => {
    const sev = $(".sev-filter", card).value;
    const q = $(".text-filter", card).value.trim().toLowerCase();
    tbody.textContent = "";
    let shown = 0;
    rows.forEach((f) => {
      if (sev && f.severity !== sev) return;
      const hay = `${f.sheet || ""} ${f.cell || ""} ${f.message || ""} ${f.code || ""}`.toLowerCase();
      if (q && !hay.includes(q)) return;
      const tr = document.createElement("tr");
      tr.className = f.severity;
      [SEVERITY[f.severity] || f.severity, f.sheet || "-", f.cell || "-", f.message].forEach((v) => tr.appendChild(text(document.createElement("td"), v)));
      tbody.appendChild(tr);
      shown++;
    });
    text($(".count", card), `${shown} / ${rows.length} 件を表示`);
  };
  table.querySelectorAll("th").forEach((th) => th.addEventListener("click", () => {
    const key = th.dataset.key;
    sortDir = sortKey === key ? -sortDir : 1;
    sortKey = key;
    const val = (f) => (key === "severity" ? rank(f) : key === "cell" ? cellKey(f.cell) : (f[key] || ""));
    rows = rows.slice().sort((a, b) => {
      const x = val(a), y = val(b);
      return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
    });
    table.querySelectorAll("th").forEach((h) => h.setAttribute("aria-sort", h === th ? (sortDir > 0 ? "ascending" : "descending") : "none"));
    render();
  }));
  $(".sev-filter", card).addEventListener("change", render);
  $(".text-filter", card).addEventListener("input", render);
  if (rows.length > 15) table.parentElement.classList.add("findings-scroll");
  render();
}

function cellKey(cell) {
  const m = /^([A-Z]+)(\d+)$/.exec(cell || "");
  if (!m) return cell || "";
  const col = m[1].split("").reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0);
  return String(col).padStart(5, "0") + String(m[2]).padStart(8, "0");
}

// --- simulation -----------------------------------------------------------------------
let templatesLoaded = false;
let currentTemplate = null;

async function loadTemplates() {
  if (templatesLoaded) return;
  templatesLoaded = true;
  const res = await request("GET", "/api/templates");
  const select = $("#template-select");
  (Array.isArray(res.data) ? res.data : []).forEach((t) => {
    const opt = text(document.createElement("option"), `${t.title}${t.kind === "survey" ? "（アンケート集計）" : ""}`);
    opt.value = t.id;
    select.appendChild(opt);
  });
}

function simError(msg) {
  const el = $("#sim-error");
  text(el, msg || "");
  el.classList.toggle("hidden", !msg);
}

$("#template-select").addEventListener("change", async (e) => {
  if (!e.target.value) return;
  const res = await request("GET", `/api/templates/${encodeURIComponent(e.target.value)}/drivers`);
  showDrivers(res.data);
});

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

function showDrivers(data) {
  $("#sim-result").classList.add("hidden");
  if (data.error) {
    simError(data.error);
    $("#sim-form").classList.add("hidden");
    return;
  }
  simError("");
  currentTemplate = data.id;
  text($("#sim-title"), data.title);
  const box = $("#drivers");
  box.textContent = "";
  let fieldset = null, section = null;
  data.drivers.forEach((d) => {
    if (d.section !== section) {
      section = d.section;
      fieldset = document.createElement("fieldset");
      fieldset.appendChild(text(document.createElement("legend"), section));
      box.appendChild(fieldset);
    }
    const row = document.createElement("div");
    row.className = "driver";
    const label = text(document.createElement("label"), d.label);
    const inputEl = document.createElement("input");
    inputEl.type = "text";
    inputEl.name = d.name;
    inputEl.id = `driver-${d.name}`;
    label.htmlFor = inputEl.id;
    inputEl.value = d.unit === "%" && d.value != null ? `${+(d.value * 100).toFixed(6)}%` : (d.value == null ? "" : d.value);
    inputEl.dataset.initial = inputEl.value;
    row.append(label, inputEl, text(document.createElement("span"), d.unit), text(document.createElement("span"), d.note));
    row.lastChild.className = "note";
    fieldset.appendChild(row);
  });
  if (!data.drivers.length) box.appendChild(text(document.createElement("p"), "このテンプレートには変えられる前提条件がありません（そのままブックを作ります）。"));
  $("#sim-form").classList.remove("hidden");
}

$("#sim-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const drivers = {};
  $("#drivers").querySelectorAll("input").forEach((i) => { if (i.value !== i.dataset.initial) drivers[i.name] = i.value; });
  const button = $("#sim-form button");
  button.disabled = true;
  text(button, "作成中…");
  const res = await request("POST", "/api/simulate", { template: currentTemplate, drivers });
  button.disabled = false;
  text(button, "ブックを作る");
  if (res.data.error) {
    simError(res.data.error);
    $("#sim-result").classList.add("hidden");
    return;
  }
  simError("");
  const list = $("#sim-lines");
  list.textContent = "";
  res.data.lines.forEach((l) => list.appendChild(text(document.createElement("li"), l)));
  $("#sim-download").href = res.data.download;
  $("#sim-result").classList.remove("hidden");
  $("#sim-result").scrollIntoView({ block: "nearest" });
});
