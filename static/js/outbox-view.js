// The outbox as the observer sees it on every page: badge, banners, the /outbox lists and each
// sync's outcome in words, the service worker and its "New version" prompt.
import { formatTime } from "./i18n.js";
import * as outbox from "./outbox.js";

const HELD = ["conflict", "invalid", "photo_refused"];
const body = document.body;
const byId = (id) => document.getElementById(id);
const words = (key, values = {}) => {
  const text = document.querySelector(`#outbox-words [data-key="${key}"]`)?.textContent || key;
  return text.replace(/\{(\w)\}/g, (_, name) => values[name] ?? "");
};
let labels = null;
const label = (key) => {
  labels ||= JSON.parse(byId("outbox-labels")?.textContent || "{}");
  return labels[key] || key;
};
const when = (iso) => formatTime(iso) || iso; // the one format, in the mission's time zone
/** Entries of the observer logged in on this page (a shared phone holds others' too). */
export const mine = (entry) => entry.owner === body.dataset.userId || entry.owner === body.dataset.user;

const title = (r) => `${label(r.category)} · ${label(`${r.category}/${r.subcategory}`)} · ${when(r.occurred_at)}`;

function line(text, className = "meta") {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  return span;
}

function button(text, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

function problems(entry) {
  const category = entry.body.category;
  const detail = (name) => name.charAt(0).toUpperCase() + name.slice(1).replaceAll("_", " ");
  const named = (key) => (key.startsWith("details.") ? detail(key.slice(8)) : label(`field:${key}`));
  const list = Object.entries(entry.errors || {}).map(([key, messages]) => `${named(key)}: ${[].concat(messages).join(" ")}`);
  if (entry.error && !["offline", "timeout", "server", "login"].includes(entry.error)) list.unshift(entry.error);
  return list;
}

function renderEntry(entry) {
  const item = document.createElement("li");
  item.dataset.clientId = entry.client_id;
  item.dataset.state = entry.state;
  const heading = document.createElement("strong");
  heading.textContent = title(entry.body);
  const sent = entry.photos.filter((p) => p.sent).length;
  item.append(heading, " ", line(words(entry.state), `status state-${entry.state}`),
    line(`${words("photos")}: ${sent}/${entry.photos.length}`));
  for (const photo of entry.photos) item.append(line(`${photo.name} · ${Math.round(photo.size / 1024)} KB`, "meta photo-line"));
  for (const text of problems(entry)) item.append(line(text, "error-text"));
  if (entry.state === "invalid") {
    item.append(button(words("fix"), "big", () => location.assign(`/reports/new#fix=${entry.client_id}`)));
  }
  item.append(button(words("discard"), "link danger", () => {
    if (confirm(words("confirm"))) outbox.discard(entry.client_id);
  }));
  return item;
}

const statusCache = new Map();
async function serverStatus(record, item) {
  if (!navigator.onLine) return;
  const key = record.client_id;
  if (!statusCache.has(key)) {
    statusCache.set(key, fetch(`/api/v1/reports/${key}`, { credentials: "same-origin", signal: AbortSignal.timeout(outbox.limits.baseMs) })
      .then((r) => (r.ok ? r.json() : null)).catch(() => null));
  }
  const report = await statusCache.get(key);
  if (!report) { statusCache.delete(key); return; }
  const chip = item.querySelector(".status");
  chip.textContent = words(`status-${report.status}`);
  chip.className = `status status-${report.status}`;
}

function renderSent(record) {
  const item = document.createElement("li");
  item.dataset.clientId = record.client_id;
  const link = document.createElement("a");
  link.href = `/reports/${record.report_id}`;
  link.textContent = title(record);
  item.append(link, " ", line(words("status-submitted"), "status"), line(words("sent-at", { t: when(record.sent_at) })));
  serverStatus(record, item);
  return item;
}

export async function refresh() {
  let entries = [];
  let sent = [];
  try { [entries, sent] = await Promise.all([outbox.list(), outbox.sentList()]); } catch { return; }
  const own = entries.filter(mine);
  const badge = byId("outbox-count");
  if (badge) {
    badge.textContent = String(own.length);
    badge.hidden = own.length === 0;
  }
  const list = byId("outbox-list");
  if (!list) return;
  list.replaceChildren(...own.map(renderEntry));
  byId("outbox-empty").hidden = own.length > 0;
  byId("outbox-login").hidden = !own.some((e) => e.state === "login");
  byId("outbox-send").disabled = !own.some((e) => !HELD.includes(e.state));
  const others = entries.length - own.length;
  byId("outbox-others").hidden = others === 0;
  byId("outbox-others").textContent = words("others", { n: others });
  const ownSent = sent.filter(mine).sort((a, b) => (a.sent_at < b.sent_at ? 1 : -1));
  byId("sent-list").replaceChildren(...ownSent.map(renderSent));
  byId("sent-empty").hidden = ownSent.length > 0;
}

function explain(result) {
  const sent = Object.keys(result.sent).length;
  const parts = [];
  if (sent) parts.push(words("result-sent", { n: sent }));
  if (result.refused) parts.push(words("result-refused", { n: result.refused }));
  const t = outbox.nextTry ? when(outbox.nextTry, { timeStyle: "short" }) : "";
  if (result.reason === "login") parts.push(words("login-result"));
  else if (result.reason) parts.push(words(result.reason, { t, d: result.detail }));
  else if (!sent && !result.refused) parts.push(words("result-nothing"));
  return parts.join(" ");
}

function showPass(event) {
  const result = event.detail;
  const status = byId("outbox-status");
  if (result.full) byId("storage-warning").hidden = false;
  // The session ended: pages cached with its name and token go now.
  if (result.reason === "login") navigator.serviceWorker?.controller?.postMessage("forget");
  if (!status || (result.reason === "busy" && status.textContent)) return;
  // The schedule is set once the pass returns: word the outcome after it.
  setTimeout(() => {
    status.textContent = explain(result);
    status.className = result.reason && result.reason !== "busy" ? "warning" : "notice";
  });
}

function showConnection() {
  byId("offline-banner").hidden = navigator.onLine;
}

function showClock(event) {
  const { skew_ms: skew, skew_warning_s: limit } = event.detail;
  const warning = byId("clock-warning");
  const off = Math.abs(skew) > limit * 1000;
  warning.hidden = !off;
  if (!off) return;
  const minutes = Math.round(Math.abs(skew) / 60000);
  const span = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  warning.textContent = (skew > 0 ? warning.dataset.fast : warning.dataset.slow).replace("{d}", span);
}

async function showStorage() {
  try {
    const { usage, quota } = await navigator.storage.estimate();
    if (quota - usage > 5 * 1024 * 1024) byId("storage-warning").hidden = true;
  } catch { /* no estimate: the next refused write says so */ }
}

// A new release waits until the observer taps the prompt and nothing is sending (sw.js), then
// the page reloads: a page never runs old scripts against a new worker.

// At the top of the page, not in the menu: on a phone its end is scrolled off the screen.
function offer(worker) {
  const banner = byId("update-banner");
  if (!worker || !navigator.serviceWorker.controller || !banner) return;
  banner.hidden = false;
  const button = byId("app-update");
  button.onclick = () => {
    button.disabled = true;
    const note = banner.querySelector("span");
    note.textContent = note.dataset.waiting; // an upload in progress may take a while yet
    navigator.serviceWorker.addEventListener("controllerchange", () => location.reload(), { once: true });
    // The worker waits for the sender too (sw.js), but a browser may end a worker's wait (Chromium
    // after 5 minutes) and a photo on a slow link can take longer: the page waits first.
    const activate = () => worker.postMessage("activate");
    if (navigator.locks) navigator.locks.request("fieldreport-outbox", activate); else activate();
  };
}

function offerOnceInstalled(worker) {
  worker?.addEventListener("statechange", () => { if (worker.state === "installed") offer(worker); });
}

// The browser looks for a new release only when a page is opened: an open page also asks when
// the phone is back in coverage, when it is looked at again, and every half hour.
function watchReleases(registration) {
  let last = Date.now();
  const check = () => {
    if (!navigator.onLine) return;
    last = Date.now();
    registration.update().catch(() => {});
  };
  addEventListener("online", check);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && Date.now() - last > 60 * 1000) check();
  });
  setInterval(check, 30 * 60 * 1000);
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/", type: "module" });
  navigator.serviceWorker.controller?.postMessage("warm");
  offer(registration.waiting);
  // An update the browser began before this page registered (its "updatefound" is past).
  offerOnceInstalled(registration.installing);
  registration.addEventListener("updatefound", () => offerOnceInstalled(registration.installing));
  watchReleases(registration);
}

