// The phone's signing key (issue 11): made once per phone and account with WebCrypto (ECDSA P-256,
// which every browser has), never extractable, kept in IndexedDB; its public key is registered
// with the server (POST /api/v1/devices). Each report is signed, with its photos' SHA-256, before
// it enters the outbox: the server checks the signature over the exact bytes of signed_body and
// keeps it in the evidence log. A phone whose key could not be registered sends unsigned.
const DB_NAME = "fieldreport-device";
const STORE = "keys";
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" };

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

async function store(mode) {
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: "owner" });
  return (await done(open)).transaction(STORE, mode).objectStore(STORE);
}

const base64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)));
const hex = (buffer) => [...new Uint8Array(buffer)].map((x) => x.toString(16).padStart(2, "0")).join("");
const owner = () => document.body.dataset.user || "";

/** This account's key on this phone, made on first use (its id: SHA-256 of the public key). */
async function keyFor(user) {
  const found = await done((await store("readonly")).get(user));
  if (found) return found;
  const pair = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  const record = {
    owner: user, privateKey: pair.privateKey, spki: base64(spki),
    key_id: hex(await crypto.subtle.digest("SHA-256", spki)), registered: false,
  };
  await done((await store("readwrite")).put(record));
  return record;
}

async function register(record) {
  if (record.registered) return record;
  const token = await fetch("/api/v1/csrf", { credentials: "same-origin", cache: "no-store" });
  const response = await fetch("/api/v1/devices", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": (await token.json()).csrf_token },
    body: JSON.stringify({ algorithm: "ECDSA-P256", public_key_spki: record.spki }),
  });
  if (response.ok) {
    record.registered = true;
    await done((await store("readwrite")).put(record));
  }
  return record;
}

/** At log-in (any observer page): make the key and register it while the phone is online. */
export async function init() {
  if (!owner() || !globalThis.crypto?.subtle || !globalThis.indexedDB) return null;
  const record = await keyFor(owner());
  return navigator.onLine ? register(record).catch(() => record) : record;
}

/** The same, a moment after the page has loaded: the key's work never delays the first page. */
export function initAfterLoad() {
  const start = () => setTimeout(() => init().catch(() => {}), 1000);
  if (document.readyState === "complete") start();
  else addEventListener("load", start, { once: true });
}

/** {device_key_id, device_signature, signed_body} for a report body; {} when it cannot sign. */
export async function sign(body, photoSha256s = []) {
  const record = await init();
  if (!record?.registered) return {};
  const signedBody = JSON.stringify({ photos: [...photoSha256s].sort(), report: body });
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" }, record.privateKey, new TextEncoder().encode(signedBody),
  );
  return { device_key_id: record.key_id, device_signature: base64(signature), signed_body: signedBody };
}

if (typeof window !== "undefined") window.FieldreportDevice = { init, sign };
