// A position the coordinator can trust: a live GPS fix that improves while the observer waits,
// its accuracy against the "good enough" threshold, the sector it is in (or a warning outside the
// assignment), a small SVG map with the sector lines (cached for offline use, fetched once there
// is a position), and a warning when a typed position is far from the phone's fix.
const WATCH_MS = 120000;
const BEST_ENOUGH_M = 10;
const FAR_MIN_M = 1000;
const SECTORS_URL = "/api/v1/sectors";
const SECTORS_CACHE = "sector-lines";
const SVG = "http://www.w3.org/2000/svg";

let form; let status; let mapBox; let warnAbove = 100;
let fix = null;
let sectors = [];
const assigned = () => (form.dataset.assigned || "").split(" ").filter(Boolean);
const field = (name) => form.elements.namedItem(name);
const words = (key, values = {}) => (status.dataset[key] || key).replace(/\{(\w+)\}/g, (_, k) => values[k]);

export const lastFix = () => fix;

export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function inRing(ring, x, y) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i]; const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
const polygons = (geometry) => (geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates);
const inPolygon = (rings, x, y) => inRing(rings[0], x, y) && !rings.slice(1).some((hole) => inRing(hole, x, y));

export function sectorAt(latitude, longitude) {
  return sectors.find((f) => f.geometry && polygons(f.geometry).some((p) => inPolygon(p, longitude, latitude))) || null;
}

let loading = null;
async function loadSectors() {
  let response = null;
  try {
    response = await fetch(SECTORS_URL, { credentials: "same-origin" });
    if (response.ok && "caches" in window) await (await caches.open(SECTORS_CACHE)).put(SECTORS_URL, response.clone());
  } catch { response = null; }
  if (!response?.ok && "caches" in window) response = await (await caches.open(SECTORS_CACHE)).match(SECTORS_URL);
  try { sectors = response?.ok ? (await response.json()).features || [] : []; } catch { sectors = []; }
}

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
}

function bounds(point) {
  const mine = sectors.filter((f) => assigned().includes(f.properties?.code));
  const shown = [sectorAt(point.latitude, point.longitude), ...mine].filter((f) => f?.geometry);
  const xs = [point.longitude]; const ys = [point.latitude];
  for (const f of shown) for (const [x, y] of polygons(f.geometry).flat(2)) { xs.push(x); ys.push(y); }
  const pad = Math.max(0.005, (point.accuracy_m || 0) / 111000);
  return [Math.min(...xs) - pad, Math.min(...ys) - pad, Math.max(...xs) + pad, Math.max(...ys) + pad];
}

function draw(point) {
  if (!point) { mapBox.hidden = true; return; }
  const k = Math.cos((point.latitude * Math.PI) / 180);
  const [w, s, e, n] = bounds(point);
  const half = Math.max((e - w) * k / 2.6, (n - s) / 2);
  const [cx, cy] = [((w + e) / 2) * k, -(s + n) / 2];
  const view = `${cx - half * 2.6} ${cy - half} ${half * 5.2} ${half * 2}`;
  const map = svg("svg", { viewBox: view, role: "img", "aria-label": mapBox.dataset.label || "map", preserveAspectRatio: "xMidYMid slice" });
  const stroke = half / 60;
  for (const feature of sectors) {
    if (!feature.geometry) continue;
    const d = polygons(feature.geometry).flat().map((ring) => `M${ring.map(([x, y]) => `${x * k} ${-y}`).join("L")}Z`).join("");
    const mine = assigned().includes(feature.properties?.code);
    map.append(svg("path", { d, class: mine ? "mine" : "sector", "stroke-width": stroke * (mine ? 2 : 1) }));
    const ring = polygons(feature.geometry)[0][0];
    const at = ring.reduce(([x, y], [px, py]) => [x + px / ring.length, y + py / ring.length], [0, 0]);
    const label = svg("text", { x: at[0] * k, y: -at[1], "font-size": half / 4, "text-anchor": "middle" });
    label.textContent = feature.properties?.code || "";
    map.append(label);
  }
  const r = Math.max(stroke * 3, (point.accuracy_m || 0) / 111000);
  map.append(svg("circle", { cx: point.longitude * k, cy: -point.latitude, r, class: "accuracy", "stroke-width": stroke }));
  map.append(svg("circle", { cx: point.longitude * k, cy: -point.latitude, r: stroke * 4, class: "fix" }));
  mapBox.replaceChildren(map);
  mapBox.hidden = false;
}

