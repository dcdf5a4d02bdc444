// The DePIN network explorer: the fleet on a map and in a list, each node's telemetry, reputation, risk, earnings and
// events, datasets with their signed tree heads and consistency proofs (checked in this browser), and a tenant's jobs.
// It reads the public HTTP API of the silo that serves it and refreshes itself; nothing here is trusted more than the
// API: every value is written as text, never as markup.

const view = document.getElementById("view");
const banner = document.getElementById("error");
const live = document.getElementById("live");
const KEY = "depin.explorer.key";

// ---- helpers -------------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, { key, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(path, { headers, signal });
  const json = (response.headers.get("content-type") ?? "").includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

// Server-sent events over fetch (EventSource cannot send an Authorization header): calls onEvent(name, data) for each.
async function events(path, { key, signal, onEvent }) {
  const headers = { Accept: "text/event-stream" };
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(path, { headers, signal });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) onEvent(name, JSON.parse(data));
    }
  }
}

// h("td", { class: "num" }, "text", child): an element; strings become text nodes, never markup.
function h(tag, attributes = {}, ...children) {
  const svg = ["svg", "line", "circle", "text", "polyline", "g", "title"].includes(tag);
  const element = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const replace = (element, ...children) => element.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined));
const badge = status => h("span", { class: `badge status-${status}` }, status);
const nodeLink = id => h("a", { href: `#/nodes/${encodeURIComponent(id)}`, class: "mono" }, id);
const percent = value => `${(100 * value).toFixed(1)} %`;
const time = value => (value ? new Date(value).toLocaleString() : "—");
const credits = micro => `${(micro / 1e6).toLocaleString(undefined, { maximumFractionDigits: 6 })} credits`;
const card = (label, value, extra) => h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), extra);
const facts = pairs => h("dl", { class: "facts" }, pairs.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]));

function bytes(value) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function showError(error) {
  if (error?.name === "AbortError") return;
  banner.textContent = error?.message ?? String(error);
  banner.hidden = false;
  live.classList.add("stale");
}

function clearError() {
  banner.hidden = true;
  live.classList.remove("stale");
}

// ---- routing and refreshing ----------------------------------------------------------------------------------------

let page = new AbortController();

// Runs refresh now and again every `ms` until the page changes; an error shows in the banner and the loop goes on.
function every(ms, refresh) {
  const { signal } = page;
  const tick = async () => {
    if (signal.aborted) return;
    try {
      await refresh(signal);
      if (!signal.aborted) clearError();
    } catch (error) {
      if (!signal.aborted) showError(error);
    }
    if (!signal.aborted) setTimeout(tick, ms);
  };
  tick();
}

function follow(path, options) {
  const { signal } = page;
  events(path, { ...options, signal }).catch(error => { if (!signal.aborted) showError(error); });
}

function route() {
  page.abort();
  page = new AbortController();
  clearError();
  const [section = "", id] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  document.body.dataset.page = section || "fleet";
  if (section === "nodes" && id) nodePage(id);
  else if (section === "datasets" && id) datasetPage(id);
  else if (section === "jobs" && id) jobPage(id);
  else if (section === "jobs") jobsPage();
  else fleetPage();
}

// ---- the fleet -----------------------------------------------------------------------------------------------------

const STATUSES = ["online", "suspect", "offline", "draining", "quarantined", "registered"];
const DETAIL_ROWS = 25;
const details = new Map(); // node id -> { at, risk, earned }

async function allNodes(signal) {
  const nodes = [];
  for (let after = ""; ;) {
    const batch = await api(`/v1/nodes?limit=10000${after ? `&after=${encodeURIComponent(after)}` : ""}`, { signal });
    nodes.push(...batch);
    if (batch.length < 10000) return nodes;
    after = batch[batch.length - 1].nodeId;
  }
}

