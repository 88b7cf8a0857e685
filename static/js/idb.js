// A few promise helpers over IndexedDB: one database, one object store of outbox entries.
const DB_NAME = "fieldreport";
const STORE = "outbox";
let opening = null;

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

export function open() {
  if (!opening) {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "client_id" });
    opening = done(request).catch((error) => { opening = null; throw error; });
  }
  return opening;
}

async function run(mode, work) {
  const db = await open();
  const tx = db.transaction(STORE, mode);
  const result = work(tx.objectStore(STORE));
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
  return result instanceof IDBRequest ? result.result : result;
}

export const put = (entry) => run("readwrite", (store) => store.put(entry));
export const get = (key) => run("readonly", (store) => store.get(key));
export const remove = (key) => run("readwrite", (store) => store.delete(key));
export const all = () => run("readonly", (store) => store.getAll());
export const count = () => run("readonly", (store) => store.count());
