// ApexAPI dashboard: renders the engine's status, streamed by the server (no page reloads).
"use strict";
const $ = (sel) => document.querySelector(sel);
let snapshot = null;
const drawn = {}; // what each part of the page last showed: unchanged parts are not redrawn

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function changed(part, value) {
  const key = JSON.stringify(value);
  if (drawn[part] === key) return false;
  drawn[part] = key;
  return true;
}

function light(id, color, text) {
  const el = $(id);
  if (el.className !== "light " + color) el.className = "light " + color;
  setText(el.querySelector("small"), text);
}

function connection(id, status, what) {
  if (status.state === "connected") light(id, "green", "Connected");
  else if (status.state === "failing") light(id, "red", status.reason || "Failing");
  else light(id, "amber", what || "Waiting for the first answer");
}

function render(data) {
  snapshot = data;
  const s = data.status;
  connection("#light-tracker", s.tracker);
  connection("#light-apex", s.apex);
  const sheets = s.sheets;
  if (sheets.state === "connected") light("#light-sheets", "green", "Connected (" + sheets.store + ")");
  else if (sheets.state === "fallback") light("#light-sheets", "amber", "Using the Excel workbook: " + sheets.reason);
  else if (sheets.state === "failing") light("#light-sheets", "red", sheets.reason);
  else if (sheets.state === "off") light("#light-sheets", "amber", sheets.reason || "Off (google_sheets.enabled is false)");
  else light("#light-sheets", "amber", "Waiting for the first poll");
  const parts = [];
  if (!s.sync_enabled) parts.push("Batch sync is off (batch_inventory_sync.enabled is false).");
  if (s.paused) parts.push("Paused.");
  if (s.lease_holder && !s.has_lease) parts.push("Sync handled by " + s.lease_holder + ".");
  if (s.last_cycle_at) parts.push("Last cycle " + s.last_cycle_at.replace("T", " ").slice(0, 19) + " UTC, " +
    s.batches_changed_last_cycle + " batches changed (" + s.batches_changed_total + " in all)" +
    (s.next_run_in_seconds != null ? ", next run within " + s.next_run_in_seconds + " s" : "") + ".");
  parts.push(s.mapped_batches + " Apex batches mapped.");
  setText($("#sync-line"), parts.join(" "));
  $("#held-back").hidden = !s.held_back;
  setText($("#held"), s.held_back || "");
  const zeros = (s.zero_batches || []).map((z) => "Batch " + z.batch_id + " — " + z.strain + " " +
    z.sku_key + ": " + (z.previous == null ? "?" : z.previous) + " → 0");
  if (changed("zeros", zeros)) {
    $("#zero-list").innerHTML = "";
    for (const text of zeros) {
      const li = document.createElement("li");
      li.textContent = text;
      $("#zero-list").append(li);
    }
  }
  const failures = Object.entries(s.loop_failures || {}).map(([name, f]) =>
    "ApexAPI's " + name + " loop failed (" + f.reason + ") and is retrying; see the log.");
  $("#engine-failure").hidden = failures.length === 0;
  setText($("#engine-failure"), failures.join(" "));
  const pause = $("#pause");
  setText(pause, s.paused ? "Resume" : "Pause");
  pause.dataset.action = s.paused ? "resume" : "pause";
  renderPacking();
  renderBatches();
  const short = Object.entries(s.short_strains || {}).map(([strain, units]) =>
    strain + ": open orders want " + units + " unit(s) more than the tracker has.");
  const lines = s.unassigned_lines.map((l) => l.strain + " " + l.sku + " (item " + l.item_id + "): " + l.reason);
  const problems = [...s.problems.map((p) => p.detail), ...short, ...lines,
    ...sheets.attention, ...sheets.conflicts];
  list("problems", problems, "Nothing.");
  list("notices", s.notices.slice().reverse().map((n) => n.at.replace("T", " ").slice(0, 19) + " — " +
    n.title + ": " + n.message), "None.");
  setText($("#logs"), data.logs.join("\n"));
}

function list(id, items, empty) {
  if (!changed(id, items)) return;
  const ul = document.getElementById(id);
  ul.innerHTML = "";
  for (const text of items.length ? items : [empty]) {
    const li = document.createElement("li");
    li.textContent = text;
    ul.append(li);
  }
}