function fleetPage() {
  const cards = h("div", { class: "cards", id: "fleet-cards" });
  const map = h("div", { class: "panel" });
  const regions = h("div", { class: "panel" });
  const status = h("select", { id: "status-filter", "aria-label": "status" }, h("option", { value: "" }, "any status"), STATUSES.map(s => h("option", { value: s }, s)));
  const region = h("select", { id: "region-filter", "aria-label": "region" }, h("option", { value: "" }, "any region"));
  const list = h("div", { class: "panel", id: "node-list" });
  replace(view,
    h("h1", {}, "Fleet"), cards,
    h("div", { class: "grid2" },
      h("section", {}, h("h2", {}, "Map"), map),
      h("section", {}, h("h2", {}, "Regions"), regions)),
    h("h2", {}, "Nodes"),
    h("div", { class: "filters" }, "Show", status, region),
    list);

  let nodes = [];
  const draw = () => renderNodeList(list, nodes.filter(n => (!status.value || n.status === status.value) && (!region.value || n.region === region.value)));
  status.addEventListener("change", draw);
  region.addEventListener("change", draw);

  every(5000, async signal => {
    nodes = await allNodes(signal);
    const counts = Object.fromEntries(STATUSES.map(s => [s, nodes.filter(n => n.status === s).length]));
    replace(cards,
      card("Nodes", nodes.length),
      STATUSES.filter(s => counts[s] > 0 || s === "online").map(s => card(s, counts[s], null)),
      card("GPUs", nodes.reduce((sum, n) => sum + n.gpuCount, 0)),
      card("Cores", nodes.reduce((sum, n) => sum + n.cpuCores, 0)));
    const byRegion = groupBy(nodes, n => n.region);
    replace(map, renderMap(nodes, byRegion));
    replace(regions, renderRegions(byRegion));
    const chosen = region.value;
    replace(region, h("option", { value: "" }, "any region"), [...byRegion.keys()].sort().map(r => h("option", { value: r, selected: r === chosen }, r)));
    draw();
    await loadDetails(nodes.filter(n => (!status.value || n.status === status.value) && (!region.value || n.region === region.value)).slice(0, DETAIL_ROWS), signal);
    draw();
  });
}

function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) {
    const k = key(item);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(item);
  }
  return groups;
}

// An equirectangular map: each node at its registered coordinates, coloured by status; each region labelled at its centre.
function renderMap(nodes, byRegion) {
  const x = longitude => longitude + 180;
  const y = latitude => 90 - latitude;
  const lines = [];
  for (let lon = -180; lon <= 180; lon += 30) lines.push(h("line", { class: "graticule", x1: x(lon), y1: 0, x2: x(lon), y2: 180 }));
  for (let lat = -60; lat <= 60; lat += 30) lines.push(h("line", { class: lat === 0 ? "graticule equator" : "graticule", x1: 0, y1: y(lat), x2: 360, y2: y(lat) }));
  const dots = nodes.map(n => h("circle", { class: n.status, cx: x(n.longitude).toFixed(2), cy: y(n.latitude).toFixed(2), r: 1.6 },
    h("title", {}, `${n.nodeId} · ${n.region} · ${n.status}`)));
  const labels = [...byRegion].map(([name, members]) => {
    const lat = members.reduce((s, n) => s + n.latitude, 0) / members.length;
    const lon = members.reduce((s, n) => s + n.longitude, 0) / members.length;
    return h("text", { x: (x(lon) + 2.5).toFixed(2), y: (y(lat) - 2.5).toFixed(2) }, `${name} (${members.length})`);
  });
  return h("svg", { class: "map", viewBox: "0 0 360 180", role: "img", "aria-label": `map of ${nodes.length} nodes` }, lines, dots, labels);
}

