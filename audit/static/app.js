// The review page: every request carries the token from the URL fragment; every value from
// the ledger is inserted as text (never HTML), since bodies are arbitrary request content.
"use strict";

const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const COLORS = ["#3b7dd8", "#e0843a", "#4aa36c", "#c94f6d", "#8a6bd1", "#b8a230", "#3aa6b9", "#777"];
const HANDLING = ["blocked", "pseudonymized", "kept local", "private context kept local", "no personal data found"];
const PAGE = 100;
let offset = 0;
let total = 0;

async function api(path, options) {
  const headers = { "x-cogate-audit-token": token, ...((options || {}).headers || {}) };
  const res = await fetch(path, { ...(options || {}), headers });
  if (res.status === 401) {
    document.getElementById("auth-error").hidden = false;
    throw new Error("unauthorized");
  }
  if (!res.ok) {
    let detail = `${res.status}`;
    try { detail = (await res.json()).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(detail);
  }
  return res;
}

const getJSON = async (path) => (await api(path)).json();

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function query(extra) {
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
  for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
  return params.toString();
}

async function loadFacets() {
  const facets = await getJSON("/api/facets");
  const map = { identity: "identity", app: "app", route: "route", destination: "host", mode: "mode", entity: "entity" };
  for (const [field, key] of Object.entries(map)) {
    const select = document.querySelector(`select[name=${field}]`);
    for (const value of facets[key] || []) select.appendChild(el("option", value, { value }));
  }
}

async function loadVerify() {
  const badge = document.getElementById("verify");
  try {
    const r = await getJSON("/api/verify");
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

const entitiesText = (ents) => Object.entries(ents || {}).map(([k, v]) => `${k} ×${v}`).join(", ") || "—";

async function loadEntries() {
  const data = await getJSON(`/api/entries?${query({ limit: PAGE, offset })}`);
  total = data.total;
  const tbody = document.querySelector("#entries tbody");
  tbody.replaceChildren();
  const first = data.items.length ? offset + 1 : 0;
  document.getElementById("count").textContent =
    `entries ${first.toLocaleString("en")}–${(offset + data.items.length).toLocaleString("en")} of ${total.toLocaleString("en")}`;
  document.getElementById("prev").disabled = offset === 0;
  document.getElementById("next").disabled = offset + PAGE >= total;
  for (const it of data.items) {
    const tr = el("tr", null, { "data-id": it.id, "data-kind": it.kind });
    tr.classList.add(it.kind);
    if (it.outcome === "outcome unknown") tr.classList.add("unknown");
    const kind = { egress: "sent", local: "local", refusal: "refused" }[it.kind] || it.kind;
    for (const cell of [it.id, (it.time || "").slice(0, 19).replace("T", " "), kind, it.identity || "—",
      it.app, it.route || "—", it.destination, it.mode, entitiesText(it.entities), it.bytes,
      it.status ? `${it.outcome} (${it.status})` : it.outcome]) {
      tr.appendChild(el("td", cell));
    }
    tr.addEventListener("click", () => showDetail(it.id, tr));
    tbody.appendChild(tr);
  }
}

function keptText(kept) {
  if (!kept) return null;
  return `${kept.sections} private sections (${kept.chars} characters), ${kept.terms} private terms, ` +
    `${kept.clauses} profile clauses stayed on the device`;
}

function detailFields(d) {
  const e = d.entry;
  const dest = e.destination || {};
  const note = e.note || {};
  let where = `${dest.method} ${dest.host}${dest.path}`;
  if (e.kind === "local") where = "local — nothing left the device";
  if (e.kind === "refusal") where = `refused — nothing left the device (${dest.method} ${dest.path})`;
  const fields = [
    ["time", e.time],
    ["identity", e.identity || "—"],
    ["app", e.app],
    ["token's apps", e.apps ? e.apps.join(", ") || "none" : "personal mode"],
    ["route", e.route || "(base policy)"],
    ["surface", e.surface || "—"],
    ["destination", where],
    ["model", e.model],
    ["mode", e.mode],
    ["policy", e.policy ? `${e.policy.id} ${e.policy.hash}` : "—"],
    ["entities", entitiesText(e.entities)],
    ["value tags", (e.tags || []).length],
  ];
  if (e.refusal) fields.push(["refusal", `${e.refusal.code} (HTTP ${e.refusal.status})`]);
  const kept = keptText(note.kept_local);
  if (kept) fields.push(["kept on device", kept]);
  if (note.sensitive_task) fields.push(["sensitive task", `${note.sensitive_task} (${(note.sensitive_categories || []).join(", ")})`]);
  if (d.summary && e.kind !== "refusal") fields.push(["outcome", `${d.summary.outcome}${d.summary.status ? ` (${d.summary.status})` : ""}`]);
  if (d.completion) {
    const t = Object.entries(d.completion.timings || {}).map(([k, v]) => `${k.replace(/_ms$/, "")} ${v} ms`).join(", ");
    fields.push(["timings", t || "—"]);
    fields.push(["usage", d.completion.usage ? JSON.stringify(d.completion.usage) : "—"]);
  }
  if (e.body) fields.push(["body", `${e.body.size} bytes, ${d.body_state}`], ["body hash", e.body.hash]);
  fields.push(["entry hash", d.hash]);
  return fields;
}

function findingsList(d) {
  const ul = document.getElementById("findings");
  ul.replaceChildren();
  document.getElementById("decision").textContent = "";
  const done = {};
  for (const t of d.entry.tags || []) (done[t.type] = done[t.type] || new Set()).add(t.action || "removed");
  for (const [type, count] of Object.entries(d.entry.entities || {})) {
    const li = el("li", null, { "data-type": type });
    li.appendChild(el("span", `${type} ×${count} — ${[...(done[type] || [])].join(", ") || "found"}`));
    const button = el("button", "Not personal data…", { type: "button", class: "np" });
    const form = el("form", null, { class: "np-form", hidden: "" });
    const input = el("input", null, { name: "value", placeholder: `the ${type} as it appeared`, autocomplete: "off" });
    form.append(input, el("button", "Propose allow-list entry", { type: "submit" }));
    button.addEventListener("click", () => { form.hidden = false; input.focus(); });
    form.addEventListener("submit", (ev) => { ev.preventDefault(); decide(d.id, type, input, form); });
    li.append(button, form);
    ul.appendChild(li);
  }
  if (!ul.children.length) ul.appendChild(el("li", "none"));
}

async function decide(id, type, input, form) {
  const status = document.getElementById("decision");
  try {
    const res = await api(`/api/entries/${encodeURIComponent(id)}/not-personal`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type, value: input.value }),
    });
    const r = await res.json();
    status.textContent = `Proposal written to ${r.proposal} for review; decision recorded as ledger entry ${r.decision_entry}.`;
    status.className = "ok";
    input.value = "";
    form.hidden = true;
  } catch (e) {
    status.textContent = `Not recorded: ${e.message}`;
    status.className = "error";
  }
}

