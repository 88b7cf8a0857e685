// Progressive help for the report form: position, time offset, category fields, photos, outbox.
// Without JavaScript the form posts to the server as it is. With it, every report goes through
// the outbox: stored on the phone first, then sent at once; the page moves to the report when
// the server confirmed it, and otherwise says it waits in the outbox.
import { add, auto, sentId, sha256, uuid } from "./outbox.js";
import { check, pageRules, showErrors } from "./field-rules.js";
import { farWarning, lastFix, start as startPosition } from "./position.js";
import { initDrafts, keptInOutbox, showRefusal, storageFull } from "./drafts.js";

const MAX_EDGE = 2048;
const QUALITY = 0.85;
const form = document.getElementById("report-form");
const $ = (name) => form.elements.namedItem(name);
const say = (el, key, extra = "") => { el.textContent = (el.dataset[key] || key) + extra; };

// ---- time -------------------------------------------------------------------------------
const pad = (n) => String(n).padStart(2, "0");
const localNow = () => {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
const offsetOf = (local) => {
  const when = local ? new Date(local) : new Date();
  return Number.isNaN(when.getTime()) ? null : -when.getTimezoneOffset();
};
const setOffset = () => {
  const offset = offsetOf($("occurred_local").value);
  if (offset !== null) $("tz_offset").value = String(offset);
};

// A page served from the cache carries the time and client_id of the day it was cached.
function fresh() {
  $("client_id").value = uuid();
  if (!form.querySelector("[id^=err-]")) $("occurred_local").value = localNow();
  setOffset();
}

// ---- category fields ------------------------------------------------------------------------
const picked = (name) => form.elements.namedItem(name)?.value ?? "";
const applies = (box, sub) => !sub || !box.dataset.subs || box.dataset.subs.split(" ").includes(sub);
function showCategory() {
  const category = picked("category");
  for (const group of form.querySelectorAll("#kind .picks")) {
    const own = group.dataset.category === category;
    group.hidden = Boolean(category) && !own;
    const radios = group.querySelectorAll("input");
    for (const radio of radios) if (!own && radio.checked) radio.checked = false;
    if (own && radios.length === 1) radios[0].checked = true;
  }
  document.getElementById("kind").hidden = !category;
  const sub = picked("subcategory");
  for (const set of form.querySelectorAll("fieldset.details")) {
    set.hidden = set.dataset.category !== category || !sub;
    for (const box of set.querySelectorAll("[data-field]")) box.hidden = !applies(box, sub);
  }
}

// ---- the usual choices, remembered on this phone for this observer --------------------------
const USUAL = ["category", "subcategory", "basis"];
const usualKey = () => `fieldreport.usual.${document.body.dataset.user || ""}`;
function rememberUsual(body) {
  try { localStorage.setItem(usualKey(), JSON.stringify(Object.fromEntries(USUAL.map((n) => [n, body[n]])))); } catch { /* private mode */ }
}
function applyUsual() {
  let usual = null;
  try { usual = JSON.parse(localStorage.getItem(usualKey()) || "null"); } catch { usual = null; }
  if (!usual || picked("category") || form.querySelector("[id^=err-]")) return;
  for (const name of USUAL) {
    const scope = name === "subcategory" ? `#kind .picks[data-category="${CSS.escape(usual.category || "")}"] ` : "";
    const radio = form.querySelector(`${scope}input[name="${name}"][value="${CSS.escape(usual[name] || "")}"]`);
    if (radio) radio.checked = true;
    if (name === "category") showCategory();
  }
  showCategory();
}

// ---- photos ---------------------------------------------------------------------------------
// Canvas re-encoding drops EXIF; the original's EXIF block (capture time, camera GPS) is copied
// into the smaller JPEG with its orientation reset to 1, since the pixels are already upright.
async function exifOf(file) {
  try {
    const view = new DataView(await file.slice(0, 131072).arrayBuffer());
    if (view.getUint16(0) !== 0xffd8) return null;
    for (let p = 2; p + 10 < view.byteLength;) {
      const marker = view.getUint16(p);
      const length = view.getUint16(p + 2);
      if (marker === 0xffda || (marker & 0xff00) !== 0xff00) return null;
      if (marker === 0xffe1 && view.getUint32(p + 4) === 0x45786966 && p + 2 + length <= view.byteLength) {
        const segment = new Uint8Array(view.buffer.slice(p, p + 2 + length));
        const v = new DataView(segment.buffer);
        const little = v.getUint16(10) === 0x4949;
        const ifd = 10 + v.getUint32(14, little);
        for (let i = 0, n = v.getUint16(ifd, little); i < n; i += 1) {
          const entry = ifd + 2 + i * 12;
          if (v.getUint16(entry, little) === 0x0112) v.setUint16(entry + 8, 1, little);
        }
        return segment;
      }
      p += 2 + length;
    }
  } catch { /* unreadable EXIF: send without */ }
  return null;
}

async function withExif(jpeg, segment) {
  if (!segment) return jpeg;
  const bytes = new Uint8Array(await jpeg.arrayBuffer());
  const at = bytes[3] === 0xe0 ? 4 + ((bytes[4] << 8) | bytes[5]) : 2;
  return new Blob([bytes.slice(0, at), segment, bytes.slice(at)], { type: "image/jpeg" });
}

async function downscale(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, MAX_EDGE / Math.max(bitmap.width, bitmap.height));
  const width = Math.round(bitmap.width * scale);
  const height = Math.round(bitmap.height * scale);
  let blob;
  if (typeof OffscreenCanvas === "function") {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
    blob = await canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
  } else {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
    blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
  }
  bitmap.close();
  blob = await withExif(blob, await exifOf(file));
  // Never send a bigger file than the phone took, unless it had to shrink.
  return scale === 1 && blob.size >= file.size ? file : blob;
}