function renderRegions(byRegion) {
  const rows = [...byRegion].sort(([a], [b]) => a.localeCompare(b)).map(([name, members]) => h("tr", {},
    h("td", {}, name),
    h("td", { class: "num" }, members.length),
    h("td", { class: "num status-online" }, members.filter(n => n.status === "online").length),
    h("td", { class: "num" }, members.filter(n => n.status !== "online").length),
    h("td", { class: "num" }, members.reduce((s, n) => s + n.gpuCount, 0)),
    h("td", { class: "num" }, members.reduce((s, n) => s + n.cpuCores, 0))));
  return h("table", { id: "regions" },
    h("thead", {}, h("tr", {}, h("th", {}, "Region"), h("th", { class: "num" }, "Nodes"), h("th", { class: "num" }, "Online"),
      h("th", { class: "num" }, "Other"), h("th", { class: "num" }, "GPUs"), h("th", { class: "num" }, "Cores"))),
    h("tbody", {}, rows));
}

// Risk and earnings are in each node's own details: fetched for the rows shown first, and kept for 15 s.
async function loadDetails(nodes, signal) {
  const stale = nodes.filter(n => !details.has(n.nodeId) || Date.now() - details.get(n.nodeId).at > 15000);
  await Promise.all(stale.map(async n => {
    const [node, accounts] = await Promise.all([
      api(`/v1/nodes/${encodeURIComponent(n.nodeId)}`, { signal }),
      api(`/v1/nodes/${encodeURIComponent(n.nodeId)}/accounts`, { signal }),
    ]);
    const earned = accounts.filter(a => a.kind !== "stake").reduce((s, a) => s + a.balance, 0);
    details.set(n.nodeId, { at: Date.now(), risk: node.maintenance?.risk, earned: accounts.length ? earned : null });
  }));
}

function renderNodeList(list, nodes) {
  const shown = nodes.slice(0, 200);
  const rows = shown.map((n, i) => {
    const more = i < DETAIL_ROWS ? details.get(n.nodeId) : undefined;
    return h("tr", { "data-node": n.nodeId },
      h("td", {}, nodeLink(n.nodeId)),
      h("td", {}, n.region),
      h("td", {}, badge(n.status)),
      h("td", { class: "num" }, n.cpuCores),
      h("td", { class: "num" }, n.gpuCount),
      h("td", { class: "num" }, n.reputation.toFixed(3)),
      h("td", { class: "num" }, more?.risk === undefined ? "—" : more.risk.toFixed(2)),
      h("td", { class: "num" }, more?.earned == null ? "—" : credits(more.earned)));
  });
  replace(list,
    h("table", {},
      h("thead", {}, h("tr", {}, ["Node", "Region", "Status"].map(t => h("th", {}, t)),
        ["Cores", "GPUs", "Reputation", "Risk", "Earned"].map(t => h("th", { class: "num" }, t)))),
      h("tbody", {}, rows)),
    nodes.length > shown.length ? h("p", { class: "muted" }, `${shown.length} of ${nodes.length} shown; filter to narrow.`) : null,
    nodes.length === 0 ? h("p", { class: "muted" }, "No node matches.") : null);
}

// ---- a node --------------------------------------------------------------------------------------------------------

