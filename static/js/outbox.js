// The outbox: reports and their photos wait in IndexedDB until the server has confirmed each.
// Runs in pages and in the service worker (Background Sync); page-only parts check for document.
import { formatTime } from "./i18n.js";
import * as idb from "./idb.js";

const MAX_DELAY_MS = 10 * 60 * 1000;
const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("outbox") : null;
const inPage = typeof document !== "undefined";

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export async function sha256(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

const changed = () => {
  channel?.postMessage("changed");
  if (inPage) refresh();
};

/** Keep a report (the API body) and its prepared photos until the server confirms them. */
export async function add(body, photos, owner) {
  // Issue 11: signed on the phone before it is queued (device-key.js); unsigned if it cannot sign.
  const signature = await import("./device-key.js").then((m) => m.sign(body, photos.map((p) => p.sha256))).catch(() => ({}));
  body = { ...body, ...signature };
  await idb.put({
    client_id: body.client_id, body, owner, photos, state: "waiting", error: "", errors: null,
    attempts: 0, created_at: new Date().toISOString(),
  });
  changed();
}

/** The server's id of a report that is no longer in the outbox (sent by another tab, say). */
export async function sentId(clientId) {
  if (await idb.get(clientId)) return null;
  const response = await fetch(`/api/v1/reports/${clientId}`, { credentials: "same-origin" });
  return response.ok ? (await response.json()).id : null;
}

export const list = () => idb.all();
export async function discard(clientId) { await idb.remove(clientId); changed(); }

class Stop extends Error {}

async function csrfToken() {
  const response = await fetch("/api/v1/csrf", { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new Error(`csrf ${response.status}`);
  return (await response.json()).csrf_token;
}

async function answer(response) {
  try { return await response.json(); } catch { return {}; }
}

// One request with the CSRF header; a 400 for a stale token is retried once with a fresh one.
async function send(state, url, init) {
  for (let attempt = 0; ; attempt += 1) {
    const headers = { ...(init.headers || {}), "X-CSRFToken": state.token };
    const response = await fetch(url, { ...init, headers, credentials: "same-origin" });
    if (response.status !== 400 || attempt > 0) return response;
    state.token = await csrfToken();
  }
}

const explain = (response, body) => `${response.status}: ${body.message || body.error || response.statusText}`;

// The server lists the photos it already holds: after a lost answer, they are not sent again.
function markArrived(entry, report) {
  const stored = new Set((report.photos || []).map((p) => p.sha256));
  for (const photo of entry.photos) photo.sent ||= stored.has(photo.sha256);
}

async function sendEntry(entry, state) {
  if (!entry.report_id) {
    const response = await send(state, "/api/v1/reports", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(entry.body),
    });
    const body = await answer(response);
    if (response.status === 401) throw new Stop("login");
    if (response.status === 409) return { ...entry, state: "conflict", error: explain(response, body) };
    if (response.status === 422) return { ...entry, state: "invalid", error: "", errors: body.errors || {} };
    if (response.status !== 200 && response.status !== 201) throw new Error(explain(response, body));
    entry = { ...entry, report_id: body.id, state: "sending", error: "", errors: null };
    markArrived(entry, body);
    await idb.put(entry);
  } else if (entry.attempts && entry.photos.some((p) => !p.sent)) {
    const response = await fetch(`/api/v1/reports/${entry.client_id}`, { credentials: "same-origin" });
    if (response.status === 401) throw new Stop("login");
    if (response.ok) markArrived(entry, await answer(response));
  }
  for (const photo of entry.photos) {
    if (photo.sent) continue;
    const data = new FormData();
    data.append("photo", photo.blob, photo.name);
    const response = await send(state, `/api/v1/reports/${entry.client_id}/photos`, { method: "POST", body: data });
    const body = await answer(response);
    if (response.status === 401) throw new Stop("login");
    if (response.status === 413 || response.status === 422) {
      photo.error = explain(response, body);
      return { ...entry, state: "photo_refused", error: `${photo.name}: ${photo.error}` };
    }
    if (response.status !== 200 && response.status !== 201) throw new Error(explain(response, body));
    if (body.sha256 !== photo.sha256) throw new Error(`${photo.name}: the server stored other bytes`);
    photo.sent = true;
    await idb.put(entry);
  }
  return null;
}

async function pass(owner) {
  const result = { sent: {}, waiting: 0, login: false };
  const entries = (await idb.all()).filter((e) => !["conflict", "invalid", "photo_refused"].includes(e.state));
  if (!entries.length) return result;
  const state = { token: "" };
  for (const entry of entries) {
    if (owner && entry.owner && entry.owner !== owner) {
      await idb.put({ ...entry, state: "other_user", error: entry.owner });
      continue;
    }
    try {
      state.token ||= await csrfToken();
      const outcome = await sendEntry(entry, state);
      if (outcome) await idb.put(outcome);
      else {
        result.sent[entry.client_id] = (await idb.get(entry.client_id))?.report_id ?? entry.report_id;
        await idb.remove(entry.client_id);
      }
    } catch (error) {
      const login = error instanceof Stop;
      const offline = error instanceof TypeError;
      const fresh = await idb.get(entry.client_id);
      if (!fresh) continue; // discarded by the observer meanwhile
      await idb.put({
        ...fresh, state: login ? "login" : "waiting", attempts: (fresh.attempts || 0) + 1,
        error: login ? "" : offline ? "offline" : String(error.message || error),
      });
      result.waiting += 1;
      if (login || offline) { result.login = login; break; }
    }
  }
  changed();
  return result;
}

let chain = Promise.resolve();
/** Send what waits, one pass at a time (across tabs and the service worker when Web Locks exist). */
export function flush(owner) {
  const run = () => (navigator.locks ? navigator.locks.request("fieldreport-outbox", () => pass(owner)) : pass(owner));
  chain = chain.then(run, run);
  return chain;
}

// ---- pages only: badge, automatic retries, the /outbox list --------------------------------

let timer = null;
let failures = 0;
const owner = () => (inPage ? document.body.dataset.user || "" : "");

async function backgroundSync() {
  try {
    const registration = navigator.serviceWorker?.controller && await navigator.serviceWorker.ready;
    await registration?.sync?.register("outbox");
  } catch { /* Background Sync is a bonus; the page retries by itself. */ }
}

function schedule(result) {
  clearTimeout(timer);
  if (!result.waiting || result.login) { failures = 0; return; }
  backgroundSync();
  failures += 1;
  const delay = Math.min(MAX_DELAY_MS, 5000 * 2 ** (failures - 1)) * (0.75 + Math.random() / 2);
  timer = setTimeout(auto, delay);
}

export async function auto() {
  const result = await flush(owner());
  schedule(result);
  return result;
}

const words = (key) => document.querySelector(`#outbox-words [data-key="${key}"]`)?.textContent || key;

function renderEntry(entry) {
  const item = document.createElement("li");
  item.dataset.clientId = entry.client_id;
  item.dataset.state = entry.state;
  const title = document.createElement("strong");
  title.textContent = `${entry.body.category} · ${entry.body.subcategory} · ${formatTime(entry.body.occurred_at)}`;
  const state = document.createElement("span");
  state.className = `status state-${entry.state}`;
  state.textContent = words(entry.state);
  const sent = entry.photos.filter((p) => p.sent).length;
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = `${words("photos")}: ${sent}/${entry.photos.length}`;
  item.append(title, " ", state, meta);
  for (const photo of entry.photos) {
    const line = document.createElement("span");
    line.className = "meta photo-line";
    line.dataset.sha256 = photo.sha256;
    const where = photo.capture ? ` · ${photo.capture.latitude.toFixed(5)}, ${photo.capture.longitude.toFixed(5)}` : "";
    line.textContent = `${photo.name} · ${Math.round(photo.size / 1024)} KB${where}`;
    item.append(line);
  }
  const problems = entry.errors ? Object.entries(entry.errors).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`) : [];
  if (entry.error) problems.unshift(entry.state === "waiting" && entry.error === "offline" ? words("offline") : entry.error);
  for (const text of problems) {
    const p = document.createElement("span");
    p.className = "error-text";
    p.textContent = text;
    item.append(p);
  }
  const drop = document.createElement("button");
  drop.type = "button";
  drop.className = "link danger";
  drop.textContent = words("discard");
  drop.addEventListener("click", () => { if (confirm(words("confirm"))) discard(entry.client_id); });
  item.append(drop);
  return item;
}

export async function refresh() {
  if (!inPage) return;
  let entries = [];
  try { entries = await idb.all(); } catch { return; }
  const badge = document.getElementById("outbox-count");
  if (badge) {
    badge.textContent = String(entries.length);
    badge.hidden = entries.length === 0;
  }
  const list = document.getElementById("outbox-list");
  if (!list) return;
  list.replaceChildren(...entries.map(renderEntry));
  document.getElementById("outbox-empty").hidden = entries.length > 0;
  document.getElementById("outbox-login").hidden = !entries.some((e) => e.state === "login");
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/", type: "module" });
  navigator.serviceWorker.controller?.postMessage("warm");
  // A new version waits until the page says so: at the next load, or when the observer taps.
  if (registration.waiting && navigator.serviceWorker.controller) registration.waiting.postMessage("skipWaiting");
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", () => {
      if (worker.state !== "installed" || !navigator.serviceWorker.controller) return;
      const button = document.getElementById("app-update");
      if (!button) return;
      button.hidden = false;
      button.onclick = () => {
        navigator.serviceWorker.addEventListener("controllerchange", () => location.reload());
        worker.postMessage("skipWaiting");
      };
    });
  });
}

if (inPage && document.body.dataset.user) {
  channel?.addEventListener("message", refresh);
  addEventListener("online", () => { failures = 0; auto(); });
  navigator.serviceWorker?.addEventListener("message", (event) => { if (event.data === "flush") auto(); });
  document.getElementById("outbox-send")?.addEventListener("click", () => { failures = 0; auto(); });
  refresh();
  auto();
  registerWorker().catch(() => {});
  import("./device-key.js").then((m) => m.initAfterLoad()).catch(() => {}); // issue 11: the phone's key
}
