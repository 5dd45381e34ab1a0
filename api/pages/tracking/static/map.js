/* The tracking page's small map: the technician's position (and its accuracy) drawn
   as vectors, so it reads on a plain background when the tiles cannot be reached.
   FieldlineMap.show(element) -> { move(lat, lon, accuracy) }. */
"use strict";

window.FieldlineMap = (() => {
  function show(element) {
    const lat = Number(element.dataset.lat);
    const lon = Number(element.dataset.lon);
    const map = L.map(element, { zoomControl: true, attributionControl: true }).setView([lat, lon], 14);
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, {
        maxZoom: 19,
        attribution: element.dataset.attribution || "",
      }).addTo(map);
    }
    const accuracy = L.circle([lat, lon], {
      radius: Number(element.dataset.accuracy) || 0,
      color: "#0b5cad", weight: 1, fillOpacity: 0.12, interactive: false,
    }).addTo(map);
    const marker = L.circleMarker([lat, lon], {
      radius: 9, color: "#ffffff", weight: 3, fillColor: "#0b5cad", fillOpacity: 1, interactive: false,
    }).addTo(map);

    function move(newLat, newLon, newAccuracy) {
      marker.setLatLng([newLat, newLon]);
      accuracy.setLatLng([newLat, newLon]).setRadius(newAccuracy || 0);
      map.panTo([newLat, newLon]);
    }

    return { move };
  }

  return { show };
})();