function nodePage(id) {
  const title = h("h1", {}, h("span", { class: "mono" }, id));
  const summary = h("div", { class: "panel" });
  const metrics = h("div", { class: "metrics", id: "node-metrics" });
  const chart = h("div", { class: "panel" });
  const health = h("div", { class: "panel" });
  const money = h("div", { class: "panel", id: "node-earnings" });
  const log = h("ol", { class: "events", id: "node-events" });
  replace(view, title,
    h("h2", {}, "Telemetry"), metrics, chart,
    h("div", { class: "grid2" },
      h("section", {}, h("h2", {}, "Node"), summary),
      h("section", {}, h("h2", {}, "Reputation and risk"), health, h("h2", {}, "Earnings"), money)),
    h("h2", {}, "Events"), h("div", { class: "panel" }, log));

  const history = [];
  every(3000, async signal => {
    const node = await api(`/v1/nodes/${encodeURIComponent(id)}`, { signal });
    const t = node.telemetry;
    history.push({ cpu: t.cpuUtilization, memory: t.memoryUtilization, gpu: t.gpuCount > 0 ? t.gpuUtilization : null });
    if (history.length > 120) history.shift();
    replace(title, h("span", { class: "mono" }, id), badge(node.status));
    replace(metrics,
      card("CPU", percent(t.cpuUtilization)),
      card("Memory", percent(t.memoryUtilization)),
      card("Disk used", percent(t.diskUtilization)),
      card("Network in", `${bytes(t.netRxBytesPerSecond)}/s`),
      card("Network out", `${bytes(t.netTxBytesPerSecond)}/s`),
      card("Disk read", `${bytes(t.diskReadBytesPerSecond)}/s`),
      card("Disk write", `${bytes(t.diskWriteBytesPerSecond)}/s`),
      t.gpuCount > 0 ? [card("GPU", percent(t.gpuUtilization)), card("GPU temperature", `${t.gpuMaxTemperatureC.toFixed(0)} °C`)] : null,
      card("Samples", t.samples.toLocaleString(), h("div", { class: "label" }, `last ${time(t.lastSampleAt)}`)));
    replace(chart, sparkline(history));
    const c = node.capabilities;
    replace(summary, facts([
      ["Region", `${c.region} (${c.latitude.toFixed(2)}, ${c.longitude.toFixed(2)})`],
      ["Resources", `${c.cpuCores} cores, ${bytes(c.memoryBytes)} memory, ${bytes(c.diskBytes)} disk, ${c.bandwidthMbps} Mbit/s`],
      ["GPUs", c.gpus.length ? c.gpus.map(g => `${g.model} (${bytes(g.vramBytes)})`).join(", ") : "none"],
      ["Agent", c.agentVersion],
      ["Registered", time(node.registeredAt)],
      ["Status since", time(node.statusChangedAt)],
      ["Last heard", time(node.lastHeardAt)],
      ["Batches", `${node.counters.accepted.toLocaleString()} taken, last sequence ${node.lastSequence}`],
      ["Public key", h("span", { class: "mono wrap" }, node.publicKey)],
    ]));
    const r = node.reputation, m = node.maintenance;
    replace(health, facts([
      ["Reputation", r.score.toFixed(3)],
      ["Verified work", `${r.agreed} agreed, ${r.disagreed} disagreed`],
      ["Leases", `${r.delivered} delivered, ${r.abandoned} abandoned`],
      ["Data", `${r.records} records`],
      ["Inference", `${r.served} served, ${r.unanswered} unanswered`],
      ["Failure risk", m ? `${m.risk.toFixed(3)} (${m.source}: ${m.reason})` : "not assessed"],
      ["Maintenance", m ? `${m.mode}, ${m.anomalies} anomalies, assessed ${time(m.assessedAt)}` : "—"],
    ]));
    const accounts = await api(`/v1/nodes/${encodeURIComponent(id)}/accounts`, { signal });
    replace(money, accounts.length
      ? facts(accounts.map(a => [a.kind, credits(a.balance)]))
      : h("p", { class: "muted" }, "No earnings yet."));
  });

  follow(`/v1/nodes/${encodeURIComponent(id)}/events`, {
    onEvent: (_, e) => log.prepend(h("li", {}, h("span", { class: "muted" }, time(e.at)), " ", badge(e.current), " ", e.reason)),
  });
}

