// The analyst page: credentials kept in this tab, jobs started and watched over the API.
"use strict";

const api = (path) => new URL(`api/${path}`, document.baseURI).toString();
const $ = (id) => document.getElementById(id);

function credentials() {
  const key = sessionStorage.getItem("tonle.key");
  if (!key) return null;
  const headers = { Authorization: `Bearer ${key}`, "X-Purpose": sessionStorage.getItem("tonle.purpose") || "statistics" };
  const user = sessionStorage.getItem("tonle.endUser");
  if (user) headers["X-Tonle-End-User"] = user;
  return headers;
}

async function call(path, options = {}) {
  const headers = credentials();
  if (!headers) throw new Error("Give your partner credentials first (step 1).");
  const response = await fetch(api(path), { ...options, headers: { ...headers, ...(options.headers || {}) } });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function say(element, text, isError = false) {
  element.textContent = text;
  element.classList.toggle("error", isError);
}

async function fillAreas(select, parent, first) {
  const url = parent ? api(`areas?parent=${encodeURIComponent(parent)}`) : api("areas");
  const { areas } = await (await fetch(url)).json();
  select.replaceChildren(new Option(first, ""));
  for (const area of areas) select.add(new Option(`${area.name_en} (${area.name_km}) · ${area.code}`, area.code));
}

function chosenArea() {
  return $("commune").value || $("district").value || $("province").value;
}

function describe(job) {
  const p = job.progress || {};
  if (job.status === "failed") return `Failed: ${job.error}`;
  if (job.status === "done") return `Done: ${p.nodes ?? ""} people${p.rows && p.rows !== p.nodes ? `, ${p.rows} rows` : ""}.`;
  const total = p.total ? ` of ${p.total}` : "";
  const left = p.secondsLeft != null ? `, about ${p.secondsLeft} s left` : "";
  return `Running: ${p.nodes ?? 0}${total} people, ${p.rate ?? 0}/s${left}`;
}

async function download(jobId, name) {
  const blob = await (await call(`jobs/${jobId}/files/${encodeURIComponent(name)}`)).blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

async function watch(job, prefix, onDone) {
  const box = $(`${prefix}-job`), status = $(`${prefix}-status`), bar = $(`${prefix}-progress`);
  box.hidden = false;
  $(`${prefix}-files`).replaceChildren();
  while (true) {
    say(status, describe(job), job.status === "failed");
    const p = job.progress || {};
    if (p.total) { bar.max = p.total; bar.value = p.nodes || 0; } else { bar.removeAttribute("value"); }
    if (job.status !== "running") break;
    await new Promise((resolve) => setTimeout(resolve, 500));
    job = await (await call(`jobs/${job.id}`)).json();
  }
  if (job.status === "done") {
    bar.max = 1; bar.value = 1;
    for (const name of job.files) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `Download ${name}`;
      button.addEventListener("click", () => download(job.id, name).catch((e) => say(status, e.message, true)));
      item.append(button);
      $(`${prefix}-files`).append(item);
    }
    if (onDone) await onDone(job);
  }
}

async function showCharts(job) {
  const charts = $("coverage-charts");
  charts.replaceChildren();
  for (const name of job.files.filter((n) => n.endsWith(".svg"))) {
    const blob = await (await call(`jobs/${job.id}/files/${encodeURIComponent(name)}`)).blob();
    const image = new Image();
    image.src = URL.createObjectURL(blob);
    image.alt = `Chart: ${name.replace(/[-_]/g, " ").replace(/\.svg$/, "")}`;
    charts.append(image);
  }
}

async function start(path, body, prefix, onDone) {
  const status = $(`${prefix}-status`);
  $(`${prefix}-job`).hidden = false;
  try {
    const job = await (await call(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    })).json();
    await watch(job, prefix, onDone);
  } catch (error) {
    say(status, error.message, true);
  }
}

function showWho() {
  const key = sessionStorage.getItem("tonle.key");
  say($("who"), key ? `Using key ${key.slice(0, 12)}… for ${sessionStorage.getItem("tonle.purpose")}.` : "No credentials yet.");
}

document.addEventListener("DOMContentLoaded", () => {
  const now = new Date();
  now.setMonth(now.getMonth() - 1);
  $("period").value = now.toISOString().slice(0, 7);
  showWho();
  fillAreas($("province"), null, "Choose…").catch((e) => say($("coverage-status"), e.message, true));
  $("province").addEventListener("change", () => {
    fillAreas($("district"), $("province").value, "The whole province");
    $("commune").replaceChildren(new Option("The whole district", ""));
  });
  $("district").addEventListener("change", () => fillAreas($("commune"), $("district").value, "The whole district"));
  $("sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("tonle.key", $("key").value.trim());
    sessionStorage.setItem("tonle.purpose", $("purpose").value.trim());
    sessionStorage.setItem("tonle.endUser", $("end-user").value.trim());
    $("key").value = "";
    showWho();
  });
  $("sign-out").addEventListener("click", () => { sessionStorage.clear(); showWho(); });
  $("coverage-form").addEventListener("submit", (event) => {
    event.preventDefault();
    start("coverage", { area: chosenArea(), period: $("period").value, by: $("by").value || null }, "coverage", showCharts);
  });
  $("export-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const area = $("export-area").value.trim() || chosenArea();
    start("exports", { query: $("export-query").value, area: area || null, format: $("format").value, lists: $("lists").value }, "export");
  });
});
