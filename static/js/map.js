// Coordinators' map: sectors and the day's reports as GeoJSON from /map/data.json.
// Works with no tile layer at all (the field office may have no internet): sectors and points
// are vector layers drawn by Leaflet on a plain background.
const L = window.L;
const element = document.getElementById('map');
const filters = document.getElementById('map-filters');
const status = document.getElementById('map-status');
const legend = document.getElementById('map-legend');

const KIND_STYLE = {
  sector: { color: '#33475b', weight: 2, fillOpacity: 0.05 },
  dmz: { color: '#b06000', weight: 2, dashArray: '6 4', fillOpacity: 0.08 },
  crossing_point: { color: '#6a1b9a', weight: 2, fillOpacity: 0.12 },
};

const map = L.map(element, { zoomSnap: 0.5, tap: true });
if (element.dataset.tiles) {
  L.tileLayer(element.dataset.tiles, { maxZoom: 19 }).addTo(map);
}
const sectorLayer = L.geoJSON(null, {
  style: (feature) => KIND_STYLE[feature.properties.kind] || KIND_STYLE.sector,
  onEachFeature: (feature, layer) => {
    layer.bindTooltip(`${feature.properties.code} · ${feature.properties.name}`, { sticky: true });
  },
}).addTo(map);
const pointLayer = L.layerGroup().addTo(map);
map.setView([0, 0], 2);

function dataUrl() {
  const url = new URL(element.dataset.src, window.location.href);
  for (const [name, value] of new FormData(filters)) {
    if (value) url.searchParams.set(name, value);
  }
  return url;
}

function addPoint(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  const p = feature.properties;
  const marker = L.circleMarker([lat, lon], {
    radius: p.urgent ? 13 : 11, // a finger-sized target on a tablet
    color: p.urgent ? '#b00020' : '#ffffff',
    weight: p.urgent ? 3 : 2,
    fillColor: p.colour,
    fillOpacity: 0.9,
    className: 'report-point',
  });
  marker.bindTooltip(`${p.label} (${p.status.replace('_', ' ')})`);
  marker.on('click', () => window.location.assign(p.url));
  marker.addTo(pointLayer);
}

function showLegend(features) {
  const seen = new Map();
  for (const f of features) seen.set(f.properties.label.split(' · ')[0], f.properties.colour);
  legend.replaceChildren(
    ...[...seen].map(([label, colour]) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colour;
      item.append(swatch, label);
      return item;
    }),
  );
}

async function load() {
  element.dataset.state = 'loading';
  const response = await fetch(dataUrl(), { credentials: 'same-origin' });
  if (!response.ok) {
    status.textContent = `${response.status} ${response.statusText}`;
    element.dataset.state = 'error';
    return;
  }
  const data = await response.json();
  sectorLayer.clearLayers();
  sectorLayer.addData(data.sectors);
  pointLayer.clearLayers();
  data.reports.features.forEach(addPoint);
  showLegend(data.reports.features);
  const bounds = sectorLayer.getBounds();
  pointLayer.eachLayer((marker) => bounds.extend(marker.getLatLng()));
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 });
  status.textContent = data.reports.features.length ? '' : element.dataset.empty;
  element.dataset.points = String(data.reports.features.length);
  element.dataset.state = 'ready';
}

filters.addEventListener('change', () => {
  const url = new URL(window.location.href);
  for (const [name, value] of new FormData(filters)) url.searchParams.set(name, value);
  window.history.replaceState(null, '', url);
  load();
});
filters.addEventListener('submit', (event) => {
  event.preventDefault();
  load();
});
load();
