// xlsgen serve, the 照会と回収 tab: send the master, download the forms, drop the forms that
// come back, watch the status table fill, download the merged master and its diff.
// Every round lives on the server for its whole run (GET /api/rounds); the address holds
// the round shown (#round=<id>), so a reload or the back button brings it back.
// Uses the helpers of app.js ($, $$, el, text, announce, request, MAX_MB).
"use strict";

(() => {
  const state = { id: null, data: null, timer: null, sending: 0, open: new Set(), shown: {} };
  const view = $("#round-view");

  function setRoundBar(box, fraction, words, label) {
    const pct = Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100);
    const bar = $(".bar", box);
    $(".fill", bar).style.width = `${pct}%`;
    bar.setAttribute("aria-valuenow", String(pct));
    bar.setAttribute("aria-valuetext", words || `${pct}%`);
    bar.setAttribute("aria-label", label);
    text($(".progress-text", box), words || "");
  }

  // 「数値の入力」シート G10 (a cell said in words, for the problem lists)
  function cellWords(ref) {
    if (!ref) return "";
    const i = ref.lastIndexOf("!");
    return i < 0 ? ref : `「${ref.slice(0, i)}」シート ${ref.slice(i + 1)}`;
  }

  // --- the list of rounds ---------------------------------------------------------------
  async function loadRounds() {
    const res = await request("GET", "/api/rounds");
    if (res.data.error) { text($("#round-note"), res.data.error); return; }
    const list = $("#round-list");
    list.textContent = "";
    const rounds = res.data.rounds || [];
    rounds.forEach((r) => {
      const li = el("li");
      const b = el("button", "link-button", `${r.created_text} ${r.master_name}`);
      b.type = "button";
      if (r.id === state.id) b.setAttribute("aria-current", "true");
      b.addEventListener("click", () => { setView({ round: r.id }, true); show(r.id); });
      li.append(b, el("span", "round-text", r.text ? ` — ${r.text}` : ""));
      list.appendChild(li);
    });
    $("#round-history").hidden = rounds.length === 0;
    $("#new-round").hidden = !state.id;
    return rounds;
  }

  async function show(id) {
    if (!id) {
      state.id = null;
      state.data = null;
      view.textContent = "";
      $("#round-start").hidden = false;
      const rounds = await loadRounds();
      return rounds;
    }
    if (state.id !== id) {
      state.id = id;
      state.data = null;
      state.shown = {};
      state.open.clear();
      view.textContent = "";
    }
    const res = await request("GET", `/api/rounds/${encodeURIComponent(id)}`);
    if (state.id !== id) return null;
    if (res.data.error) {
      state.id = null;
      view.textContent = "";
      $("#round-start").hidden = false;
      text($("#round-note"), res.data.error);
      loadRounds();
      return null;
    }
    render(res.data);
    loadRounds();
    return res.data;
  }

  function schedule() {
    if (state.timer) return;
    const busy = state.data && (state.data.busy || state.sending > 0);
    if (!busy) return;
    state.timer = setTimeout(async () => {
      state.timer = null;
      if (!state.id) return;
      const res = await request("GET", `/api/rounds/${encodeURIComponent(state.id)}`);
      if (res.data.error) { text($("#round-note"), res.data.error); return; }
      if (res.data.id === state.id) render(res.data);
      if (!res.data.busy) loadRounds();
    }, 400);
  }

  // --- rendering (each part only when its data changed: open lists and focus stay) --------
  function changed(part, value) {
    const sig = JSON.stringify(value);
    if (state.shown[part] === sig) return false;
    state.shown[part] = sig;
    return true;
  }

  function keepFocus(box, fn) {
    const active = document.activeElement;
    const key = active && box.contains(active) ? active.dataset.key : null;
    fn();
    if (key) {
      const again = $(`[data-key="${CSS.escape(key)}"]`, box);
      if (again) again.focus();
    }
  }

  function render(data) {
    const was = state.data;
    state.data = data;
    $("#round-start").hidden = true;
    let root = $(".round", view);
    if (!root) {
      root = $("#round-template").content.firstElementChild.cloneNode(true);
      root.dataset.round = data.id;
      wire(root);
      view.appendChild(root);
    }
    renderMaster(root, data);
    renderCollect(root, data);
    renderResult(root, data);
    if (was && was.busy && !data.busy) announce(doneWords(data));
    schedule();
  }

  function doneWords(data) {
    const c = data.collection;
    if (c && c.state === "done" && c.result) {
      const s = c.result.summary;
      return `回収しました: 提出 ${s.submitted} / ${s.owners}、反映 ${s.applied} セル`;
    }
    if (data.distribution && data.distribution.state === "done") return "照会様式ができました";
    if (data.info) return "ブックを読み取りました。照会する年度版を選んでください";
    return "処理が終わりました";
  }

  function stepProgress(box, step, label) {
    const busy = step && (step.state === "queued" || step.state === "running");
    box.hidden = !busy;
    if (busy) {
      const p = step.progress || {};
      setRoundBar(box, p.fraction || 0, p.text || step.state_label, label);
    }
  }

  function renderMaster(root, data) {
    const card = $(".step-master", root);
    text($(".master-name", card), data.master_name);
    const info = data.info;
    text($(".master-about", card), info ? `（${info.layout_title}・${info.edition_label}・施策 ${info.measures}）` : "");
    const dist = data.distribution;
    const read = data.read;
    const busyStep = read && ["queued", "running"].includes(read.state) ? read : dist;
    stepProgress($(".step-progress", card), busyStep, "読み取りと様式づくりの進み具合");
    const error = (read && read.state !== "done" && read.message) || (dist && dist.state !== "done" && dist.message) || "";
    text($(".master-error", card), error);
    const distributed = dist && dist.state === "done" && dist.result;
    const choose = $(".choose", card);
    choose.hidden = !info || distributed || (dist && ["queued", "running"].includes(dist.state));
    if (info && changed("choices", info.choices)) {
      const list = $(".choices", card);
      list.textContent = "";
      info.choices.forEach((c, i) => {
        const li = el("li", c.recommended ? "choice recommended" : "choice");
        const b = el("button", c.recommended ? "button primary" : "button", c.label);
        b.type = "button";
        b.dataset.key = `choice-${c.edition}`;
        const about = el("span", "about", c.about + (c.recommended ? "（おすすめ）" : ""));
        about.id = `choice-about-${data.id}-${i}`;
        b.setAttribute("aria-describedby", about.id);
        b.addEventListener("click", () => distribute(c.edition));
        li.append(b, about);
        list.appendChild(li);
      });
    }
    const box = $(".dist", card);
    box.hidden = !distributed;
    if (distributed && changed("dist", dist.result)) {
      const r = dist.result;
      text($(".dist-summary", card), `${r.edition_label}の照会様式 ${r.forms.length} 件（${r.asks_label}の実績と評価）と、回収先のマスター（${r.master_name}）を作りました。`
        + (r.due ? ` 提出期限: ${r.due}。` : "") + (r.contact ? ` 問い合わせ先: ${r.contact}。` : ""));
      const a = $(".forms-zip", card);
      a.href = r.zip_url;
      a.setAttribute("download", r.zip_name);
      text(a, `照会様式と回収先マスター（${r.zip_name}）`);
      text($(".dist-hint", card), `zip の中: 回収先のマスター ${r.master_name} と、「各課に送る様式」フォルダ（課ごとの様式 ${r.forms.length} ファイル）。`
        + "様式を各課に送り、戻ってきたら下の「2. 戻ってきた様式を回収する」にドロップしてください。マスターは回収が終わるまで変更しないでください。");
      const tbody = $(".forms-table tbody", card);
      tbody.textContent = "";
      r.forms.forEach((f) => {
        const tr = el("tr");
        tr.append(el("td", null, f.owner), el("td", "file", f.file), el("td", "num", `${f.inputs}（数値 ${f.numbers}・文章 ${f.texts}）`),
          el("td", null, f.measures.join("、")));
        tbody.appendChild(tr);
      });
      const notes = $(".notes", card);
      notes.textContent = "";
      r.notes.forEach((n) => notes.appendChild(el("li", null, n)));
    }
  }

  function renderCollect(root, data) {
    const card = $(".step-collect", root);
    card.hidden = !data.info;
    if (!data.info) return;
    text($(".collect-hint", card), `回収先: ${data.collect_into}。1ファイル ${MAX_MB} MB まで、何ファイルでも、届いた順に何回でも送れます。`
      + "同じ課の様式がもう一度届いたときは、後から保存された方に差し替えます。送るたびに、受け取ったすべての様式でマスターを作り直します。");
    const col = data.collection;
    // forms on their way: those the server is checking, and those this page is still sending
    const inFlight = data.forms.filter((f) => ["queued", "checking"].includes(f.state)
      || (f.state === "pending" && state.sending > 0)).length;
    const box = $(".collect-progress", card);
    const busy = col && ["queued", "running"].includes(col.state);
    if (inFlight && !busy) {
      box.hidden = false;
      setRoundBar(box, 0.05, `様式を受け取り中（${inFlight} ファイル）`, "回収の進み具合");
    } else {
      stepProgress(box, col, "回収の進み具合");
    }
    text($(".collect-error", card), col && col.state === "failed" ? col.message : col && col.state === "cancelled" ? col.message : "");
    $(".retry-line", card).hidden = !(col && ["failed", "cancelled"].includes(col.state) && data.forms.some((f) => f.state === "received"));
    const result = col && col.result;
    const owners = data.owners || [];
    if (changed("owners", [owners, result ? result.summary : null, data.waiting])) {
      keepFocus(card, () => statusTable(card, owners));
      const s = result ? result.summary : null;
      text($(".status-summary", card), s
        ? `提出 ${s.submitted} / ${s.owners}（未提出 ${s.missing}）・反映 ${s.applied} セル・エラー ${s.errors}・警告 ${s.warnings}・受け付けなかったファイル ${s.rejected_files}`
          + (data.waiting > 0 ? `（ほか ${data.waiting} ファイルを回収中）` : "")
        : owners.length ? `まだ様式を受け取っていません（${owners.length} の課・施策に照会中）。` : "まだ様式を受け取っていません。");
    }
    const rejected = (result ? result.rejected : []).map((r) => ({ ...r, why: r.reason }))
      .concat((data.refused || []).map((r) => ({ ...r, why: r.reason })));
    if (changed("rejected", rejected)) {
      const list = $(".rejected", card);
      list.textContent = "";
      rejected.forEach((r) => {
        const li = el("li");
        li.append(el("strong", "file", r.file), el("span", "when", r.received_text ? `（${r.received_text} 受付）` : ""),
          el("span", null, `: ${r.why}`));
        list.appendChild(li);
      });
      $(".rejected-block", card).hidden = rejected.length === 0;
    }
  }

  function statusTable(card, owners) {
    const tbody = $(".status-table tbody", card);
    tbody.textContent = "";
    owners.forEach((o, n) => {
      const tr = el("tr", o.status === "提出" ? "submitted" : "missing");
      const th = el("th", null, o.owner);
      th.scope = "row";
      tr.appendChild(th);
      const st = el("td");
      st.appendChild(el("span", `status ${o.status === "提出" ? "ok" : "off"}`, o.status));
      tr.appendChild(st);
      tr.append(el("td", "num", o.status === "提出" ? `${o.filled} / ${o.inputs}` : `0 / ${o.inputs}`),
        el("td", "num", o.status === "提出" ? String(o.empty) : "-"),
        el("td", "num", o.status === "提出" ? String(o.applied) : "-"));
      const pr = el("td", "num");
      const items = o.items || [];
      const listId = `problems-${state.id}-${n}`;
      if (items.length) {
        const b = el("button", "button small expander", "");
        b.type = "button";
        b.dataset.key = `problems-${o.owner}`;
        b.setAttribute("aria-controls", listId);
        const open = state.open.has(o.owner);
        b.setAttribute("aria-expanded", String(open));
        const label = () => {
          b.textContent = "";
          b.append(el("span", "visually-hidden", `${o.owner}の指摘: `),
            state.open.has(o.owner) ? "閉じる" : `${items.length} 件を表示`);
        };
        label();
        b.addEventListener("click", () => {
          const now = !state.open.has(o.owner);
          if (now) state.open.add(o.owner); else state.open.delete(o.owner);
          b.setAttribute("aria-expanded", String(now));
          label();
          $(`#${CSS.escape(listId)}`).hidden = !now;
        });
        pr.append(el("span", o.problems ? "count-badge warn" : "count-badge", String(o.problems)), b);
      } else {
        text(pr, o.status === "提出" ? "0" : "-");
      }
      tr.appendChild(pr);
      const file = el("td", "file");
      if (o.file) {
        file.appendChild(el("span", "name", o.file));
        file.appendChild(el("span", "when", `保存 ${o.saved_text || "不明"}${o.received_text ? `・受付 ${o.received_text}` : ""}`));
        if (o.replaced && o.replaced.length) file.appendChild(el("span", "replaced", `差し替え前: ${o.replaced.join("、")}`));
      } else {
        text(file, "-");
      }
      tr.appendChild(file);
      tbody.appendChild(tr);
      if (items.length) {
        const row = el("tr", "problem-row");
        row.id = listId;
        row.hidden = !state.open.has(o.owner);
        const td = el("td");
        td.colSpan = 7;
        td.appendChild(el("p", "problem-head", `${o.owner}の指摘（${o.file}、保存 ${o.saved_text || "不明"}${o.received_text ? `、受付 ${o.received_text}` : ""}）`));
        const ul = el("ul", "problems");
        items.forEach((p) => {
          const li = el("li", `problem ${p.severity}`);
          li.title = `種類: ${p.code}`;
          li.append(el("span", `sev ${p.severity}`, p.severity_label),
            el("span", "where", `様式の${cellWords(p.form_cell)}` + (p.master_cell ? `（マスターの${cellWords(p.master_cell)}）` : "")),
            el("span", "what", p.message));
          ul.appendChild(li);
        });
        td.appendChild(ul);
        row.appendChild(td);
        tbody.appendChild(row);
      }
    });
  }

  function renderResult(root, data) {
    const card = $(".step-result", root);
    const col = data.collection;
    const result = col && col.result;
    card.hidden = !result;
    if (!result) return;
    const base = data.base;
    const checking = base && ["queued", "checking"].includes(base.state);
    text($(".compare-text", card), checking ? `比べるブック ${base.name} を確認しています…`
      : data.compare_with === data.collect_into
        ? "いまは配ったときのマスターと比べています（今回の回収で変わったところ）。昨年度版と比べると、目標の引き下げなども分かります。"
        : `比べるブック: ${data.compare_with}`);
    text($(".diff-error", card), (base && base.state === "refused" && base.message) || result.diff.error || "");
    if (!changed("result", [result.downloads, result.diff])) return;
    const links = $(".result-downloads", card);
    links.textContent = "";
    result.downloads.forEach((d) => {
      const a = el("a", d.kind === "merged" ? "button primary" : "button", d.label);
      a.href = d.url;
      a.setAttribute("download", d.file);
      a.dataset.kind = d.kind;
      a.title = d.file;
      links.appendChild(a);
    });
    const diff = result.diff;
    text($(".result-hint", card), `回収後のマスター: ${result.downloads[0].file}（回収状況・回収の指摘・変更履歴のシート付き）。`
      + (diff.error ? "" : `変更点のセルのリンクは、比べた2つのブック（${diff.old} と ${diff.new}）と同じフォルダに置くと開けます（一式の zip はそのまま使えます）。`));
    $(".diff-table", card).closest(".table-wrap").hidden = !!diff.error;
    $(".filters", card).hidden = !!diff.error;
    $(".flagged", card).hidden = true;
    if (diff.error) {
      text($(".diff-title", card), `変更点: ${diff.old} → ${diff.new}`);
      text($(".diff-summary", card), "");
      return;
    }
    text($(".diff-title", card), `変更点: ${diff.old}（${diff.old_label}）→ ${diff.new}（${diff.new_label}）`);
    text($(".diff-summary", card), `${diff.counts_text}。` + (diff.flagged.length
      ? `監査の注意 ${diff.flagged.length} 件（うち目標の引き下げ ${diff.lowered} 件）。`
      : "目標・基準値の変更はありません。") + (diff.answered ? `うち今回の回答による変更 ${diff.answered} 件。` : "") + (diff.more ? `（ページには先頭の ${diff.changes.length} 件を表示しています。すべては変更点（Excel）にあります）` : ""));
    const callout = $(".flagged", card);
    callout.hidden = !diff.flagged.length;
    const fl = $(".flag-list", card);
    fl.textContent = "";
    diff.flagged.forEach((c) => {
      const li = el("li", c.flag === "target-lowered" ? "lowered" : "");
      li.append(el("strong", "flag-badge", `【${c.flag_label}】`),
        el("span", null, ` ${c.measure}　${c.kpi ? c.kpi + "　" : ""}${c.what}: ${c.old} → ${c.new}`),
        el("span", "cell", ` （${c.new_cell || c.old_cell || ""}）`));
      fl.appendChild(li);
    });
    const select = $(".diff-kind", card);
    const kinds = Array.from(new Set(diff.changes.map((c) => c.kind_label)));
    select.textContent = "";
    [["", "すべて"], ...(diff.flagged.length ? [["!flag", "監査の注意だけ"]] : []),
      ...(diff.answered ? [["!answered", "今回の回答だけ"]] : []), ...kinds.map((k) => [k, k])].forEach(([v, t]) => {
      const o = el("option", null, t);
      o.value = v;
      select.appendChild(o);
    });
    const filter = $(".diff-filter", card);
    filter.value = "";
    const tbody = $(".diff-table tbody", card);
    const draw = () => {
      const kind = select.value;
      const q = filter.value.trim().toLowerCase();
      tbody.textContent = "";
      let n = 0;
      diff.changes.forEach((c) => {
        if (kind === "!flag" ? !c.flag : kind === "!answered" ? !c.answered : kind && c.kind_label !== kind) return;
        if (q && !`${c.measure} ${c.kpi} ${c.what} ${c.old} ${c.new}`.toLowerCase().includes(q)) return;
        const tr = el("tr", c.flag ? `flag ${c.flag}` : "");
        tr.appendChild(el("td", null, c.measure));
        tr.appendChild(el("td", null, c.kpi || "-"));
        const what = el("td", null, c.what);
        if (c.flag) what.prepend(el("strong", "flag-badge", `【${c.flag_label}】`));
        if (c.answered) what.appendChild(el("span", "answered", "今回の回答"));
        tr.appendChild(what);
        tr.append(el("td", "old", c.old), el("td", "new", c.new), el("td", "cell", c.new_cell || c.old_cell || ""));
        tbody.appendChild(tr);
        n++;
      });
      text($(".diff-count", card), `${n} / ${diff.changes.length} 件を表示`);
    };
    select.onchange = draw;
    filter.oninput = draw;
    if (!diff.changes.length) {
      tbody.textContent = "";
      const tr = el("tr");
      const td = el("td", null, "変更はありません");
      td.colSpan = 6;
      tr.appendChild(td);
      tbody.appendChild(tr);
    } else {
      draw();
    }
  }

  // --- the clerk's actions ----------------------------------------------------------------
  function wire(root) {
    $$(".cancel-step", root).forEach((b) => b.addEventListener("click", async () => {
      const res = await request("POST", `/api/rounds/${state.id}/cancel`);
      if (res.data.error) { text($("#round-note"), res.data.error); return; }
      render(res.data);
      announce("中止しました");
    }));
    $(".choose-forms", root).addEventListener("click", () => $(".forms-input", root).click());
    $(".forms-input", root).addEventListener("change", (e) => { sendForms(Array.from(e.target.files)); e.target.value = ""; });
    $(".choose-base", root).addEventListener("click", () => $(".base-input", root).click());
    $(".base-input", root).addEventListener("change", async (e) => {
      const file = e.target.files[0];
      e.target.value = "";
      if (!file) return;
      const form = new FormData();
      form.append("file", file, file.name);
      const res = await request("POST", `/api/rounds/${state.id}/base`, form);
      if (res.data.error) { text($(".diff-error", root), `${file.name}: ${res.data.error}`); return; }
      render(res.data);
      announce(`${file.name} と比べ直しています`);
    });
    $(".recollect", root).addEventListener("click", async () => {
      const res = await request("POST", `/api/rounds/${state.id}/collect`);
      if (res.data.error) { text($(".forms-note", root), res.data.error); return; }
      render(res.data);
    });
    $(".delete-round", root).addEventListener("click", async () => {
      if (!window.confirm("この照会（送ったブック・受け取った様式・回収結果）を削除します。ダウンロードもできなくなります。よろしいですか？")) return;
      const res = await request("POST", `/api/rounds/${state.id}/delete`);
      if (res.data.error) { text($("#round-note"), res.data.error); return; }
      setView({ round: "" }, false);
      await show("");
      announce("照会を削除しました");
      $("#choose-master").focus();
    });
    zone($(".forms-drop", root));
  }

  function zone(box) {
    ["dragenter", "dragover"].forEach((ev) => box.addEventListener(ev, (e) => { e.preventDefault(); box.classList.add("over"); }));
    ["dragleave", "drop"].forEach((ev) => box.addEventListener(ev, () => box.classList.remove("over")));
  }

  async function distribute(edition) {
    const root = $(".round", view);
    const body = { edition, due: $(".due", root).value, contact: $(".contact", root).value };
    const res = await request("POST", `/api/rounds/${state.id}/distribute`, body);
    if (res.data.error) { text($(".master-error", root), res.data.error); return; }
    render(res.data);
    const heading = $(".step-master h2", root);  // the pressed button goes away: keep the focus in the step
    heading.tabIndex = -1;
    heading.focus();
    announce("照会様式を作っています");
  }

  async function sendMaster(files) {
    if (!files.length) return;
    const note = $("#round-note");
    text(note, files.length > 1 ? `ブックは1つずつ送ってください。${files[0].name} を送ります。` : "");
    const file = files[0];
    const box = $("#master-progress");
    box.hidden = false;
    const label = `${file.name} の送信の進み具合`;
    setRoundBar(box, 0, "送信中…", label);
    const form = new FormData();
    form.append("file", file, file.name);
    const res = await request("POST", "/api/rounds", form, (fr) => setRoundBar(box, fr, fr < 1 ? `送信中…（${Math.round(fr * 100)}%）` : "受け取り済み", label));
    box.hidden = true;
    if (res.data.error) { text(note, res.data.error); return; }
    state.id = res.data.id;
    state.shown = {};
    state.open.clear();
    view.textContent = "";
    setView({ round: res.data.id }, true);
    render(res.data);
    loadRounds();
    const heading = $(".step-master h2", view);
    if (heading) { heading.tabIndex = -1; heading.focus(); }
  }

  async function sendForms(files) {
    const root = $(".round", view);
    if (!files.length || !root || !state.id) return;
    const note = $(".forms-note", root);
    text(note, "");
    const id = state.id;
    const res = await request("POST", `/api/rounds/${id}/forms`, { files: files.map((f) => ({ name: f.name, size: f.size })) });
    if (res.data.error) { text(note, res.data.error); return; }
    const first = res.data.forms.length - files.length;
    render(res.data);
    const dupes = res.data.forms.slice(first).filter((f) => f.state === "duplicate").map((f) => f.name);
    if (dupes.length) text(note, `同じファイルが2回選ばれていました（${dupes.join("、")}）。1回だけ取り込みます。`);
    state.sending++;
    const failed = [];
    try {
      for (let i = 0; i < files.length; i++) {
        const entry = res.data.forms[first + i];
        if (!entry || entry.state !== "pending") continue;
        const form = new FormData();
        form.append("file", files[i], files[i].name);
        text(note, `送信中 ${i + 1} / ${files.length}: ${files[i].name}`);
        const sent = await request("POST", `/api/rounds/${id}/forms/${entry.index}`, form);
        if (sent.data.error) { failed.push(`${files[i].name}: ${sent.data.error}`); continue; }
        if (state.id === id) render(sent.data);
      }
      const sentCount = files.length - failed.length - dupes.length;
      text(note, [dupes.length ? `同じファイルが2回選ばれていました（${dupes.join("、")}）。1回だけ取り込みます。` : "",
        sentCount > 0 ? `${sentCount} ファイルを受け取りました。` : "", ...failed].filter(Boolean).join(" "));
    } finally {
      state.sending--;
      schedule();
    }
  }

  function drop(files) {
    const root = $(".round", view);
    if (root && state.data && state.data.info) sendForms(files);
    else if (!root) sendMaster(files);
    else if (state.data && state.data.read && ["failed", "cancelled"].includes(state.data.read.state)) {
      text($("#round-note"), "このブックは読み取れなかったため、様式を回収できません。「新しい照会を始める」から回収先のブックを送ってください");
    } else text($("#round-note"), "ブックの読み取りが終わってから様式を送ってください");
  }

  $("#choose-master").addEventListener("click", () => $("#master-input").click());
  $("#master-input").addEventListener("change", (e) => { sendMaster(Array.from(e.target.files)); e.target.value = ""; });
  $("#new-round").addEventListener("click", () => {
    setView({ round: "" }, true);
    show("");
    $("#choose-master").focus();
  });
  zone($("#master-drop"));

  let loaded = false;
  window.xlsgenRound = {
    show,
    drop,
    current: () => state.id,
    load: () => { if (!loaded) { loaded = true; loadRounds(); } },
  };
  const view0 = readView();
  if (view0.round != null) show(view0.round);
})();
