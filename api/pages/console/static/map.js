/* The console's map: open orders coloured by SLA state, technicians at their last
   position, and the day plan's routes, all drawn as vectors so they read on a plain
   background when the tiles cannot be reached. A click on an order's marker opens the
   order, as its row in the list beside the map does. Every marker is in the Tab order
   too, a button named as its tooltip reads: focus shows the tooltip (as hovering does),
   Enter or Space does what a click does (an order opens; a technician's tooltip stays
   open), Escape hides the tooltip. A redraw keeps the focus on the same marker.

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

    /* Make a drawn marker reachable by keyboard (see the top of this file). Leaflet itself
       shows the tooltip on focus and hides it on blur. */
    function reachable(layer, key, label, activate) {
      const marker = layer.getElement();
      if (!marker) return;
      marker.setAttribute("tabindex", "0");
      marker.setAttribute("role", "button");
      marker.setAttribute("aria-label", label);
      marker.dataset.marker = key;
      marker.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          layer.closeTooltip();
        } else if (event.key === "Enter" || event.key === " ") {
          event.preventDefault(); // Space would scroll the page
          activate();
        }
      });
    }

    /* Clear a layer and draw it again, keeping the keyboard's focus on the same marker. */
    function redraw(layer, draw) {
      const focused = element.contains(document.activeElement) ? document.activeElement.dataset.marker : null;
      layer.clearLayers();
      draw();
      if (!focused) return;
      const again = element.querySelector(`[data-marker="${CSS.escape(focused)}"]`);
      if (again) again.focus({ preventScroll: true });
    }

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
      redraw(orderLayer, () => drawOrders(items, onPick));
    }

    function drawOrders(items, onPick) {
      for (const order of items) {
        if (order.site.lat === null || order.site.lon === null) continue;
        const at = [order.site.lat, order.site.lon];
        const label = `${order.number} · ${order.title}`;
        const marker = L.circleMarker(at, {
          radius: 8, color: "#ffffff", weight: 2, fillOpacity: 1,
          fillColor: SLA_COLOURS[order.sla_state] || SLA_COLOURS.none,
          className: `order-marker sla-${order.sla_state}`,
        })
          .bindTooltip(label)
          .on("click", () => onPick(order.id))
          .addTo(orderLayer);
        reachable(marker, `order:${order.id}`, label, () => onPick(order.id));
      }
    }

    /* A technician with a photo is drawn as it, in a round frame of the technician colour. */
    function photoMarker(at, technician, label) {
      const image = document.createElement("img");
      image.src = technician.photo_url;
      image.alt = ""; // the marker itself is named (see reachable)
      const icon = L.divIcon({
        className: "technician-marker technician-marker--photo",
        html: image.outerHTML, iconSize: [36, 36], iconAnchor: [18, 18],
      });
      return L.marker(at, { icon, keyboard: false });
    }

    function technicians(items, describe) {
      redraw(technicianLayer, () => drawTechnicians(items, describe));
    }

    function drawTechnicians(items, describe) {
      for (const technician of items) {
        if (!technician.position) continue;
        const at = [technician.position.lat, technician.position.lon];
        const label = describe ? describe(technician) : technician.name;
        const marker = technician.photo_url ? photoMarker(at, technician, label) : L.circleMarker(at, {
          radius: 7, color: "#0b5cad", weight: 3, fillColor: "#ffffff", fillOpacity: 1,
          className: "technician-marker",
        });
        marker.bindTooltip(label).addTo(technicianLayer);
        reachable(marker, `technician:${technician.id}`, label, () => marker.openTooltip());
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
