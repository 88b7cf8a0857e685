// Nothing typed is lost: the form is kept as the observer types (one draft per observer) and
// restored on return; a refused report reopens here with its errors beside their fields.
import * as idb from "./idb.js";
import { get } from "./outbox.js";

const SAVE_AFTER_MS = 400;
const SKIP = new Set(["csrf_token"]);
let form = null;
let hooks = null;
let timer = null;
let restoring = false;
let generation = 0;
let saving = Promise.resolve();
const owner = () => document.body.dataset.userId || "";
const note = () => document.getElementById("draft-note");

function values() {
  const pairs = [];
  for (const el of form.elements) {
    if (!el.name || SKIP.has(el.name) || ["file", "submit", "button"].includes(el.type)) continue;
    if (el.type === "radio") { if (el.checked) pairs.push([el.name, el.value]); continue; }
    pairs.push([el.name, el.type === "checkbox" ? el.checked : el.value]);
  }
  return pairs;
}

function elements(name) {
  const found = form.elements.namedItem(name);
  if (!found) return [];
  return found instanceof RadioNodeList ? [...found] : [found];
}

function setValue(name, value) {
  const els = elements(name);
  for (const el of els) {
    if (el.type === "radio") el.checked = el.value === String(value);
    else if (el.type === "checkbox") el.checked = value === true || value === "on";
    else el.value = value ?? "";
  }
  return els;
}

// Listeners of the form (sub-types of a category, the time offset) follow the restored values;
// a listener that resets a dependent field is overruled by a second pass.
function apply(pairs) {
  const touched = pairs.flatMap(([name, value]) => setValue(name, value));
  for (const el of touched) el.dispatchEvent(new Event("change", { bubbles: true }));
  for (const [name, value] of pairs) setValue(name, value);
}

function showPhotos(photos) {
  hooks.setPhotos(photos);
  const previews = document.getElementById("previews");
  previews?.replaceChildren(...photos.map((photo) => {
    const img = document.createElement("img");
    img.alt = photo.name;
    img.src = URL.createObjectURL(photo.blob);
    img.onload = () => URL.revokeObjectURL(img.src);
    return img;
  }));
  form.dataset.photosReady = String(photos.length);
  form.dataset.photoSha256 = photos.map((p) => p.sha256).join(" ");
}

function say(key) {
  const box = note();
  if (!box) return;
  box.querySelector("span").textContent = box.dataset[key];
  box.className = key === "fix" ? "warning" : "notice";
  box.hidden = false;
}

/** A write refused because the phone is full: say so in words (the form keeps its values). */
export function storageFull(error) {
  if (!idb.isFull(error)) return false;
  const warning = document.getElementById("storage-warning");
  if (warning) warning.hidden = false;
  const status = document.getElementById("form-status");
  if (status) { status.textContent = ""; status.className = ""; }
  return true;
}

async function save(mine) {
  if (mine !== generation) return;
  const photos = await hooks.photos();
  if (mine !== generation) return;
  const draft = { owner: owner(), values: values(), photos: idb.refs(photos), saved_at: new Date().toISOString() };
  const old = await idb.get("drafts", draft.owner);
  try {
    await idb.run(["drafts", "blobs"], "readwrite", (s) => { idb.keepBlobs(s, photos); s.drafts.put(draft); });
  } catch (error) {
    if (!storageFull(error)) throw error;
    return;
  }
  const kept = new Set(draft.photos.map((p) => p.sha256));
  await idb.release((old?.photos || []).map((p) => p.sha256).filter((sha) => !kept.has(sha)));
}

function soon(delay = SAVE_AFTER_MS) {
  if (restoring) return;
  clearTimeout(timer);
  const mine = generation;
  timer = setTimeout(() => { saving = saving.then(() => save(mine)).catch(() => {}); }, delay);
}

/** The report is in the outbox now: the draft goes (its photos stay, the entry holds them). */
export async function keptInOutbox() {
  generation += 1;
  clearTimeout(timer);
  await saving;
  const draft = await idb.get("drafts", owner());
  await idb.remove("drafts", owner());
  await idb.release((draft?.photos || []).map((p) => p.sha256));
  if (note()) note().hidden = true;
}

