// The outbox: reports wait in IndexedDB until the server confirms each one and its photos (then
// they go). Runs in pages and the service worker; the page side is outbox-view.js.
import * as idb from "./idb.js";

const MAX_DELAY_MS = 10 * 60 * 1000;
const SENT_KEPT = 30;
const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("outbox") : null;
/** "changed", "pass" (its result), "session" (who, and the clock). */
export const events = new EventTarget();
/** Every request gets base + its bytes at a slow phone link's pace, then it is abandoned. */
export const limits = { baseMs: 20000, bytesPerSecond: 16000 };

const hex = (bytes) => [...bytes].map((x) => x.toString(16).padStart(2, "0")).join("");

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const sha256 = async (blob) => hex(new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer())));

const changed = () => {
  channel?.postMessage("changed");
  events.dispatchEvent(new Event("changed"));
};
// Another tab or the service worker changed the entries, or finished a pass (its result).
channel?.addEventListener("message", ({ data }) => {
  events.dispatchEvent(data?.pass ? new CustomEvent("pass", { detail: data.pass }) : new Event("changed"));
});

/** Keep a report (the API body) and its prepared photos until the server confirms them.
 *  Throws QuotaExceededError when the phone is full (idb.isFull): the caller says so. */
export async function add(body, photos, owner) {
  // Issue 11: signed on the phone before it is queued (device-key.js); unsigned if it cannot sign.
  const signature = await import("./device-key.js").then((m) => m.sign(body, photos.map((p) => p.sha256))).catch(() => ({}));
  body = { ...body, ...signature };
  const entry = {
    client_id: body.client_id, body, owner: String(owner), photos: idb.refs(photos), state: "waiting",
    error: "", errors: null, attempts: 0, created_at: new Date().toISOString(),
  };
  await idb.run(["outbox", "blobs"], "readwrite", (s) => { idb.keepBlobs(s, photos); s.outbox.put(entry); });
  changed();
}

export const get = (clientId) => idb.get("outbox", clientId);
export const list = () => idb.all("outbox");
export const sentList = () => idb.all("sent");

export async function discard(clientId) {
  const entry = await get(clientId);
  await idb.remove("outbox", clientId);
  await idb.release((entry?.photos || []).map((p) => p.sha256));
  changed();
}

/** The server's id of a report sent (by another tab, say), or null. */
export async function sentId(clientId) {
  if (await get(clientId)) return null;
  return (await idb.get("sent", clientId))?.report_id ?? null;
}

class Stop extends Error {
  constructor(reason, detail = "") { super(reason); this.reason = reason; this.detail = detail; }
}

/** fetch with a time limit sized to the upload: {response, body}, or throws Stop. */
async function request(url, init = {}, bytes = 0) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.baseMs + (1000 * bytes) / limits.bytesPerSecond);
  try {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store", ...init, signal: controller.signal });
    let body = {};
    try { body = await response.json(); } catch { /* not JSON: an HTML login page, a proxy's error */ }
    if (response.status === 401 || (response.redirected && new URL(response.url).pathname === "/login")) throw new Stop("login");
    if (response.status >= 500) throw new Stop("server", String(response.status));
    return { response, body };
  } catch (error) {
    if (error instanceof Stop) throw error;
    throw new Stop(controller.signal.aborted ? "timeout" : "offline");
  } finally {
    clearTimeout(timer);
  }
}

/** Who the session is (entries of others wait for them) and how far this phone's clock is off. */
export async function whoami() {
  const before = Date.now();
  const { response, body } = await request("/outbox/session.json");
  if (!response.ok) throw new Stop("login");
  const skewMs = (before + Date.now()) / 2 - body.server_time_ms;
  const session = { ...body, skew_ms: skewMs, owners: [String(body.user_id), body.username] };
  events.dispatchEvent(new CustomEvent("session", { detail: session }));
  return session;
}

async function csrfToken() {
  return (await request("/api/v1/csrf")).body.csrf_token;
}