function sparkline(history) {
  const line = (key, css) => {
    const points = history.map((p, i) => (p[key] == null ? null : `${(i * 300) / 119},${(60 - 58 * p[key]).toFixed(1)}`)).filter(Boolean);
    return points.length ? h("polyline", { class: css, points: points.join(" ") }) : null;
  };
  return [
    h("svg", { class: "spark", viewBox: "0 0 300 60", preserveAspectRatio: "none", role: "img", "aria-label": "utilisation history" },
      line("cpu", "cpu"), line("memory", "memory"), line("gpu", "gpu")),
    h("div", { class: "legend" }, h("span", { class: "status-running" }, "— CPU"), h("span", { class: "status-suspect" }, "— memory"),
      h("span", { class: "status-draining" }, "— GPU"), h("span", { class: "muted" }, "since this page opened")),
  ];
}

// ---- a dataset -----------------------------------------------------------------------------------------------------

function datasetPage(name) {
  const title = h("h1", {}, `Dataset ${name}`);
  const about = h("div", { class: "panel" });
  const head = h("div", { class: "panel", id: "tree-head" });
  const proofs = h("ol", { class: "events", id: "proofs" });
  replace(view, title, h("div", { class: "grid2" },
    h("section", {}, h("h2", {}, "Signed tree head"), head, h("h2", {}, "Consistency, checked in this browser"), h("div", { class: "panel" }, proofs)),
    h("section", {}, h("h2", {}, "Definition"), about)));
  proofs.append(h("li", { class: "muted" }, "Each new head is proved consistent with the one seen before it (RFC 9162)."));

  let seen = null;
  every(5000, async signal => {
    const dataset = await api(`/v1/datasets/${encodeURIComponent(name)}`, { signal });
    const d = dataset.definition, t = dataset.treeHead;
    replace(about, facts([
      ["Description", d.description], ["Owner", d.owner], ["Licence", d.licence], ["Created", time(dataset.createdAt)],
      ["Fields", d.fields.map(f => f.name).join(", ")],
    ]));
    replace(head, facts([
      ["Records", t.size.toLocaleString()], ["Root", h("span", { class: "mono wrap" }, t.root)], ["Signed", time(t.timestamp)],
      ["Signature", h("span", { class: "mono wrap" }, t.signature)], ["Key", h("span", { class: "mono" }, t.keyId)],
    ]));
    if (seen && t.size > seen.size) {
      const proof = await api(`/v1/datasets/${encodeURIComponent(name)}/proofs/consistency?first=${seen.size}&second=${t.size}`, { signal });
      const ok = await consistent(seen.size, t.size, seen.root, t.root, proof.hashes);
      proofs.prepend(h("li", { class: ok ? "ok" : "bad" },
        `${ok ? "consistent" : "NOT consistent"}: ${seen.size} → ${t.size} records, ${proof.hashes.length} hashes`));
    }
    if (!seen || t.size >= seen.size) seen = { size: t.size, root: t.root };
  });
}

const hex = text => Uint8Array.from(text.match(/../g) ?? [], b => parseInt(b, 16));
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

