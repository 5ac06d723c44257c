// Clientèle: the fixing grid. The server holds the rows and judges every edit; this script
// shows one page of rows at a time and moves around it like a spreadsheet:
// arrows move, Enter or F2 (or typing) edits, Enter saves and goes down, Tab saves and goes
// right, Escape cancels, Ctrl+Z undoes the last edit.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("fix");
  if (!root) return;
  const t = root.dataset;
  const base = t.base;
  const grid = document.getElementById("fix-grid");
  const head = grid.querySelector("thead");
  const body = grid.querySelector("tbody");
  const status = document.getElementById("fix-status");
  const counts = document.getElementById("fix-counts");
  const pager = document.getElementById("fix-pager");
  const showSel = document.getElementById("fix-show");
  const colSel = document.getElementById("fix-column");
  const codeSel = document.getElementById("fix-code");
  const undoBtn = document.getElementById("fix-undo");
  const issuesBox = document.getElementById("fix-issues");
  const replaceForm = document.getElementById("fix-replace-form");
  const replaceCol = document.getElementById("fix-replace-column");

  let columns = [];
  let rows = [];          // the page's rows, as the server sent them
  let offset = 0, total = 0, pageRows = 100;
  let focus = { r: 0, c: 0 };
  let editing = null;     // { td, input, before }
  let queue = Promise.resolve();

  const say = (text) => { status.textContent = text; };
  const post = (path, fields) => {
    const form = new URLSearchParams(fields);
    form.set("_csrf", t.csrf);
    return fetch(base + path, {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "Accept": "application/json" },
    }).then((r) => r.ok ? r.json() : Promise.reject(r.status));
  };
  const query = () => {
    const q = new URLSearchParams({ show: showSel.value, offset: String(offset) });
    if (colSel.value) q.set("column", colSel.value);
    if (codeSel.value) q.set("code", codeSel.value);
    return q;
  };

  function fillSelect(sel, items, allText) {
    const keep = sel.value;
    sel.textContent = "";
    const all = document.createElement("option");
    all.value = ""; all.textContent = allText;
    sel.append(all);
    items.forEach(([value, text]) => {
      const o = document.createElement("option");
      o.value = value; o.textContent = text;
      sel.append(o);
    });
    sel.value = [...sel.options].some((o) => o.value === keep) ? keep : "";
  }

  function summarise(s) {
    counts.textContent = `${s.errorRows} ${t.tErrorRows} · ${s.errors} ${t.tErrors}, ${s.warnings} ${t.tWarnings} · ${t.tRowsShown} ${Math.min(total, offset + 1)}–${Math.min(total, offset + rows.length)} ${t.tOf} ${total}`;
    undoBtn.disabled = s.undo === 0;
    fillSelect(codeSel, s.codes.map((c) => [c.code, `${c.field} — ${c.code} (${c.count})`]), t.tAllCodes);
  }

  function renderHead() {
    const tr = document.createElement("tr");
    const th0 = document.createElement("th");
    th0.scope = "col"; th0.textContent = t.tRow;
    tr.append(th0);
    columns.forEach((c) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.innerHTML = "";
      const b = document.createElement("b"); b.textContent = c.letter;
      th.append(b, " ", c.header);
      tr.append(th);
    });
    head.textContent = "";
    head.append(tr);
    const opts = columns.map((c) => [c.letter, `${c.letter} — ${c.header}`]);
    fillSelect(colSel, opts, t.tAllColumns);
    const keep = replaceCol.value;
    replaceCol.textContent = "";
    opts.forEach(([v, text]) => { const o = document.createElement("option"); o.value = v; o.textContent = text; replaceCol.append(o); });
    if (keep) replaceCol.value = keep;
  }

  function renderRow(tr, row) {
    tr.textContent = "";
    tr.dataset.row = row.row;
    const th = document.createElement("th");
    th.scope = "row"; th.textContent = row.row;
    const rowBad = row.issues.some((i) => i.severity === "error");
    tr.className = rowBad ? "bad-row" : (row.issues.length ? "warn-row" : "ok-row");
    tr.append(th);
    columns.forEach((c, ci) => {
      const td = document.createElement("td");
      td.tabIndex = -1;
      td.dataset.c = ci;
      td.dataset.column = c.letter;
      td.textContent = row.cells[ci];
      const mine = row.issues.filter((i) => i.column === c.letter);
      if (mine.some((i) => i.severity === "error")) td.classList.add("bad");
      else if (mine.length) td.classList.add("warn");
      if (row.edited[ci]) td.classList.add("edited");
      if (mine.length) td.title = mine.map((i) => i.message).join("\n");
      td.setAttribute("aria-invalid", mine.some((i) => i.severity === "error") ? "true" : "false");
      tr.append(td);
    });
  }

  function renderPager() {
    pager.textContent = "";
    const pages = Math.max(1, Math.ceil(total / pageRows));
    const current = Math.floor(offset / pageRows);
    const add = (label, page, disabled, currentPage) => {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = label; b.disabled = disabled;
      if (currentPage) b.setAttribute("aria-current", "page");
      b.addEventListener("click", () => { offset = page * pageRows; load(); });
      pager.append(b);
    };
    add("‹", current - 1, current === 0);
    const shown = new Set([0, pages - 1, current - 2, current - 1, current, current + 1, current + 2]);
    let last = -1;
    [...shown].filter((p) => p >= 0 && p < pages).sort((a, b) => a - b).forEach((p) => {
      if (last >= 0 && p > last + 1) pager.append(" … ");
      add(String(p + 1), p, false, p === current);
      last = p;
    });
    add("›", current + 1, current >= pages - 1);
  }

  function cell(r, c) {
    const tr = body.rows[r];
    return tr ? tr.cells[c + 1] : null;
  }

  function showIssues(r) {
    issuesBox.textContent = "";
    const row = rows[r];
    if (!row || !row.issues.length) return;
    const h = document.createElement("h3");
    h.textContent = `${t.tRow} ${row.row}`;
    const ul = document.createElement("ul");
    row.issues.forEach((i) => {
      const li = document.createElement("li");
      li.className = i.severity === "error" ? "bad" : "warn";
      const code = document.createElement("code"); code.textContent = i.code;
      li.append(`${i.column || ""} — ${i.message} `, code);
      ul.append(li);
    });
    issuesBox.append(h, ul);
  }

  function moveTo(r, c) {
    if (!body.rows.length) return;
    r = Math.max(0, Math.min(body.rows.length - 1, r));
    c = Math.max(0, Math.min(columns.length - 1, c));
    const old = cell(focus.r, focus.c);
    if (old) old.tabIndex = -1;
    focus = { r, c };
    const td = cell(r, c);
    if (!td) return;
    td.tabIndex = 0;
    td.focus();
    showIssues(r);
  }

  function startEdit(initial) {
    const td = cell(focus.r, focus.c);
    if (!td || editing) return;
    const before = td.textContent;
    const input = document.createElement("input");
    input.value = initial === undefined ? before : initial;
    input.setAttribute("aria-label", `${columns[focus.c].header}, ${t.tRow} ${rows[focus.r].row}`);
    td.textContent = "";
    td.append(input);
    td.classList.add("editing");
    editing = { td, input, before, r: focus.r, c: focus.c };
    input.focus();
    if (initial === undefined) input.select();
  }

  function stopEdit(save, then) {
    if (!editing) return;
    const { td, input, before, r, c } = editing;
    editing = null;
    const value = input.value;
    td.classList.remove("editing");
    td.textContent = save ? value : before;
    if (then) then();
    if (save && value !== before) commit(r, c, value);
  }

  function apply(answer) {
    (answer.rows || []).forEach((row) => {
      const i = rows.findIndex((x) => x.row === row.row);
      if (i < 0) return;
      rows[i] = row;
      renderRow(body.rows[i], row);
    });
    const td = cell(focus.r, focus.c);
    if (td && !editing) { td.tabIndex = 0; if (grid.contains(document.activeElement) || document.activeElement === document.body) td.focus(); }
    summarise(answer.summary);
    showIssues(focus.r);
  }

  function commit(r, c, value) {
    const row = rows[r];
    say(t.tSaving);
    // One edit at a time, in order: each is judged on the rows as the previous left them.
    queue = queue.then(() => post("/cell", { row: row.row, column: columns[c].letter, value })
      .then((answer) => { apply(answer); say(t.tSaved); })
      .catch(() => { say(t.tFailed); load(); }));
  }

  function load() {
    say(t.tLoading);
    return fetch(`${base}/rows?${query()}`, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then((r) => r.ok ? r.json() : Promise.reject(r.status))
      .then((data) => {
        if (!columns.length) { columns = data.columns; renderHead(); }
        rows = data.rows; total = data.total; offset = data.offset; pageRows = data.pageRows;
        body.textContent = "";
        rows.forEach((row) => { const tr = document.createElement("tr"); renderRow(tr, row); body.append(tr); });
        if (!rows.length) {
          const tr = document.createElement("tr");
          const td = document.createElement("td");
          td.colSpan = columns.length + 1; td.textContent = t.tNoRows;
          tr.append(td); body.append(tr);
        }
        summarise(data.summary);
        renderPager();
        focus = { r: Math.min(focus.r, Math.max(0, rows.length - 1)), c: focus.c };
        const td = rows.length ? cell(focus.r, focus.c) : null;
        if (td) td.tabIndex = 0;
        say("");
        root.dataset.ready = "1";
      })
      .catch(() => say(t.tFailed));
  }

  body.addEventListener("click", (e) => {
    const td = e.target.closest("td[data-c]");
    if (!td || editing && editing.td === td) return;
    if (editing) stopEdit(true);
    moveTo(td.parentElement.sectionRowIndex, Number(td.dataset.c));
  });
  body.addEventListener("dblclick", (e) => {
    if (e.target.closest("td[data-c]")) startEdit();
  });
  grid.addEventListener("keydown", (e) => {
    if (editing) {
      if (e.key === "Enter") { e.preventDefault(); stopEdit(true, () => moveTo(focus.r + 1, focus.c)); }
      else if (e.key === "Tab") { e.preventDefault(); stopEdit(true, () => moveTo(focus.r, focus.c + (e.shiftKey ? -1 : 1))); }
      else if (e.key === "Escape") { e.preventDefault(); stopEdit(false, () => moveTo(focus.r, focus.c)); }
      return;
    }
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[e.key]) {
      e.preventDefault();
      moveTo(focus.r + moves[e.key][0], focus.c + moves[e.key][1]);
    } else if (e.key === "Tab" && !e.ctrlKey && !e.altKey) {
      const next = focus.c + (e.shiftKey ? -1 : 1);
      if (next >= 0 && next < columns.length) { e.preventDefault(); moveTo(focus.r, next); }
    } else if (e.key === "Enter" || e.key === "F2") {
      e.preventDefault(); startEdit();
    } else if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault(); startEdit("");
    } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") {
      e.preventDefault(); undo();
    } else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault(); startEdit(e.key);
    }
  });
  grid.addEventListener("focusout", (e) => {
    if (editing && e.target === editing.input) stopEdit(true);
  });

  function undo() {
    say(t.tSaving);
    queue = queue.then(() => post("/undo", {}).then((answer) => { apply(answer); say(t.tSaved); })
      .catch(() => say(t.tFailed)));
  }
  undoBtn.addEventListener("click", undo);
  [showSel, colSel, codeSel].forEach((s) => s.addEventListener("change", () => { offset = 0; load(); }));
  replaceForm.addEventListener("submit", (e) => {
    e.preventDefault();
    say(t.tSaving);
    const fields = { column: replaceCol.value, find: document.getElementById("fix-find").value,
      replace: document.getElementById("fix-with").value, show: "all" };
    queue = queue.then(() => post("/replace", fields)
      .then((answer) => { say(`${answer.replaced} ${t.tReplaced}`); return load().then(() => say(`${answer.replaced} ${t.tReplaced}`)); })
      .catch(() => say(t.tFailed)));
  });
  load();
});
