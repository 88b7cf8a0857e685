// The offline base map: Natural Earth countries from the vendored world-atlas TopoJSON, drawn as
// land, borders (arcs shared by two countries, dashed) and coasts (arcs of one country only) on
// a canvas. Needs window.topojson (vendor/topojson-client). No tile server, no internet.
export async function drawWorld(L, group, renderer, url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status}`);
  const topo = await response.json();
  const { feature, mesh } = window.topojson;
  const countries = topo.objects.countries;
  const common = { renderer, pane: renderer.options.pane, interactive: false };
  const layers = [
    L.geoJSON(feature(topo, countries), {
      ...common, style: { stroke: false, fillColor: '#f4f1e8', fillOpacity: 1 },
    }),
    L.geoJSON(mesh(topo, countries, (a, b) => a !== b), {
      ...common, style: { color: '#8a8a8a', weight: 1, dashArray: '4 3' },
    }),
    L.geoJSON(mesh(topo, countries, (a, b) => a === b), {
      ...common, style: { color: '#5b7a99', weight: 1.2 },
    }),
  ];
  group.clearLayers();
  layers.forEach((layer) => group.addLayer(layer));
}