async function nodeHash(left, right) {
  const data = new Uint8Array(1 + left.length + right.length);
  data[0] = 1;
  data.set(left, 1);
  data.set(right, 1 + left.length);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

// RFC 9162, 2.1.4.2: whether the tree of `second` leaves with root `secondRoot` extends the one of `first` leaves.
// Exported for the tests, which also hand it tampered roots and proofs.
export async function consistent(first, second, firstRoot, secondRoot, hashes) {
  if (first === 0) return true;
  if (first === second) return hashes.length === 0 && firstRoot === secondRoot;
  const path = hashes.map(hex);
  if ((first & (first - 1)) === 0) path.unshift(hex(firstRoot));
  if (path.length === 0) return false;
  let fn = first - 1, sn = second - 1;
  while (fn & 1) { fn >>= 1; sn >>= 1; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if ((fn & 1) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!(fn & 1)) while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 && same(fr, hex(firstRoot)) && same(sr, hex(secondRoot));
}

// ---- jobs ----------------------------------------------------------------------------------------------------------

function keyForm(onKey) {
  const input = h("input", { type: "password", id: "api-key", placeholder: "tenant or operator API key", value: sessionStorage.getItem(KEY) ?? "", size: 40 });
  return h("form", { class: "filters", onsubmit: e => { e.preventDefault(); sessionStorage.setItem(KEY, input.value.trim()); onKey(); } },
    "Jobs belong to tenants:", input, h("button", { type: "submit" }, "Show"));
}

function jobsPage() {
  const list = h("div", { class: "panel", id: "job-list" });
  replace(view, h("h1", {}, "Jobs"), keyForm(route), list);
  const key = sessionStorage.getItem(KEY);
  if (!key) {
    replace(list, h("p", { class: "muted" }, "Enter a tenant's API key to see its jobs."));
    return;
  }
  every(5000, async signal => {
    const jobs = await api("/v1/jobs?limit=200", { key, signal });
    replace(list, jobs.length === 0 ? h("p", { class: "muted" }, "No jobs.") : h("table", {},
      h("thead", {}, h("tr", {}, ["Job", "Kind", "Status", "Submitted", "Updated"].map(t => h("th", {}, t)))),
      h("tbody", {}, jobs.map(j => h("tr", {},
        h("td", {}, h("a", { href: `#/jobs/${encodeURIComponent(j.jobId)}` }, j.jobId)), h("td", {}, j.kind), h("td", {}, badge(j.status)),
        h("td", {}, time(j.submittedAt)), h("td", {}, time(j.updatedAt)))))));
  });
}

function jobPage(id) {
  const key = sessionStorage.getItem(KEY);
  const title = h("h1", {}, `Job ${id}`);
  const about = h("div", { class: "panel" });
  const replicas = h("div", { class: "panel" });
  const log = h("ol", { class: "events" });
  replace(view, title, key ? null : keyForm(route), h("div", { class: "grid2" },
    h("section", {}, h("h2", {}, "Replicas"), replicas, h("h2", {}, "Events"), h("div", { class: "panel" }, log)),
    h("section", {}, h("h2", {}, "Job"), about)));
  if (!key) return;
  every(3000, async signal => {
    const job = await api(`/v1/jobs/${encodeURIComponent(id)}`, { key, signal });
    replace(title, `Job ${id}`, badge(job.status));
    replace(about, facts([
      ["Tenant", job.tenant], ["Kind", job.spec.kind], ["Reason", job.reason], ["Attempts", job.attempts], ["Failures", job.failures],
      ["Progress", percent(job.progress)], ["Submitted", time(job.submittedAt)], ["Updated", time(job.updatedAt)],
      ["Result", job.result ? h("span", { class: "mono wrap" }, job.result) : null],
      ["Checkpoints", job.checkpoints.length ? job.checkpoints.map(c => `shard ${c.shard} at step ${c.step}`).join(", ") : null],
    ]));
    replace(replicas, job.assignments.length === 0 ? h("p", { class: "muted" }, "Not placed.") : h("table", {},
      h("thead", {}, h("tr", {}, ["Replica", "Node", "Attempt", "Rate"].map(t => h("th", {}, t)))),
      h("tbody", {}, job.assignments.map(a => h("tr", {},
        h("td", {}, a.replica), h("td", {}, nodeLink(a.nodeId)), h("td", {}, a.attempt), h("td", {}, a.rate ? credits(a.rate) : "—"))))));
  });
  follow(`/v1/jobs/${encodeURIComponent(id)}/events`, {
    key,
    onEvent: (_, e) => log.prepend(h("li", {}, h("span", { class: "muted" }, time(e.at)), " ", badge(e.status), " ", e.reason ?? "")),
  });
}

// ---- start ---------------------------------------------------------------------------------------------------------

document.getElementById("dataset-lookup").addEventListener("submit", e => {
  e.preventDefault();
  const name = document.getElementById("dataset-name").value.trim();
  if (name) location.hash = `#/datasets/${encodeURIComponent(name)}`;
});
window.addEventListener("hashchange", route);
route();