// One request with the CSRF header; a 400 for a stale token is retried once with a fresh one.
async function send(state, url, init, bytes) {
  for (let attempt = 0; ; attempt += 1) {
    state.token ||= await csrfToken();
    const headers = { ...(init.headers || {}), "X-CSRFToken": state.token, "X-Phone-Sent-At": new Date().toISOString() };
    const answer = await request(url, { ...init, headers }, bytes);
    if (answer.response.status !== 400 || attempt > 0) return answer;
    state.token = "";
  }
}

const explain = ({ response, body }) => body.message || body.error || `${response.status} ${response.statusText}`;

// Progress is saved as it comes; a full phone must not stop a send the server can finish.
async function save(state, entry) {
  try { await idb.put("outbox", { ...entry, photos: idb.refs(entry.photos) }); } catch (error) {
    if (!idb.isFull(error)) throw error;
    state.full = true;
  }
}

// The server lists the photos it already holds: after a lost answer, they are not sent again.
function markArrived(entry, report) {
  const stored = new Set((report.photos || []).map((p) => p.sha256));
  for (const photo of entry.photos) photo.sent ||= stored.has(photo.sha256);
}

async function sendReport(entry, state) {
  const json = JSON.stringify(entry.body);
  const answer = await send(state, "/api/v1/reports", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: json,
  }, json.length);
  const { status } = answer.response;
  if (status === 409) return { ...entry, state: "conflict", error: explain(answer) };
  if (status === 422) return { ...entry, state: "invalid", error: "", errors: answer.body.errors || {} };
  if (status !== 200 && status !== 201) throw new Stop("server", explain(answer));
  entry.report_id = answer.body.id;
  entry.state = "sending";
  markArrived(entry, answer.body);
  await save(state, entry);
  return null;
}

async function sendPhotos(entry, state) {
  const photos = await idb.withBlobs(entry.photos.filter((p) => !p.sent));
  for (const photo of photos) {
    if (!photo.blob) throw new Stop("server", `${photo.name}: missing on the phone`);
    const data = new FormData();
    data.append("photo", photo.blob, photo.name);
    const answer = await send(state, `/api/v1/reports/${entry.client_id}/photos`, { method: "POST", body: data }, photo.blob.size);
    const { status } = answer.response;
    if (status === 413 || status === 422) {
      return { ...entry, state: "photo_refused", error: `${photo.name}: ${explain(answer)}` };
    }
    if (status !== 200 && status !== 201) throw new Stop("server", explain(answer));
    if (answer.body.sha256 !== photo.sha256) throw new Stop("server", `${photo.name}: the server stored other bytes`);
    entry.photos.find((p) => p.sha256 === photo.sha256).sent = true;
    await save(state, entry);
  }
  return null;
}

async function sendEntry(entry, state) {
  if (!entry.report_id) {
    const refused = await sendReport(entry, state);
    if (refused) return refused;
  } else if (entry.attempts && entry.photos.some((p) => !p.sent)) {
    const answer = await request(`/api/v1/reports/${entry.client_id}`);
    if (answer.response.ok) markArrived(entry, answer.body);
  }
  return sendPhotos(entry, state);
}

// Confirmed: the entry and its bytes go at once; a small line is kept in the "sent" list.
async function confirmed(entry) {
  const { category, subcategory, occurred_at: occurredAt } = entry.body;
  const line = { client_id: entry.client_id, owner: entry.owner, report_id: entry.report_id, category, subcategory, occurred_at: occurredAt, sent_at: new Date().toISOString() };
  await idb.remove("outbox", entry.client_id);
  await idb.release(entry.photos.map((p) => p.sha256));
  try {
    await idb.put("sent", line);
    const mine = (await idb.all("sent")).filter((s) => s.owner === entry.owner).sort((a, b) => (a.sent_at < b.sent_at ? 1 : -1));
    for (const old of mine.slice(SENT_KEPT)) await idb.remove("sent", old.client_id);
  } catch (error) { if (!idb.isFull(error)) throw error; }
}

