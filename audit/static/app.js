// The review page: every request carries the token from the URL fragment; every value from
// the ledger is inserted as text (never HTML), since bodies are arbitrary request content.
"use strict";

const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const COLORS = ["#3b7dd8", "#e0843a", "#4aa36c", "#c94f6d", "#8a6bd1", "#b8a230", "#3aa6b9", "#777"];

async function api(path) {
  const res = await fetch(path, { headers: { "x-cogate-audit-token": token } });
  if (res.status === 401) {
    document.getElementById("auth-error").hidden = false;
    throw new Error("unauthorized");
  }
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function query() {
  const form = new FormData(document.getElementById("filters"));
  const params = new URLSearchParams();
  for (const [k, v] of form.entries()) {
    if (!v) continue;
    // "To" is inclusive for the user; the API's `until` is exclusive.
    if (k === "until") {
      const next = new Date(`${v}T00:00:00Z`);
      next.setUTCDate(next.getUTCDate() + 1);
      params.set(k, next.toISOString().slice(0, 10));
    } else params.set(k, v);
  }
  return params.toString();
}

async function loadFacets() {
  const facets = await api("/api/facets");
  const map = { app: "app", destination: "host", mode: "mode", entity: "entity" };
  for (const [field, key] of Object.entries(map)) {
    const select = document.querySelector(`select[name=${field}]`);
    for (const value of facets[key] || []) select.appendChild(el("option", value, { value }));
  }
}

async function loadVerify() {
  const badge = document.getElementById("verify");
  try {
    const r = await api("/api/verify");
    badge.className = `badge ${r.status}`;
    badge.dataset.status = r.status;
    if (r.status === "ok") {
      badge.textContent = `verified: ${r.size} entries, ${r.checkpoints} signed checkpoints` +
        (r.unsigned_tail ? ` (${r.unsigned_tail} not yet signed)` : "");
    } else if (r.status === "tampered") {
      badge.textContent = `TAMPERED — first bad entry ${r.first_bad ?? "?"}: ${r.problems[0].message}`;
    } else {
      badge.textContent = `cannot verify: ${r.cannot_verify}`;
    }
  } catch (e) {
    badge.textContent = "verification unavailable";
  }
}

async function loadEntries() {
  const data = await api(`/api/entries?${query()}`);
  const tbody = document.querySelector("#entries tbody");
  tbody.replaceChildren();
  document.getElementById("count").textContent = `${data.total} entries (showing ${data.items.length})`;
  for (const it of data.items) {
    const tr = el("tr", null, { "data-id": it.id });
    if (it.kind === "local") tr.classList.add("local");
    if (it.outcome === "outcome unknown") tr.classList.add("unknown");
    const ents = Object.entries(it.entities).map(([k, v]) => `${k} ×${v}`).join(", ") || "—";
    for (const cell of [it.id, (it.time || "").slice(0, 19).replace("T", " "), it.app,
      it.destination, it.mode, ents, it.bytes, it.status ? `${it.outcome} (${it.status})` : it.outcome]) {
      tr.appendChild(el("td", cell));
    }
    tr.addEventListener("click", () => showDetail(it.id, tr));
    tbody.appendChild(tr);
  }
}

async function showDetail(id, row) {
  document.querySelectorAll("tbody tr.selected").forEach((r) => r.classList.remove("selected"));
  row.classList.add("selected");
  const d = await api(`/api/entries/${encodeURIComponent(id)}`);
  const e = d.entry;
  const aside = document.getElementById("detail");
  aside.hidden = false;
  document.getElementById("detail-title").textContent = `Entry ${d.id} (${e.kind})`;
  const dl = document.getElementById("detail-fields");
  dl.replaceChildren();
  const dest = e.destination || {};
  const fields = [
    ["time", e.time],
    ["app", e.app],
    ["destination", e.kind === "local" ? "local — nothing left the device" : `${dest.method} ${dest.host}${dest.path}`],
    ["model", e.model],
    ["mode", e.mode],
    ["policy", `${e.policy.id} ${e.policy.hash}`],
    ["removed", Object.entries(e.entities || {}).map(([k, v]) => `${k} ×${v}`).join(", ") || "none"],
    ["value tags", (e.tags || []).length],
    ["outcome", d.summary ? `${d.summary.outcome}${d.summary.status ? ` (${d.summary.status})` : ""}` : ""],
    ["timings", d.completion ? JSON.stringify(d.completion.timings) : "—"],
    ["usage", d.completion && d.completion.usage ? JSON.stringify(d.completion.usage) : "—"],
    ["body", `${e.body.size} bytes, ${d.body_state}`],
    ["body hash", e.body.hash],
    ["entry hash", d.hash],
  ];
  for (const [k, v] of fields) { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v)); }
  const pre = document.getElementById("detail-body");
  pre.textContent = d.body ?? d.body_hex ?? `(${d.body_state})`;
}

function drawChart(svgId, legendId, days, series) {
  const svg = document.getElementById(svgId);
  const legend = document.getElementById(legendId);
  svg.replaceChildren();
  legend.replaceChildren();
  const keys = [...new Set(days.flatMap((d) => Object.keys(series[d] || {})))].sort();
  const W = 420, H = 150, pad = 20;
  const totals = days.map((d) => Object.values(series[d] || {}).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const bw = days.length ? Math.max(4, (W - 2 * pad) / days.length - 4) : 0;
  const ns = "http://www.w3.org/2000/svg";
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  days.forEach((day, i) => {
    let y = H - pad;
    keys.forEach((key, k) => {
      const v = (series[day] || {})[key] || 0;
      if (!v) return;
      const h = (v / max) * (H - 2 * pad);
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", pad + i * (bw + 4));
      rect.setAttribute("y", y - h);
      rect.setAttribute("width", bw);
      rect.setAttribute("height", h);
      rect.setAttribute("fill", COLORS[k % COLORS.length]);
      const title = document.createElementNS(ns, "title");
      title.textContent = `${day} ${key}: ${v}`;
      rect.appendChild(title);
      svg.appendChild(rect);
      y -= h;
    });
  });
  keys.forEach((key, k) => {
    const span = el("span", key);
    const swatch = el("i");
    swatch.style.background = COLORS[k % COLORS.length];
    span.prepend(swatch);
    legend.appendChild(span);
  });
}

async function loadCharts() {
  const c = await api(`/api/chart?${query()}`);
  drawChart("chart-dest", "legend-dest", c.days, c.by_destination);
  drawChart("chart-entity", "legend-entity", c.days, c.by_entity);
}

async function refresh() {
  await Promise.all([loadEntries(), loadCharts()]);
}

document.getElementById("filters").addEventListener("submit", (ev) => {
  ev.preventDefault();
  refresh();
});

(async () => {
  try {
    await loadFacets();
    await refresh();
    document.body.dataset.ready = "1";
  } catch (e) {
    document.body.dataset.ready = "error";
  }
  loadVerify();
})();
