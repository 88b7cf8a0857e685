// Progressive help for the report form: position, time offset, category fields, photos, outbox.
// Without JavaScript the form posts to the server as it is. With it, every report goes through
// the outbox: stored on the phone first, then sent at once; the page moves to the report when
// the server confirmed it, and otherwise says it waits in the outbox.
import { add, auto, sentId, sha256, uuid } from "./outbox.js";
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
  if (!form.querySelector(".error-text")) $("occurred_local").value = localNow();
  setOffset();
}

// ---- category fields ------------------------------------------------------------------------
const applies = (label, sub) => !sub || !label.dataset.subs || label.dataset.subs.split(" ").includes(sub);
function showCategory() {
  const category = $("category").value;
  const sub = $("subcategory").value;
  for (const set of form.querySelectorAll("fieldset.details")) {
    set.hidden = set.dataset.category !== category;
    for (const label of set.querySelectorAll("label")) label.hidden = !applies(label, sub);
  }
  for (const group of $("subcategory").querySelectorAll("optgroup")) {
    group.hidden = Boolean(category) && group.dataset.category !== category;
  }
}

// ---- position -----------------------------------------------------------------------------
const warnAbove = Number(form.dataset.accuracyWarning || 100);
const status = document.getElementById("locate-status");
const locate = document.getElementById("locate");
let lastFix = null;

function fill(position) {
  const { latitude, longitude, accuracy } = position.coords;
  lastFix = { latitude, longitude, accuracy_m: Math.round(accuracy), at: new Date(position.timestamp).toISOString() };
  $("latitude").value = latitude.toFixed(6);
  $("longitude").value = longitude.toFixed(6);
  $("accuracy_m").value = Math.round(accuracy);
  $("position_source").value = "gps";
  const poor = accuracy > warnAbove;
  say(status, poor ? "poor" : "found", ` (± ${Math.round(accuracy)} m)`);
  status.className = poor ? "warning" : "meta";
}
function ask() {
  say(status, "finding");
  status.className = "meta";
  navigator.geolocation.getCurrentPosition(fill, (error) => {
    say(status, "none", ` (${error.message})`);
    status.className = "warning";
  }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
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
  const set = form.querySelector(`fieldset.details[data-category="${category}"]`);
  for (const label of set ? set.querySelectorAll("label") : []) {
    const input = label.querySelector("input,select");
    const name = input.name.slice(`d-${category}-`.length);
    if (applies(label, subcategory) && input.value.trim()) details[name] = input.value.trim();
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

function choosePhotos() {
  previews.replaceChildren();
  const files = [...$("photos").files];
  for (const file of files) {
    const img = document.createElement("img");
    img.alt = file.name;
    img.src = URL.createObjectURL(file);
    img.onload = () => URL.revokeObjectURL(img.src);
    previews.append(img);
  }
  // The phone's position when the photos were chosen (the browser does not say where they were taken).
  const capture = lastFix ? { ...lastFix } : null;
  prepared = Promise.all(files.map((file) => preparePhoto(file, original?.checked, capture)));
  form.dataset.photosReady = "";
  prepared.then((photos) => {
    form.dataset.photosReady = String(photos.length);
    form.dataset.photoSha256 = photos.map((p) => p.sha256).join(" ");
  });
}

async function submit(event) {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  say(formStatus, "saving");
  try {
    const body = reportBody();
    await add(body, await prepared, document.body.dataset.userId || "");
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
$("occurred_local").addEventListener("change", setOffset);
$("category").addEventListener("change", showCategory);
$("subcategory").addEventListener("change", showCategory);
for (const name of ["latitude", "longitude"]) {
  $(name).addEventListener("input", () => { $("position_source").value = "manual"; });
}
if ("geolocation" in navigator) {
  locate.hidden = false;
  locate.addEventListener("click", ask);
  if (!$("latitude").value) ask();
}
if (original) {
  original.closest("label").hidden = false;
  original.addEventListener("change", choosePhotos);
}
$("photos").addEventListener("change", choosePhotos);
if ("indexedDB" in window) form.addEventListener("submit", submit);
initDrafts(form, { photos: () => prepared, setPhotos: (photos) => { prepared = Promise.resolve(photos); } });
