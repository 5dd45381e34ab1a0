/* The console's map: open orders coloured by SLA state, technicians at their last
   position, and the day plan's routes, all drawn as vectors so they read on a plain
   background when the tiles cannot be reached. The list beside the map is the
   keyboard's way to the same orders; a click on a marker opens the order too.

   ConsoleMap.show(element) -> { orders(items, onPick), technicians(items, describe), frame(), plan(routes),
   clearPlan() } */
"use strict";

window.ConsoleMap = (() => {
  const SLA_COLOURS = {
    breached: "#a4221b", at_risk: "#b86e00", on_track: "#1d6b35", paused: "#5b6b7a", none: "#7b8591",
  };
  const ROUTE_COLOURS = ["#0b5cad", "#7a2e8f", "#00796b", "#c2410c", "#374151", "#9d174d"];

  function show(element) {
    const map = L.map(element, { zoomControl: true, attributionControl: true }).setView([31.23, 121.47], 11);
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution || "" }).addTo(map);
    }
    const orderLayer = L.layerGroup().addTo(map);
    const technicianLayer = L.layerGroup().addTo(map);
    const planLayer = L.layerGroup().addTo(map);
    let framed = false;

    /* The first orders and technicians with a place frame the map, once: after that the
       dispatcher's own panning and zooming is left alone. */
    function frame() {
      if (framed) return;
      const points = [];
      for (const layer of [orderLayer, technicianLayer]) {
        layer.eachLayer((marker) => points.push(marker.getLatLng()));
      }
      if (points.length === 0) return;
      map.fitBounds(L.latLngBounds(points).pad(0.2), { maxZoom: 14, animate: false });
      framed = true;
    }

    function orders(items, onPick) {
      orderLayer.clearLayers();
      for (const order of items) {
        if (order.site.lat === null || order.site.lon === null) continue;
        const at = [order.site.lat, order.site.lon];
        L.circleMarker(at, {
          radius: 8, color: "#ffffff", weight: 2, fillOpacity: 1,
          fillColor: SLA_COLOURS[order.sla_state] || SLA_COLOURS.none,
          className: `order-marker sla-${order.sla_state}`,
        })
          .bindTooltip(`${order.number} · ${order.title}`)
          .on("click", () => onPick(order.id))
          .addTo(orderLayer);
      }
    }

    /* A technician with a photo is drawn as it, in a round frame of the technician colour. */
    function photoMarker(at, technician, label) {
      const image = document.createElement("img");
      image.src = technician.photo_url;
      image.alt = label;
      const icon = L.divIcon({
        className: "technician-marker technician-marker--photo",
        html: image.outerHTML, iconSize: [36, 36], iconAnchor: [18, 18],
      });
      return L.marker(at, { icon, keyboard: false });
    }

    function technicians(items, describe) {
      technicianLayer.clearLayers();
      for (const technician of items) {
        if (!technician.position) continue;
        const at = [technician.position.lat, technician.position.lon];
        const label = describe ? describe(technician) : technician.name;
        const marker = technician.photo_url ? photoMarker(at, technician, label) : L.circleMarker(at, {
          radius: 7, color: "#0b5cad", weight: 3, fillColor: "#ffffff", fillOpacity: 1,
          className: "technician-marker",
        });
        marker.bindTooltip(label).addTo(technicianLayer);
      }
    }

    /* routes: [{technician: {name, position}, stops: [[lat, lon], ...]}] */
    function plan(routes) {
      planLayer.clearLayers();
      routes.forEach((route, index) => {
        const line = (route.start ? [route.start] : []).concat(route.stops);
        if (line.length < 2) return;
        L.polyline(line, {
          color: ROUTE_COLOURS[index % ROUTE_COLOURS.length], weight: 4, opacity: 0.85,
          className: "plan-route",
        })
          .bindTooltip(route.name)
          .addTo(planLayer);
      });
    }

    function clearPlan() {
      planLayer.clearLayers();
    }

    return { orders, technicians, frame, plan, clearPlan };
  }

  return { show, SLA_COLOURS, ROUTE_COLOURS };
})();
