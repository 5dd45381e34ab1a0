/* The tracking page's behaviour: draw the map, keep the ETA and position fresh while
   the order is open, and reload when the order moves to another step (the server
   renders each step; the page never rebuilds it). The push button appears where
   the browser can subscribe. */
"use strict";

(() => {
  const root = document.getElementById("tracking");
  if (!root) return;
  const mapElement = document.getElementById("map");
  const map = mapElement && window.FieldlineMap && window.L ? FieldlineMap.show(mapElement) : null;
  const timeFormat = new Intl.DateTimeFormat(root.dataset.language, {
    hour: "2-digit", minute: "2-digit", timeZone: root.dataset.timezone,
  });

  function update(data) {
    if (data.status !== root.dataset.status || data.current_step !== root.dataset.step) {
      window.location.reload();
      return;
    }
    const eta = document.getElementById("eta");
    if (eta && data.eta) {
      const minutes = Math.max(1, Math.ceil(data.eta.seconds / 60));
      eta.textContent = root.dataset.etaText
        .replace("{minutes}", String(minutes))
        .replace("{time}", timeFormat.format(new Date(data.eta.arrive_by)));
    }
    if (map && data.position) map.move(data.position.lat, data.position.lon, data.position.accuracy_m);
  }

  if (root.dataset.refreshMs && window.FieldlineLive) {
    FieldlineLive.watch(root.dataset.source, Number(root.dataset.refreshMs), update, root.dataset.stream);
  }
})();
