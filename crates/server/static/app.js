// Clientèle: a little progressive enhancement; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Drag and drop onto the upload zone.
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("file");
  if (zone && input) {
    ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
      }
    });
  }

  // "Skip invalid rows" enables the Import button.
  document.querySelectorAll("[data-enables]").forEach((box) => {
    const target = document.getElementById(box.dataset.enables);
    // The server refuses an import with errors anyway; without JavaScript the button stays on.
    const sync = () => { if (target) target.disabled = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });

  // Confirmation before destructive forms (undo).
  document.querySelectorAll("form[data-confirm]").forEach((f) => {
    f.addEventListener("submit", (e) => { if (!window.confirm(f.dataset.confirm)) e.preventDefault(); });
  });

  // Stored times are UTC: show them in the viewer's time zone (the UTC text stays in the
  // title; without script the page reads "… UTC").
  document.querySelectorAll("time[datetime]").forEach((t) => {
    const d = new Date(t.getAttribute("datetime"));
    if (Number.isNaN(d.getTime())) return;
    t.title = t.textContent;
    t.textContent = d.toLocaleString(document.documentElement.lang || undefined, {
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    });
    t.dataset.local = "1";
  });
  // Edit form: the communes of a typed French postal code, proposed for the city (a
  // datalist, and buttons that fill the city in).
  const hint = document.getElementById("communes-hint");
  const postal = document.getElementById("f-mainAddressPostalCode");
  const city = document.getElementById("f-mainAddressCity");
  const list = document.getElementById("communes");
  if (hint && postal && city && list) {
    const propose = async () => {
      const code = postal.value.trim();
      list.replaceChildren();
      hint.replaceChildren();
      if (!/^[0-9]{5}$/.test(code)) return;
      let names = [];
      try {
        const r = await fetch(hint.dataset.communesUrl + code, { headers: { Accept: "application/json" } });
        if (r.ok) names = await r.json();
      } catch (_) { return; }
      if (postal.value.trim() !== code || !names.length) return;
      hint.append(hint.dataset.label + " ");
      names.forEach((n) => {
        const o = document.createElement("option");
        o.value = n;
        list.append(o);
        const b = document.createElement("button");
        b.type = "button";
        b.className = "link commune";
        b.textContent = n;
        b.addEventListener("click", () => { city.value = n; city.focus(); });
        hint.append(b, " ");
      });
    };
    postal.addEventListener("input", propose);
    propose();
  }

  // Progress of a running check or import: poll, then reload for the report.
  const box = document.getElementById("progress");
  if (box) {
    const rows = document.getElementById("progress-rows");
    const tick = async () => {
      try {
        const r = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
        const p = await r.json();
        if (rows) rows.textContent = p.rows.toLocaleString();
        const queued = document.getElementById("progress-queued");
        if (queued) {
          queued.hidden = p.queued === null || p.queued === undefined;
          const ahead = document.getElementById("progress-ahead");
          if (ahead && !queued.hidden) ahead.textContent = p.queued.toLocaleString();
        }
        if (!p.running) { window.location.reload(); return; }
      } catch (_) { /* keep trying */ }
      setTimeout(tick, 700);
    };
    setTimeout(tick, 300);
  }
});