async function discard() {
  if (!confirm(note().dataset.confirm)) return;
  await keptInOutbox();
  location.replace(location.pathname);
}

function fromBody(body) {
  const plain = ["client_id", "category", "subcategory", "latitude", "longitude", "accuracy_m", "position_source",
    "basis", "attribution_party", "attribution_confidence", "narrative", "urgent"];
  const pairs = plain.map((name) => [name, body[name] ?? ""]);
  pairs.push(["occurred_local", (body.occurred_at || "").slice(0, 16)]);
  for (const [name, value] of Object.entries(body.details || {})) pairs.push([`d-${body.category}-${name}`, value]);
  return pairs;
}

function fieldName(key, category) {
  if (key === "occurred_at") return "occurred_local";
  return key.startsWith("details.") ? `d-${category}-${key.slice(8)}` : key;
}

function clearMarks() {
  for (const span of form.querySelectorAll("[data-refusal]")) span.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const rest = (el.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && !id.startsWith("refused-"));
    if (rest.length) el.setAttribute("aria-describedby", rest.join(" ")); else el.removeAttribute("aria-describedby");
  }
}

function markErrors(errors, category) {
  clearMarks();
  let first = null;
  for (const [key, messages] of Object.entries(errors || {})) {
    const name = fieldName(key, category);
    const els = elements(name).filter((el) => el.type !== "hidden");
    const span = document.createElement("span");
    span.className = "error-text";
    span.id = `refused-${name}`;
    span.dataset.refusal = "";
    span.textContent = [].concat(messages).join(" ");
    for (const el of els) {
      el.setAttribute("aria-invalid", "true");
      el.setAttribute("aria-describedby", [el.getAttribute("aria-describedby"), span.id].filter(Boolean).join(" "));
    }
    // Below the field's label, or below its row of fields (latitude beside longitude).
    const label = els[0]?.type === "radio" ? els[0].closest("fieldset") : els[0]?.closest("label");
    const anchor = label?.parentElement.classList.contains("row") ? label.parentElement : label || els[0];
    if (anchor) anchor.after(span); else form.prepend(span);
    first ||= els[0];
  }
  first?.focus();
}

/** After a send: true when the server refused this report (the form then shows why). */
export async function showRefusal(clientId) {
  const entry = await get(clientId);
  if (!entry || entry.state !== "invalid") return false;
  markErrors(entry.errors, entry.body.category);
  say("fix");
  const status = document.getElementById("form-status");
  if (status) { status.textContent = ""; status.className = ""; }
  soon(0);
  return true;
}

async function reopen(clientId) {
  const entry = await get(clientId);
  const me = [document.body.dataset.userId, document.body.dataset.user];
  if (!entry || !me.includes(entry.owner)) return false;
  apply(fromBody(entry.body));
  showPhotos((await idb.withBlobs(entry.photos)).filter((p) => p.blob));
  if (entry.state === "invalid") await showRefusal(clientId);
  return true;
}

async function restore() {
  const fix = /^#fix=([\w-]+)$/.exec(location.hash);
  if (fix) {
    history.replaceState(null, "", location.pathname);
    if (await reopen(fix[1])) return;
  }
  const draft = await idb.get("drafts", owner());
  if (!draft) return;
  apply(draft.values);
  showPhotos((await idb.withBlobs(draft.photos)).filter((p) => p.blob));
  say("restored");
}

/** Start keeping the form. hooks: photos() → the prepared photos; setPhotos(list) takes them back. */
export async function initDrafts(theForm, theHooks) {
  form = theForm;
  hooks = theHooks;
  if (!owner() || !("indexedDB" in window)) return;
  note()?.querySelector("button").addEventListener("click", discard);
  restoring = true;
  try { await restore(); } catch { /* an unreadable draft must not break the form */ } finally { restoring = false; }
  form.addEventListener("input", () => soon());
  form.addEventListener("change", () => soon());
  addEventListener("pagehide", () => { if (timer) soon(0); });
}