function typedPoint() {
  const latitude = Number(field("latitude").value);
  const longitude = Number(field("longitude").value);
  const ok = field("latitude").value.trim() && field("longitude").value.trim()
    && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
  return ok ? { latitude, longitude, accuracy_m: Number(field("accuracy_m").value) || 0 } : null;
}

function describe() {
  const point = typedPoint();
  if (point && !loading) loading = loadSectors().then(describe);
  const parts = [];
  let warn = false;
  if (fix) {
    const good = fix.accuracy_m <= warnAbove;
    parts.push(words(good ? "found" : "poor", { m: fix.accuracy_m }));
    warn = !good;
  }
  if (point && sectors.length) {
    const sector = sectorAt(point.latitude, point.longitude);
    const code = sector?.properties?.code;
    const away = assigned().length > 0 && !assigned().includes(code);
    if (code || !away) parts.push(code ? words("inside", { code }) : words("nosector"));
    if (away) parts.push(words("outside", { codes: assigned().join(", ") }));
    warn ||= !code || (assigned().length > 0 && !assigned().includes(code));
  }
  if (parts.length) status.textContent = parts.join(" · ");
  status.className = warn ? "warning" : "meta";
  draw(point);
}

function onFix(position) {
  const { latitude, longitude, accuracy } = position.coords;
  if (fix && accuracy >= fix.accuracy_m && Date.now() - Date.parse(fix.at) < 60000) return;
  fix = { latitude, longitude, accuracy_m: Math.round(accuracy), at: new Date(position.timestamp).toISOString() };
  if (field("position_source").value !== "manual" || !field("latitude").value) {
    field("latitude").value = latitude.toFixed(6);
    field("longitude").value = longitude.toFixed(6);
    field("accuracy_m").value = fix.accuracy_m;
    field("position_source").value = "gps";
  }
  describe();
}

export function watch() {
  status.textContent = words("finding");
  status.className = "meta";
  const id = navigator.geolocation.watchPosition(onFix, (error) => {
    if (fix) return;
    status.textContent = `${words("none")} (${error.message})`;
    status.className = "warning";
  }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
  const stop = () => navigator.geolocation.clearWatch(id);
  setTimeout(stop, WATCH_MS);
  const check = setInterval(() => { if (fix && fix.accuracy_m <= BEST_ENOUGH_M) { stop(); clearInterval(check); } }, 1000);
}

/** A warning (in words) when the typed position is far from the phone's fix, else "". */
export function farWarning() {
  const point = typedPoint();
  if (!fix || !point || field("position_source").value !== "manual") return "";
  const apart = distanceM(fix, point);
  if (apart <= Math.max(FAR_MIN_M, 3 * fix.accuracy_m)) return "";
  return words("far", { km: (apart / 1000).toFixed(apart < 10000 ? 1 : 0) });
}

export function start(reportForm) {
  form = reportForm;
  status = document.getElementById("locate-status");
  mapBox = document.getElementById("fix-map");
  warnAbove = Number(form.dataset.accuracyWarning || 100);
  for (const name of ["latitude", "longitude"]) {
    field(name).addEventListener("input", () => { field("position_source").value = "manual"; describe(); });
  }
  const locate = document.getElementById("locate");
  if ("geolocation" in navigator) {
    locate.hidden = false;
    locate.addEventListener("click", () => { field("position_source").value = "gps"; fix = null; watch(); });
    if (!field("latitude").value) watch();
  }
  describe();
}
