// The service worker (served by /sw.js, which writes VERSION, SHELL_ASSETS and SHELL_PAGES above).
// Shell files come from this release's own cache only (never another release's, so a page runs
// one release's scripts); pages from the network first, the cached copy when offline. API
// requests and every other page pass straight through and are never cached.
import { flush } from "/static/js/outbox.js";

const CACHE = `fieldreport-${VERSION}`;
const NETWORK_TIMEOUT_MS = 3000;

async function precachePages(cache, paths = SHELL_PAGES) {
  await Promise.all(paths.map(async (path) => {
    try {
      const response = await fetch(path, { credentials: "same-origin", cache: "no-store" });
      if (response.ok && !response.redirected) await cache.put(path, response);
    } catch { /* offline during install: the page is cached at its next visit */ }
  }));
}

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then(async (cache) => {
    // Revalidate: the browser's HTTP cache may still hold the previous release's files.
    await cache.addAll(SHELL_ASSETS.map((url) => new Request(url, { cache: "no-cache" })));
    await precachePages(cache);
    // First install: take over at once. An update waits for the observer's word (sw-update.js).
    if (!self.registration.active) await self.skipWaiting();
  }));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("fieldreport-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// Cached pages carry the observer's name and CSRF token: they go when the session does, from
// every release's cache. (The outbox in IndexedDB stays: it is kept per observer.)
async function forgetPages() {
  for (const name of await caches.keys()) {
    if (!name.startsWith("fieldreport-")) continue;
    const cache = await caches.open(name);
    await Promise.all(SHELL_PAGES.map((path) => cache.delete(path)));
  }
}

// The switch to this release waits until no tab (and no Background Sync) is sending.
function activateWhenIdle() {
  if (!self.navigator.locks) return self.skipWaiting();
  return self.navigator.locks.request("fieldreport-outbox", () => self.skipWaiting());
}

async function warm() {
  const cache = await caches.open(CACHE);
  const missing = [];
  for (const path of SHELL_PAGES) if (!(await cache.match(path))) missing.push(path);
  await precachePages(cache, missing);
}

self.addEventListener("message", (event) => {
  if (event.data === "activate" || event.data === "skipWaiting") event.waitUntil(activateWhenIdle());
  if (event.data === "warm") event.waitUntil(warm());
  if (event.data === "forget") event.waitUntil(forgetPages());
  if (event.data === "version") event.ports[0]?.postMessage(VERSION); // which release runs
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (error) => { clearTimeout(timer); reject(error); });
  });
}

async function page(request, path) {
  const cache = await caches.open(CACHE);
  const shell = SHELL_PAGES.includes(path);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (shell && response.ok && !response.redirected) await cache.put(path, response.clone());
    // A session that ended (log-out elsewhere, expiry, "revoke all") lands on the log-in page.
    if (response.redirected && new URL(response.url).pathname === "/login") await forgetPages();
    return response;
  } catch (error) {
    const cached = (shell && await cache.match(path)) || await cache.match("/outbox");
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") event.waitUntil(forgetPages());
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(page(request, url.pathname));
  } else if (SHELL_ASSETS.includes(url.pathname)) {
    event.respondWith(caches.open(CACHE).then((cache) => cache.match(url.pathname)).then((hit) => hit || fetch(request)));
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag !== "outbox") return;
  event.waitUntil((async () => {
    const result = await flush();
    // Rejecting asks the browser to try the sync again later.
    if (result.waiting && result.reason !== "login") throw new Error("outbox: still waiting");
  })());
});