/** A photo ready for the outbox: the bytes to send, their SHA-256, where the phone was. */
export async function preparePhoto(file, original, capture) {
  let blob = file;
  if (!original) {
    try { blob = await downscale(file); } catch { blob = file; }
  }
  const base = (file.name || "photo").replace(/\.[^.]*$/, "");
  const name = blob === file ? file.name || "photo.jpg" : `${base}.jpg`;
  return { blob, name, size: blob.size, original_size: file.size, sha256: await sha256(blob), sent: false, capture };
}

// ---- the report body (the same mapping as fieldreport/reports/forms.py::form_to_values) --------
function occurredAt(local) {
  if (!local) return "";
  const offset = offsetOf(local);
  if (offset === null) return local;
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const withSeconds = local.length === 16 ? `${local}:00` : local;
  return `${withSeconds}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function reportBody() {
  const value = (name) => ($(name)?.value ?? "").trim();
  const category = value("category");
  const subcategory = value("subcategory");
  const details = {};
  const set = form.querySelector(`fieldset.details[data-category="${CSS.escape(category)}"]`);
  for (const box of set ? set.querySelectorAll("[data-field]") : []) {
    const name = box.dataset.field.slice("details.".length);
    const raw = (form.elements.namedItem(`d-${category}-${name}`)?.value ?? "").trim();
    if (applies(box, subcategory) && raw) details[name] = raw;
  }
  return {
    client_id: value("client_id"),
    category,
    subcategory,
    occurred_at: occurredAt(value("occurred_local")),
    latitude: value("latitude"),
    longitude: value("longitude"),
    accuracy_m: value("accuracy_m"),
    position_source: value("position_source") || "manual",
    basis: value("basis"),
    attribution_party: value("attribution_party") || null,
    attribution_confidence: value("attribution_confidence") || null,
    narrative: $("narrative").value,
    urgent: $("urgent").checked,
    details,
  };
}

// ---- submit through the outbox ----------------------------------------------------------------
const previews = document.getElementById("previews");
const formStatus = document.getElementById("form-status");
const original = document.getElementById("send-original");
let prepared = Promise.resolve([]);

// Each preview has a remove button; removing re-prepares what is left.
function preview(items, remove) {
  previews.replaceChildren();
  items.forEach(({ blob, name }, index) => {
    const box = document.createElement("figure");
    const img = document.createElement("img");
    img.alt = name || "";
    img.src = URL.createObjectURL(blob);
    img.onload = () => URL.revokeObjectURL(img.src);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = previews.dataset.remove || "Remove";
    button.setAttribute("aria-label", `${button.textContent}: ${name || index + 1}`);
    button.addEventListener("click", () => remove(index));
    box.append(img, button);
    previews.append(box);
  });
}

function photosReady(photos) {
  prepared = Promise.resolve(photos);
  form.dataset.photosReady = String(photos.length);
  form.dataset.photoSha256 = photos.map((p) => p.sha256).join(" ");
}

/** Photos already prepared (preparePhoto's shape), e.g. those of a refused entry reopened. */
export function usePhotos(photos) {
  preview(photos, (index) => usePhotos(photos.filter((_, i) => i !== index)));
  photosReady(photos);
}

function choosePhotos() {
  const files = [...$("photos").files];
  preview(files.map((file) => ({ blob: file, name: file.name })), (index) => {
    const kept = new DataTransfer();
    files.forEach((file, i) => { if (i !== index) kept.items.add(file); });
    $("photos").files = kept.files;
    choosePhotos();
  });
  // The phone's position when the photos were chosen (the browser does not say where they were taken).
  const capture = lastFix() ? { ...lastFix() } : null;
  prepared = Promise.all(files.map((file) => preparePhoto(file, original?.checked, capture)));
  form.dataset.photosReady = "";
  prepared.then(photosReady);
}

// ---- checks before queueing: the server's rules, then a typed position far from the fix --------
const rules = pageRules();
const problems = document.getElementById("form-problems");
let farShown = "";

/** Show these problems (the server's field names) beside their fields; the outbox's refused
 * entries use this too. Returns true when there were any. */
export function markProblems(errors) {
  const first = showErrors(form, errors, picked("category"));
  const any = Object.keys(errors).length > 0;
  problems.hidden = !any;
  if (any) say(problems, "problems");
  first?.focus();
  return any;
}

/** True when the report may be queued; otherwise the reasons are shown beside the fields. */
export function ready(body) {
  const errors = rules ? check(body, rules) : {};
  const far = farWarning();
  const warnOnly = far && far !== farShown && !Object.keys(errors).length;
  if (far && far !== farShown) errors.typed_position = far;
  farShown = far;
  if (!markProblems(errors)) return true;
  if (warnOnly) problems.hidden = true;
  return false;
}

/** Put a body (reportBody's shape) back into the form, e.g. a refused entry from the outbox. */
export function restore(body, errors = {}) {
  for (const name of ["client_id", "latitude", "longitude", "accuracy_m", "position_source", "narrative"]) {
    if ($(name) && body[name] !== undefined && body[name] !== null) $(name).value = body[name];
  }
  for (const name of ["category", "basis", "attribution_party", "attribution_confidence"]) {
    const radio = form.querySelector(`input[name="${name}"][value="${CSS.escape(body[name] || "")}"]`);
    if (radio) radio.checked = true;
  }
  showCategory();
  form.querySelector(`#kind .picks[data-category="${CSS.escape(body.category || "")}"] input[value="${CSS.escape(body.subcategory || "")}"]`)?.click();
  for (const [name, value] of Object.entries(body.details || {})) {
    const input = form.elements.namedItem(`d-${body.category}-${name}`);
    if (input) input.value = value;
  }
  $("urgent").checked = Boolean(body.urgent);
  if (body.occurred_at) $("occurred_local").value = String(body.occurred_at).slice(0, 16);
  setOffset();
  markProblems(errors);
}

