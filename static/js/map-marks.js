// The map's marks: a shape per category as well as a colour (no reader depends on colour alone),
// and groups of reports as a ring showing each category's share. Built with the DOM (no HTML
// strings) and coloured through attributes and CSSOM, which the page's CSP allows.
const SVG = 'http://www.w3.org/2000/svg';
const PATHS = {
  circle: 'M10 3a7 7 0 1 0 0.001 0Z',
  square: 'M4 4h12v12H4Z',
  diamond: 'M10 1.5 18.5 10 10 18.5 1.5 10Z',
  triangle: 'M10 2 18.5 17H1.5Z',
  'triangle-down': 'M1.5 3h17L10 18Z',
  hexagon: 'M6 2.5h8l4.5 7.5-4.5 7.5H6L1.5 10Z',
  cross: 'M7 2h6v5h5v6h-5v5H7v-5H2V7h5Z',
};

export function categoryMark(shape, colour, urgent) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 20 20');
  svg.setAttribute('width', '20');
  svg.setAttribute('height', '20');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', PATHS[shape] || PATHS.circle);
  path.setAttribute('fill', colour);
  path.setAttribute('stroke', urgent ? '#000000' : '#ffffff');
  path.setAttribute('stroke-width', urgent ? '3' : '1.5');
  path.setAttribute('stroke-linejoin', 'round');
  svg.append(path);
  return svg;
}

export function pointIcon(L, shape, colour, urgent) {
  const mark = categoryMark(shape, colour, urgent);
  mark.setAttribute('width', '24');
  mark.setAttribute('height', '24');
  return L.divIcon({
    html: mark,
    className: `report-point shape-${shape}${urgent ? ' urgent' : ''}`,
    iconSize: [24, 24],
    iconAnchor: [12, 12],
    popupAnchor: [0, -10],
  });
}

export function clusterIcon(L, count, urgent, perCategory, colours) {
  const size = Math.round(Math.min(64, 28 + 7 * Math.log10(count)));
  const ring = document.createElement('div');
  ring.className = `report-cluster${urgent ? ' urgent' : ''}`;
  let angle = 0;
  const stops = [];
  perCategory.forEach((n, i) => {
    if (!n) return;
    const next = angle + (360 * n) / count;
    stops.push(`${colours[i]} ${angle}deg ${next}deg`);
    angle = next;
  });
  ring.style.background = `conic-gradient(${stops.join(', ')})`;
  ring.style.width = `${size}px`;
  ring.style.height = `${size}px`;
  const label = document.createElement('span');
  label.textContent = count >= 10000 ? `${Math.round(count / 1000)}k` : count.toLocaleString();
  ring.append(label);
  if (urgent) {
    const badge = document.createElement('b');
    badge.className = 'urgent-count';
    badge.textContent = `!${urgent}`;
    ring.append(badge);
  }
  return L.divIcon({ html: ring, className: 'cluster-icon', iconSize: [size, size] });
}
