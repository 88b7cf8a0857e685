// Draw a sector on the map: tap to add corners, "Finish" writes a GeoJSON Polygon into the
// form's geometry field (which also accepts pasted GeoJSON, so the page works without JS).
import { drawWorld } from './world-layer.js';

const L = window.L;
const element = document.getElementById('draw-map');
const field = document.getElementById('geometry');
const tools = document.querySelector('.draw-tools');
const status = document.getElementById('draw-status');
const form = document.getElementById('sector-form');

const map = L.map(element, { doubleClickZoom: false, zoomSnap: 0.5 });
map.createPane('world').style.zIndex = '200';
const world = L.layerGroup().addTo(map);
drawWorld(L, world, L.canvas({ pane: 'world' }), element.dataset.world).catch(() => {});
if (element.dataset.tiles) L.tileLayer(element.dataset.tiles, { maxZoom: 19 }).addTo(map);
map.setView([0, 0], 2);
tools.hidden = false;

const others = L.geoJSON(null, {
  style: { color: '#8a94a0', weight: 1, fillOpacity: 0.05 },
  filter: (feature) => feature.properties.code !== element.dataset.current,
  onEachFeature: (feature, layer) => layer.bindTooltip(feature.properties.code),
}).addTo(map);
const shape = L.polygon([], { color: '#0b5cad', weight: 3, fillOpacity: 0.15 }).addTo(map);
const corners = L.layerGroup().addTo(map);
let vertices = [];

const round = (value) => Math.round(value * 1e6) / 1e6;

function redraw() {
  shape.setLatLngs(vertices);
  corners.clearLayers();
  vertices.forEach((latlng) =>
    L.circleMarker(latlng, { radius: 6, color: '#0b5cad', className: 'draw-corner' }).addTo(corners),
  );
  status.textContent = `${status.dataset.corners}: ${vertices.length}`;
}

function finish() {
  if (vertices.length < 3) {
    status.textContent = status.dataset.tooFew;
    return false;
  }
  const ring = vertices.map((ll) => [round(ll.lng), round(ll.lat)]);
  ring.push(ring[0]);
  field.value = JSON.stringify({ type: 'Polygon', coordinates: [ring] });
  return true;
}

function loadField() {
  try {
    const geometry = JSON.parse(field.value);
    if (geometry.type === 'Polygon') {
      vertices = geometry.coordinates[0].slice(0, -1).map(([lon, lat]) => L.latLng(lat, lon));
      redraw();
      map.fitBounds(shape.getBounds(), { padding: [20, 20] });
      return true;
    }
    if (geometry.type === 'MultiPolygon') {
      const layer = L.geoJSON(geometry).addTo(map);
      map.fitBounds(layer.getBounds(), { padding: [20, 20] });
      return true;
    }
  } catch {
    // Not GeoJSON (yet): the server says what is wrong when the form is sent.
  }
  return false;
}

map.on('click', (event) => {
  vertices.push(event.latlng);
  redraw();
});
tools.addEventListener('click', (event) => {
  const action = event.target.dataset.draw;
  if (action === 'undo') vertices.pop();
  if (action === 'clear') vertices = [];
  if (action === 'finish' && !finish()) return;
  redraw();
});
field.addEventListener('change', () => {
  vertices = [];
  loadField();
});
form.addEventListener('submit', () => {
  if (vertices.length >= 3) finish();
});

const hadShape = loadField();
fetch(element.dataset.sectors, { credentials: 'same-origin' })
  .then((response) => (response.ok ? response.json() : null))
  .then((data) => {
    if (!data) return;
    others.addData(data);
    if (!hadShape && others.getBounds().isValid()) map.fitBounds(others.getBounds());
  });