function renderBatches() {
  const s = snapshot.status;
  const rows = s.batches || [];
  const steady = rows.filter((r) => r.state === "in step").length;
  setText($("#in-step"), rows.length ? "In step: " + steady + " of " + rows.length + " Apex batches" :
    "No Apex batches mapped yet");
  setText($("#allocation"), "(allocation: " + s.allocation + ")");
  const corrected = s.drift_corrected || [];
  setText($("#drift-count"), String(corrected.length));
  list("drift-list", corrected.slice().reverse(), "None.");
  const show = $("#state-filter").value;
  if (!changed("batches", [show, rows])) return;
  const body = $("#batches tbody");
  body.innerHTML = "";
  for (const r of rows) {
    if (show === "not-in-step" && r.state === "in step") continue;
    if (show === "drifted" && r.state !== "drifted") continue;
    const tr = document.createElement("tr");
    tr.dataset.batch = r.batch_id;
    tr.className = "state-" + r.state.replace(" ", "-");
    const when = r.last_push_at ? r.last_push_at.replace("T", " ").slice(0, 19) : "";
    const cells = [r.batch_id + " " + r.product, r.strain, r.sku, show0(r.apex_quantity), show0(r.target),
      show0(r.last_push), when, r.state];
    cells.forEach((value, index) => {
      const td = document.createElement("td");
      td.textContent = value;
      if (index >= 3 && index <= 5) td.className = "num";
      if (index === 7 && r.detail) td.title = r.detail;
      tr.append(td);
    });
    body.append(tr);
  }
}

function show0(value) {
  return value == null ? "—" : String(value);
}

function renderPacking() {
  const body = $("#packing tbody");
  if (body.contains(document.activeElement)) return; // do not disturb someone typing
  const filter = $("#filter").value.trim().toLowerCase();
  if (!changed("packing", [filter, snapshot.packing])) return;
  body.innerHTML = "";
  for (const row of snapshot.packing) {
    const text = [row.product, row.store, row.invoice, row.date, row.delivery_date].join(" ").toLowerCase();
    if (filter && !text.includes(filter)) continue;
    const tr = document.createElement("tr");
    tr.dataset.key = row.key;
    const cells = [row.product, row.store, row.ordered, "packed", row.needs_production,
      row.needs_packing, "delivery_date", "delivery_notes", "internal_notes", row.invoice, row.batch_no];
    cells.forEach((value, index) => {
      const td = document.createElement("td");
      if (EDITABLE[value] && [3, 6, 7, 8].includes(index)) td.append(editor(row, value));
      else td.textContent = value;
      tr.append(td);
    });
    body.append(tr);
  }
}

// The cells people edit here as in the sheet: field → [input type, label].
const EDITABLE = { packed: ["number", "packed"], delivery_date: ["date", "delivery date"],
  delivery_notes: ["text", "delivery notes"], internal_notes: ["text", "internal notes"] };

function editor(row, field) {
  const [type, label] = EDITABLE[field];
  const input = document.createElement("input");
  input.type = type; input.value = row[field]; input.name = field;
  if (type === "number") { input.min = "0"; input.step = "1"; }
  if (type === "text") { input.maxLength = 500; input.className = "note"; }
  input.setAttribute("aria-label", label + " " + row.key);
  input.addEventListener("change", () => saveCell(row.key, field, input));
  return input;
}

async function saveCell(key, field, input) {
  let value = input.value;
  if (field === "packed") {
    value = Number(input.value);
    if (input.value === "" || !Number.isInteger(value) || value < 0) { input.classList.add("invalid"); return; }
  }
  input.classList.remove("invalid");
  const response = await fetch("/api/packing/" + key, { method: "POST",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify({ [field]: value }) });
  if (!response.ok) {
    input.classList.add("invalid");
    input.title = (await response.json()).error || "not saved";
  }
  input.blur();
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-action]");
  if (!button) return;
  button.disabled = true;
  $("#action-state").textContent = button.textContent + "…";
  const response = await fetch("/api/actions/" + button.dataset.action, { method: "POST" });
  $("#action-state").textContent = response.ok ? button.textContent + " sent" : "Failed";
  button.disabled = false;
});
$("#filter").addEventListener("input", () => snapshot && renderPacking());
$("#state-filter").addEventListener("change", () => snapshot && renderBatches());

fetch("/api/status").then((r) => r.json()).then(render);
const events = new EventSource("/api/events");
events.onmessage = (event) => render(JSON.parse(event.data));
