// The review desk's report page (templates/review/report.html): one-key decisions and the mini map.
// V verify, D dispute, R reject, A ask: each presses its visible button (so the server decides
// and answers as for a click). Keys typed in the comment box or any field stay text.
const L = window.L;

function typing(target) {
  return target.closest('input, textarea, select, [contenteditable="true"]') !== null;
}

function initShortcuts() {
  const form = document.getElementById('decide-form');
  if (!form) return;
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const button = form.querySelector(`button[data-key="${event.key.toLowerCase()}"]`);
    if (!button) return;
    event.preventDefault();
    if (button.value === 'needs_info' && !form.comment.value.trim()) {
      form.comment.focus(); // the question comes first; the server would refuse it anyway
      form.comment.placeholder = button.textContent.trim();
      return;
    }
    button.click();
  });
}

function initMap() {
  const element = document.getElementById('mini-map');
  if (!element || !L) return;
  const point = [Number(element.dataset.lat), Number(element.dataset.lon)];
  const map = L.map(element, { zoomControl: true, attributionControl: false, maxZoom: 18 });
  map.setView(point, 13); // layers are projected on adding: the map needs a view first
  if (element.dataset.tiles) L.tileLayer(element.dataset.tiles, { maxZoom: 18 }).addTo(map);
  let bounds = L.latLngBounds([point, point]);
  if (element.dataset.outline) {
    const outline = L.geoJSON(JSON.parse(element.dataset.outline), {
      style: { color: '#33475b', weight: 2, fillOpacity: 0.05 },
    }).addTo(map);
    bounds = bounds.extend(outline.getBounds());
  }
  const accuracy = Number(element.dataset.accuracy);
  if (accuracy > 0) L.circle(point, { radius: accuracy, color: '#0b5cad', weight: 1 }).addTo(map);
  L.circleMarker(point, { radius: 9, color: '#b00020', weight: 3, fillOpacity: 0.8 }).addTo(map);
  map.fitBounds(bounds.pad(0.2), { maxZoom: 14 });
}

export function init() {
  initShortcuts();
  initMap();
}

init();