async function submit(event) {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  const body = reportBody();
  if (!ready(body)) return;
  button.disabled = true;
  say(formStatus, "saving");
  try {
    await add(body, await prepared, document.body.dataset.userId || "");
    rememberUsual(body);
    await keptInOutbox();
    say(formStatus, "sending");
    const result = await auto();
    const id = result.sent[body.client_id] || await sentId(body.client_id).catch(() => null);
    if (id) {
      location.assign(`/reports/${id}`);
      return;
    }
    if (await showRefusal(body.client_id)) return;
    const keep = ["latitude", "longitude", "accuracy_m", "position_source"].map((n) => [n, $(n).value]);
    form.reset();
    for (const [n, v] of keep) $(n).value = v;
    previews.replaceChildren();
    prepared = Promise.resolve([]);
    fresh();
    showCategory();
    applyUsual();
    say(formStatus, result.login ? "login" : "saved");
    formStatus.className = "notice";
  } catch (error) {
    if (storageFull(error)) return;
    say(formStatus, "failed", ` (${error.message || error})`);
    formStatus.className = "error-text";
  } finally {
    button.disabled = false;
  }
}

fresh();
showCategory();
applyUsual();
$("occurred_local").addEventListener("change", setOffset);
form.addEventListener("change", (event) => {
  if (["category", "subcategory"].includes(event.target.name)) showCategory();
});
startPosition(form);
if (original) {
  original.closest("label").hidden = false;
  original.addEventListener("change", choosePhotos);
}
$("photos").addEventListener("change", choosePhotos);
if ("indexedDB" in window) {
  form.noValidate = true;
  form.addEventListener("submit", submit);
}
initDrafts(form, { photos: () => prepared, setPhotos: (photos) => { prepared = Promise.resolve(photos); } });
// For the outbox and drafts: fill the form, show problems, read it back.
form.reportForm = { reportBody, restore, markProblems, usePhotos };
form.dispatchEvent(new CustomEvent("report-form:ready", { detail: form.reportForm }));
