// The repair preview: each mended outline (blue) over the outline as given (red dashes).
const L = window.L;
const shapes = JSON.parse(document.getElementById('repair-shapes').textContent);
const map = L.map('repair-map', { zoomSnap: 0.5 });
const original = L.geoJSON(shapes.original, {
  style: { color: '#d55e00', weight: 3, dashArray: '6 5', fill: false },
}).addTo(map);
const repaired = L.geoJSON(shapes.repaired, {
  style: { color: '#0072b2', weight: 1.5, fillColor: '#0072b2', fillOpacity: 0.15 },
}).addTo(map);
map.fitBounds(original.getBounds().extend(repaired.getBounds()), { padding: [10, 10] });
document.getElementById('repair-map').dataset.state = 'ready';
