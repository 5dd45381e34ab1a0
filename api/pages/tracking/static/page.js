/* The tracking page's behaviour: draw the map, keep the ETA and position fresh while
   the order is open, and reload when the order moves to another step or a position
   first appears or goes (the server renders each step and the map; the page never
   rebuilds them). The push button appears where the browser can subscribe. */
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
    // The server renders each step, and the map section only when it has a position:
    // a technician's first fix after setting off also needs the page drawn again.
    const moved = data.status !== root.dataset.status || data.current_step !== root.dataset.step;
    if (moved || Boolean(data.position) !== Boolean(mapElement)) {
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

  const push = document.getElementById("push");
  // push-subscribe.js declares FieldlinePush with `const`: a global binding, not on window.
  const canPush = typeof FieldlinePush !== "undefined" && "serviceWorker" in navigator;
  if (push && canPush && "PushManager" in window) {
    const button = document.getElementById("push-button");
    const status = document.getElementById("push-status");
    const done = () => {
      button.hidden = true;
      status.textContent = push.dataset.done;
    };
    if (localStorage.getItem(`fieldline.push.subscription_id.${root.dataset.token}`)) done();
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await FieldlinePush.subscribeToTracking(root.dataset.token);
        done();
      } catch (_) {
        status.textContent = push.dataset.failed;
        button.disabled = false;
      }
    });
    push.hidden = false;
  }

  if (root.dataset.refreshMs && window.FieldlineLive) {
    FieldlineLive.watch(root.dataset.source, Number(root.dataset.refreshMs), update, root.dataset.stream);
  }
})();
