// Coordinators' map. Works with no internet: the base layer is Natural Earth (world-atlas,
// vendored) drawn as vectors, with place names from the gazetteer; an admin's offline PMTiles
// extract (protomaps-leaflet) and an online tile URL are optional layers on top.
// Reports come clustered by the server for the current zoom and view (/map/data.json): every
// report of the day is counted at every zoom; a single report is its exact point.
import { categoryMark, clusterIcon, pointIcon } from './map-marks.js';
import { drawWorld } from './world-layer.js';

const L = window.L;
const element = document.getElementById('map');
const filters = document.getElementById('map-filters');
const status = document.getElementById('map-status');
const words = document.getElementById('map-words').dataset;
const minZoom = Number(element.dataset.minZoom);
const maxZoom = Number(element.dataset.maxZoom);
const kinds = Object.keys(words).filter((k) => k.startsWith('shape-')).length;
const shapes = Array.from({ length: kinds }, (_, i) => words[`shape-${i}`]);
const colours = Array.from({ length: kinds }, (_, i) => words[`colour-${i}`]);

const map = L.map(element, {
  zoomSnap: 1,
  minZoom,
  maxZoom,
  maxBounds: [[-85, -200], [85, 200]],
  maxBoundsViscosity: 1,
  preferCanvas: false,
});
const panes = { world: 200, area: 250, coverage: 400, places: 450, reports: 600 };
for (const [name, z] of Object.entries(panes)) map.createPane(name).style.zIndex = String(z);
const canvas = L.canvas({ pane: 'world' });

// ---- Base layers -------------------------------------------------------------------------
const world = L.layerGroup([], { pane: 'world' }).addTo(map);
let worldDetail = false;

async function showWorld(url) {
  await drawWorld(L, world, canvas, url);
  element.dataset.base = url.includes('10m') ? 'detail' : 'world';
}

const overlays = {};
const bases = {};
bases[words.worldLayer] = world;
if (element.dataset.area && window.protomapsL) {
  bases[words.areaLayer] = window.protomapsL.leafletLayer({
    url: element.dataset.area, flavor: 'light', lang: document.documentElement.lang || 'en',
    pane: 'area', maxDataZoom: 15,
  });
}
if (element.dataset.tiles) {
  bases[words.onlineLayer] = L.tileLayer(element.dataset.tiles, { maxZoom, pane: 'area' });
}

// ---- Place names ---------------------------------------------------------------------------
const places = L.layerGroup([], { pane: 'places' }).addTo(map);
overlays[words.placesLayer] = places;

async function loadPlaces(box) {
  places.clearLayers();
  if (map.getZoom() < 8) return;
  const url = new URL(element.dataset.places, window.location.href);
  url.searchParams.set('bbox', box);
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) return;
  for (const [name, lat, lon] of (await response.json()).places) {
    L.circleMarker([lat, lon], { radius: 2, color: '#333', weight: 1, pane: 'places', interactive: false })
      .bindTooltip(name, { permanent: true, direction: 'right', className: 'place-label', pane: 'places' })
      .addTo(places);
  }
}

// ---- Coverage: sectors coloured by today's reports and assignments ------------------------------
const COVER = {
  both: { color: '#0072b2', fillColor: '#0072b2', fillOpacity: 0.12, weight: 2 },
  silent: { color: '#d55e00', fillColor: '#e69f00', fillOpacity: 0.25, weight: 3, dashArray: '8 4' },
  unassigned: { color: '#cc79a7', fillColor: '#cc79a7', fillOpacity: 0.15, weight: 2, dashArray: '2 4' },
  none: { color: '#555555', fillColor: '#999999', fillOpacity: 0.08, weight: 1.5 },
};
function coverState(p) {
  if (p.assigned && p.reports) return 'both';
  if (p.assigned) return 'silent';
  if (p.reports) return 'unassigned';
  return 'none';
}
const coverage = L.geoJSON(null, {
  pane: 'coverage',
  style: (f) => ({ ...COVER[coverState(f.properties)], className: `sector cover-${coverState(f.properties)}` }),
  onEachFeature: (f, layer) => {
    const p = f.properties;
    layer.bindTooltip(
      `${p.code} · ${p.name} — ${p.reports || 0} ${words.reports}, ${p.assigned || 0} ${words.observers}`,
      { sticky: true },
    );
  },
}).addTo(map);
overlays[words.coverageLayer] = coverage;