async function showDetail(id, row) {
  document.querySelectorAll("tbody tr.selected").forEach((r) => r.classList.remove("selected"));
  row.classList.add("selected");
  const d = await getJSON(`/api/entries/${encodeURIComponent(id)}`);
  const aside = document.getElementById("detail");
  aside.hidden = false;
  document.getElementById("detail-title").textContent = `Entry ${d.id} (${d.entry.kind})`;
  const dl = document.getElementById("detail-fields");
  dl.replaceChildren();
  for (const [k, v] of detailFields(d)) { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v)); }
  findingsList(d);
  const pre = document.getElementById("detail-body");
  pre.textContent = d.body ?? d.body_hex ?? `(${d.body_state})`;
}

const NS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = String(text);
  return node;
}

// A stacked bar chart with a y axis (count ticks), period labels on the x axis and each
// bar's total above it.
function drawChart(svgId, legendId, days, series, order) {
  const svg = document.getElementById(svgId);
  const legend = document.getElementById(legendId);
  svg.replaceChildren();
  legend.replaceChildren();
  const seen = new Set(days.flatMap((d) => Object.keys(series[d] || {})));
  const keys = [...(order || []).filter((k) => seen.has(k)), ...[...seen].filter((k) => !(order || []).includes(k)).sort()];
  const W = 460, H = 190, left = 44, right = 8, top = 16, bottom = 30;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const totals = days.map((d) => Object.values(series[d] || {}).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const plotH = H - top - bottom;
  const y = (v) => H - bottom - (v / max) * plotH;
  svg.appendChild(svgEl("line", { x1: left, y1: top, x2: left, y2: H - bottom, class: "axis" }));
  svg.appendChild(svgEl("line", { x1: left, y1: H - bottom, x2: W - right, y2: H - bottom, class: "axis" }));
  for (const v of [...new Set([0, Math.round(max / 2), max])]) {
    svg.appendChild(svgEl("line", { x1: left - 4, y1: y(v), x2: left, y2: y(v), class: "axis" }));
    svg.appendChild(svgEl("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, v.toLocaleString("en")));
  }
  svg.appendChild(svgEl("text", { x: 10, y: top + plotH / 2, transform: `rotate(-90 10 ${top + plotH / 2})`, "text-anchor": "middle", class: "tick" }, "count"));
  const slot = days.length ? (W - left - right) / days.length : 0;
  const bw = Math.max(2, Math.min(40, slot - 4));
  const every = Math.ceil(days.length / 8);
  days.forEach((day, i) => {
    const x = left + i * slot + (slot - bw) / 2;
    let acc = 0;
    keys.forEach((key, k) => {
      const v = (series[day] || {})[key] || 0;
      if (!v) return;
      const rect = svgEl("rect", { x, y: y(acc + v), width: bw, height: Math.max(0.5, y(acc) - y(acc + v)), fill: COLORS[k % COLORS.length] });
      rect.appendChild(svgEl("title", {}, `${day} ${key}: ${v}`));
      svg.appendChild(rect);
      acc += v;
    });
    if (days.length <= 31) svg.appendChild(svgEl("text", { x: x + bw / 2, y: y(acc) - 3, "text-anchor": "middle", class: "total" }, acc.toLocaleString("en")));
    if (i % every === 0) svg.appendChild(svgEl("text", { x: x + bw / 2, y: H - bottom + 14, "text-anchor": "middle", class: "tick" }, day));
  });
  if (!days.length) svg.appendChild(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "tick" }, "no entries"));
  keys.forEach((key, k) => {
    const sum = days.reduce((a, d) => a + ((series[d] || {})[key] || 0), 0);
    const span = el("span", `${key} (${sum.toLocaleString("en")})`);
    const swatch = el("i");
    swatch.style.background = COLORS[k % COLORS.length];
    span.prepend(swatch);
    legend.appendChild(span);
  });
}

async function loadCharts() {
  const period = document.querySelector("input[name=period]:checked").value;
  const c = await getJSON(`/api/chart?${query({ period })}`);
  drawChart("chart-entity", "legend-entity", c.days, c.by_entity);
  drawChart("chart-app", "legend-app", c.days, c.by_app);
  drawChart("chart-handling", "legend-handling", c.days, c.by_handling, HANDLING);
  document.getElementById("charts").dataset.period = c.period;
}

async function exportCSV() {
  const res = await api(`/api/export.csv?${query()}`);
  const blob = await res.blob();
  const a = el("a", null, { href: URL.createObjectURL(blob), download: "cogate-audit.csv" });
  document.body.appendChild(a);
  a.click();
  a.remove();
  document.body.dataset.exported = String(Date.now());
}

async function refresh() {
  document.body.dataset.ready = "0";
  await Promise.all([loadEntries(), loadCharts()]);
  document.body.dataset.ready = "1";
}

document.getElementById("filters").addEventListener("submit", (ev) => {
  ev.preventDefault();
  offset = 0;
  refresh();
});
document.getElementById("export").addEventListener("click", () => exportCSV());
document.getElementById("prev").addEventListener("click", async () => {
  offset = Math.max(0, offset - PAGE);
  await loadEntries();
});
document.getElementById("next").addEventListener("click", async () => {
  if (offset + PAGE < total) offset += PAGE;
  await loadEntries();
});
document.querySelectorAll("input[name=period]").forEach((r) => r.addEventListener("change", () => loadCharts()));

(async () => {
  try {
    await loadFacets();
    await refresh();
  } catch (e) {
    document.body.dataset.ready = "error";
  }
  loadVerify();
})();