export function init() {
  if (!body.dataset.userId) return;
  navigator.storage?.persist?.().catch(() => {});
  outbox.events.addEventListener("changed", refresh);
  outbox.events.addEventListener("pass", showPass);
  outbox.events.addEventListener("session", showClock);
  addEventListener("online", () => { showConnection(); outbox.auto({ reset: true }); });
  addEventListener("offline", showConnection);
  navigator.serviceWorker?.addEventListener("message", (event) => { if (event.data === "flush") outbox.auto(); });
  byId("outbox-send")?.addEventListener("click", () => outbox.auto({ reset: true }));
  showConnection();
  showStorage();
  refresh();
  // Each send compares the clocks; so do /outbox and the form (once the observer starts on it).
  const checkClock = () => { if (navigator.onLine) outbox.whoami().catch(() => {}); };
  outbox.auto().then((result) => { if (!result.reason && byId("outbox-list")) checkClock(); });
  byId("report-form")?.addEventListener("focusin", checkClock, { once: true });
  // After the page's own files, so the worker's precache does not compete with them.
  const register = () => registerWorker().catch(() => {});
  if (document.readyState === "complete") register(); else addEventListener("load", register, { once: true });
  import("./device-key.js").then((m) => m.initAfterLoad()).catch(() => {}); // issue 11: the phone's key
}

init();