// ---- Reports ------------------------------------------------------------------------------
const reports = L.layerGroup([], { pane: 'reports' }).addTo(map);
overlays[words.reportsLayer] = reports;
L.control.layers(bases, overlays, { collapsed: false }).addTo(map);
L.control.scale({ imperial: false }).addTo(map);

function text(tag, value, className) {
  const node = document.createElement(tag);
  node.textContent = value;
  if (className) node.className = className;
  return node;
}

async function reportPopup(id) {
  const url = element.dataset.report.replace(/0\.json$/, `${id}.json`);
  const response = await fetch(url, { credentials: 'same-origin' });
  const box = document.createElement('div');
  box.className = 'report-popup';
  if (!response.ok) {
    box.append(text('p', `${words.failed} ${response.status}`, 'error-text'));
    return box;
  }
  const r = await response.json();
  box.append(text('strong', r.title));
  if (r.urgent) box.append(' ', text('span', words.urgent, 'badge urgent'));
  box.append(text('p', `${r.status} · ${new Date(r.occurred_at).toLocaleString()}`, 'meta'));
  if (r.place) box.append(text('p', r.place, 'place'));
  if (r.thumbnail) {
    const img = document.createElement('img');
    img.src = r.thumbnail;
    img.alt = '';
    img.className = 'thumb';
    box.append(img);
  }
  if (r.excerpt) box.append(text('p', r.excerpt, 'excerpt'));
  if (r.photos) box.append(text('p', `${r.photos} ${words.photos}`, 'meta'));
  const actions = document.createElement('p');
  actions.className = 'actions';
  const open = text('a', words.open, 'button');
  open.href = r.url;
  const review = text('a', words.review, 'button secondary');
  review.href = r.review_url;
  actions.append(open, ' ', review);
  box.append(actions);
  return box;
}

function bindReportPopup(marker, id) {
  const holder = document.createElement('div');
  holder.className = 'report-popup loading';
  marker.bindPopup(holder, { maxWidth: 300, minWidth: 220 });
  marker.on('popupopen', async () => {
    if (marker.popupLoaded) return;
    marker.popupLoaded = true;
    marker.setPopupContent(await reportPopup(id));
  });
}

function spotPopup(ids) {
  const box = document.createElement('div');
  box.append(text('strong', words.spot));
  const list = document.createElement('ul');
  for (const id of ids) {
    const item = document.createElement('li');
    const link = text('a', `#${id}`);
    link.href = element.dataset.report.replace(/map\/reports\/0\.json$/, `reports/${id}`);
    item.append(link);
    list.append(item);
  }
  box.append(list);
  return box;
}

function drawReports(data) {
  reports.clearLayers();
  for (const [id, lat, lon, category, state, urgent] of data.points) {
    const marker = L.marker([lat, lon], {
      icon: pointIcon(L, shapes[category], colours[category], urgent),
      pane: 'reports',
      title: `${words[`category-${category}`]} · ${words[`status-${state}`]}`,
      keyboard: true,
    });
    bindReportPopup(marker, id);
    marker.addTo(reports);
  }
  for (const row of data.clusters) {
    const [lat, lon, count, urgent] = row;
    const perCategory = row.slice(4, 4 + kinds);
    const marker = L.marker([lat, lon], {
      icon: clusterIcon(L, count, urgent, perCategory, colours),
      pane: 'reports',
      title: `${count} ${words.reports}`,
    });
    const ids = row[4 + kinds];
    if (ids) marker.bindPopup(() => spotPopup(ids));
    else marker.on('click', () => map.setView([lat, lon], Math.min(map.getZoom() + 2, maxZoom)));
    marker.addTo(reports);
  }
  element.dataset.points = String(data.points.length);
  element.dataset.clusters = String(data.clusters.length);
  element.dataset.total = String(data.total);
  element.dataset.zoom = String(data.zoom);
  status.textContent = data.total
    ? words.summary.replace('{total}', data.total.toLocaleString()).replace('{view}', data.in_view.toLocaleString())
    : words.empty;
}

