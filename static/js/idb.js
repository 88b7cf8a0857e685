// IndexedDB helpers. Small records (outbox progress, drafts, the sent list, meta) apart from
// photo bytes (blobs: once each by SHA-256, shared by outbox entries and drafts).
const DB_NAME = "fieldreport";
const STORES = { outbox: "client_id", blobs: "sha256", drafts: "owner", sent: "client_id", meta: "key" };
let opening = null;

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

// Version 1 kept each photo's bytes inside its entry: move them to the blobs store, once each.
function moveBlobs(tx) {
  const blobs = tx.objectStore("blobs");
  tx.objectStore("outbox").openCursor().onsuccess = (event) => {
    const cursor = event.target.result;
    if (!cursor) return;
    const entry = cursor.value;
    for (const photo of entry.photos || []) {
      if (photo.blob) blobs.put({ sha256: photo.sha256, blob: photo.blob });
      delete photo.blob;
    }
    cursor.update(entry);
    cursor.continue();
  };
}

export function open() {
  if (!opening) {
    const request = indexedDB.open(DB_NAME, 2);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      for (const [name, keyPath] of Object.entries(STORES)) {
        if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath });
      }
      if (event.oldVersion === 1) moveBlobs(request.transaction);
    };
    opening = done(request).then((db) => {
      // A newer release wants to upgrade the database: let it (this page reloads on its prompt).
      db.onversionchange = () => { db.close(); opening = null; };
      return db;
    }).catch((error) => { opening = null; throw error; });
  }
  return opening;
}

/** Run work(stores) in one transaction over the named stores; resolves when it is committed. */
export async function run(names, mode, work) {
  const db = await open();
  const tx = db.transaction(names, mode);
  const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
  const result = work(stores);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = tx.onabort = () => reject(tx.error || new DOMException("aborted", "AbortError"));
  });
  return result instanceof IDBRequest ? result.result : result;
}

export const put = (store, value) => run([store], "readwrite", (s) => s[store].put(value));
export const get = (store, key) => run([store], "readonly", (s) => s[store].get(key));
export const remove = (store, key) => run([store], "readwrite", (s) => s[store].delete(key));
export const all = (store) => run([store], "readonly", (s) => s[store].getAll());

/** True when the browser refused a write because the phone (or the site's share) is full. */
export const isFull = (error) => error?.name === "QuotaExceededError";

/** Store photo bytes under their SHA-256 unless they are there already (never rewritten). */
export function keepBlobs(stores, photos) {
  for (const photo of photos) {
    if (!photo.blob) continue;
    const request = stores.blobs.getKey(photo.sha256);
    request.onsuccess = () => {
      if (request.result === undefined) stores.blobs.put({ sha256: photo.sha256, blob: photo.blob });
    };
  }
}

/** Photo records without their bytes: what outbox entries and drafts hold. */
export const refs = (photos) => photos.map(({ blob, ...rest }) => rest);

/** Free the bytes of these photos unless an outbox entry or a draft still needs them. */
export function release(shas) {
  if (!shas.length) return Promise.resolve();
  return run(["outbox", "drafts", "blobs"], "readwrite", (s) => {
    const entries = s.outbox.getAll();
    const drafts = s.drafts.getAll();
    drafts.onsuccess = () => {
      const used = new Set([...entries.result, ...drafts.result].flatMap((r) => (r.photos || []).map((p) => p.sha256)));
      for (const sha of shas) if (!used.has(sha)) s.blobs.delete(sha);
    };
  });
}

/** Photo records with their bytes put back (for sending, or for the form). */
export async function withBlobs(photos) {
  const found = await run(["blobs"], "readonly", (s) => photos.map((p) => s.blobs.get(p.sha256)));
  return photos.map((photo, i) => ({ ...photo, blob: found[i].result?.blob || null }));
}