const HELD = ["conflict", "invalid", "photo_refused"];

async function pass() {
  const result = { sent: {}, waiting: 0, refused: 0, others: 0, reason: "", detail: "", full: false };
  const state = { token: "", full: false };
  try {
    const entries = await list();
    if (!entries.length) return result;
    const session = await whoami().catch(async (error) => {
      if (error.reason === "login") {
        for (const e of entries) if (!HELD.includes(e.state)) await save(state, { ...e, state: "login", error: "login" });
      }
      throw error;
    });
    for (const entry of entries) {
      if (!session.owners.includes(entry.owner)) { result.others += 1; continue; }
      if (HELD.includes(entry.state)) { result.refused += 1; continue; }
      try {
        const outcome = await sendEntry(entry, state);
        if (outcome) { result.refused += 1; await save(state, outcome); continue; }
        result.sent[entry.client_id] = entry.report_id;
        await confirmed(entry);
      } catch (error) {
        const fresh = await get(entry.client_id);
        if (fresh && error instanceof Stop) {
          const reason = error.reason === "login" ? "login" : "waiting";
          await save(state, { ...fresh, state: reason, attempts: (fresh.attempts || 0) + 1, error: error.reason });
        }
        throw error;
      }
    }
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    result.reason = error.reason;
    result.detail = error.detail;
    result.waiting = (await list()).filter((e) => !HELD.includes(e.state)).length - result.others;
  }
  result.full = state.full;
  result.login = result.reason === "login";
  return result;
}

// Without Web Locks: a lease in IndexedDB, renewed by each pass, that a dead sender loses.
async function lease(work) {
  const id = uuid();
  const now = Date.now();
  const won = await idb.run(["meta"], "readwrite", (s) => {
    const held = s.meta.get("sender");
    const outcome = { won: false };
    held.onsuccess = () => {
      if (held.result && held.result.until > now) return;
      s.meta.put({ key: "sender", id, until: now + 10 * 60 * 1000 });
      outcome.won = true;
    };
    return outcome;
  });
  if (!won.won) return null;
  try { return await work(); } finally { await idb.remove("meta", "sender"); }
}

const BUSY = { sent: {}, waiting: 0, refused: 0, others: 0, reason: "busy", detail: "", full: false };
/** Send what waits, one sender at a time across tabs and the service worker. */
export async function flush() {
  const exclusive = navigator.locks
    ? navigator.locks.request("fieldreport-outbox", { ifAvailable: true }, (lock) => (lock ? pass() : null))
    : lease(pass);
  const result = (await exclusive) || BUSY;
  if (Object.keys(result.sent).length || result.refused || result.reason !== "busy") changed();
  events.dispatchEvent(new CustomEvent("pass", { detail: result }));
  if (result.reason !== "busy") channel?.postMessage({ pass: result });
  return result;
}

let timer = null;
let failures = 0;
export let nextTry = null;

async function backgroundSync() {
  try {
    const registration = self.navigator.serviceWorker?.controller && await navigator.serviceWorker.ready;
    await registration?.sync?.register("outbox");
  } catch { /* Background Sync is a bonus; the page retries by itself. */ }
}

function schedule(result) {
  clearTimeout(timer);
  nextTry = null;
  if (!(result.waiting || result.reason === "busy") || result.reason === "login") { failures = 0; return; }
  if (typeof document !== "undefined") backgroundSync();
  failures += 1;
  const delay = Math.min(MAX_DELAY_MS, 5000 * 2 ** (failures - 1)) * (0.75 + Math.random() / 2);
  nextTry = new Date(Date.now() + delay);
  timer = setTimeout(auto, delay);
}

/** Send now (a fresh start of the back-off), and keep trying while reports wait. */
export async function auto({ reset = false } = {}) {
  if (reset) failures = 0;
  const result = await flush();
  schedule(result);
  return result;
}