// ---- Loading --------------------------------------------------------------------------------
function params(url) {
  for (const [name, value] of new FormData(filters)) if (value) url.searchParams.set(name, value);
  return url;
}
function viewBox() {
  const b = map.getBounds().pad(0.2);
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
    .map((v) => v.toFixed(5)).join(',');
}

let pending = null;
async function loadReports() {
  if (pending) pending.abort();
  pending = new AbortController();
  element.dataset.state = 'loading';
  const url = params(new URL(element.dataset.src, window.location.href));
  url.searchParams.set('zoom', String(map.getZoom()));
  url.searchParams.set('bbox', viewBox());
  try {
    const response = await fetch(url, { credentials: 'same-origin', signal: pending.signal });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    drawReports(await response.json());
    element.dataset.state = 'ready';
  } catch (error) {
    if (error.name === 'AbortError') return;
    status.textContent = `${words.failed} ${error.message}`;
    element.dataset.state = 'error';
  }
}

let home = null;
async function loadSectors() {
  const url = params(new URL(element.dataset.sectors, window.location.href));
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) return;
  coverage.clearLayers();
  coverage.addData(await response.json());
}

async function start() {
  map.setView([30, 15], minZoom);
  const base = showWorld(element.dataset.world).catch(() => { element.dataset.base = 'none'; });
  await loadSectors();
  const bounds = coverage.getBounds();
  if (!bounds.isValid()) {
    // No sectors: fit the reports of the first answer, else stay on the world.
    const url = params(new URL(element.dataset.src, window.location.href));
    const data = await (await fetch(url, { credentials: 'same-origin' })).json();
    data.points.forEach((row) => bounds.extend([row[1], row[2]]));
    data.clusters.forEach((row) => bounds.extend([row[0], row[1]]));
  }
  home = bounds.isValid() ? bounds : null;
  if (home) map.fitBounds(home, { padding: [20, 20], maxZoom: 13 });
  await base;
  map.on('moveend', () => {
    loadReports();
    loadPlaces(viewBox());
    if (!worldDetail && map.getZoom() >= 7) {
      worldDetail = true;
      showWorld(element.dataset.worldDetail).catch(() => {});
    }
  });
  map.fire('moveend');
}

const Reset = L.Control.extend({
  options: { position: 'topleft' },
  onAdd() {
    const button = L.DomUtil.create('button', 'map-reset leaflet-bar');
    button.type = 'button';
    button.textContent = '⌂';
    button.title = words.reset;
    button.setAttribute('aria-label', words.reset);
    L.DomEvent.disableClickPropagation(button);
    button.addEventListener('click', () => {
      if (home) map.fitBounds(home, { padding: [20, 20], maxZoom: 13 });
      else map.setView([30, 15], minZoom);
    });
    return button;
  },
});
new Reset().addTo(map);

for (const mark of document.querySelectorAll('#map-legend .mark[data-category]')) {
  const category = Number(mark.dataset.category);
  mark.append(categoryMark(shapes[category], colours[category], mark.dataset.urgent === '1'));
}

filters.addEventListener('change', () => {
  const url = new URL(window.location.href);
  for (const [name, value] of new FormData(filters)) url.searchParams.set(name, value);
  window.history.replaceState(null, '', url);
  loadSectors();
  loadReports();
});
filters.addEventListener('submit', (event) => {
  event.preventDefault();
  loadSectors();
  loadReports();
});
start();
