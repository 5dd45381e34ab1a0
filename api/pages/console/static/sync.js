/* The office's side of offline sync: the conflict inbox (keep the office's value or
   take the device's), mutations parked in quarantine (discard), and every device's
   sync health (waiting outbox, last contact, parked entries, clock). Refreshed with
   the board. */
"use strict";

(() => {
  const conflicts = document.getElementById("conflicts");
  if (!conflicts || !window.FieldlineApi) return;
  const { call, text, element, when } = FieldlineApi;
  const message = document.getElementById("sync-message");

  function shown(value) {
    return value === null || value === undefined ? "—" : typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  async function load() {
    const [open, parked, devices] = await Promise.all([
      call("GET", "/v1/sync/conflicts?limit=50"),
      call("GET", "/v1/sync/quarantine?state=parked&limit=50"),
      call("GET", "/v1/sync/devices?limit=100"),
    ]);
    if (open.ok) drawConflicts(open.data.items);
    if (parked.ok) drawQuarantine(parked.data.items);
    if (devices.ok) drawDevices(devices.data.items);
  }

  function drawConflicts(items) {
    const rows = items.map((item) =>
      element(
        "li",
        { className: "row row--static" },
        element("span", { className: "row-title" }, `${item.table} · ${item.field}`),
        element(
          "span",
          { className: "row-facts" },
          `${text("office_value", { value: shown(item.server.value) })} · ${text("device_value", { value: shown(item.device.value) })}`,
        ),
        element(
          "span",
          { className: "actions" },
          ...["keep_server", "take_device"].map((resolution) =>
            element(
              "button",
              { type: "button", className: "button--quiet", onclick: () => resolve(item.id, resolution) },
              text(`resolution.${resolution}`),
            ),
          ),
        ),
      ),
    );
    conflicts.replaceChildren(...(rows.length ? rows : [element("li", { className: "muted" }, text("conflicts_none"))]));
  }

  function drawQuarantine(items) {
    const rows = items.map((entry) =>
      element(
        "li",
        { className: "row row--static" },
        element("span", { className: "row-title" }, `${entry.mutation.name || "?"} · ${entry.code}`),
        entry.detail ? element("span", { className: "row-facts" }, entry.detail) : null,
        element(
          "button",
          { type: "button", className: "button--quiet", onclick: () => discard(entry.id) },
          text("discard"),
        ),
      ),
    );
    document.getElementById("quarantine").replaceChildren(
      ...(rows.length ? rows : [element("li", { className: "muted" }, text("quarantine_none"))]),
    );
  }

  function drawDevices(items) {
    const rows = items.map((device) =>
      element(
        "li",
        { className: "row row--static" },
        element("span", { className: "row-title" }, device.device_id.slice(-8)),
        element(
          "span",
          { className: "row-facts" },
          [
            text("pending", { count: device.pending }),
            text("last_contact", { time: device.last_push_at ? when(device.last_push_at) : text("never") }),
            text("quarantined", { count: device.quarantined }),
            device.clock === "wrong" ? text("clock_wrong") : null,
          ].filter(Boolean).join(" · "),
        ),
      ),
    );
    document.getElementById("devices").replaceChildren(
      ...(rows.length ? rows : [element("li", { className: "muted" }, text("devices_none"))]),
    );
  }

  async function resolve(id, resolution) {
    const result = await call("POST", `/v1/sync/conflicts/${id}/resolution`, { body: { resolution } });
    message.textContent = result.ok ? text("resolved") : text("refused", { reason: result.data ? result.data.title : result.status });
    document.dispatchEvent(new CustomEvent("console:changed"));
  }

  async function discard(id) {
    const result = await call("POST", `/v1/sync/quarantine/${id}/discard`);
    message.textContent = result.ok ? text("discarded") : text("refused", { reason: result.data ? result.data.title : result.status });
    document.dispatchEvent(new CustomEvent("console:changed"));
  }

  document.addEventListener("console:changed", load);
  load();
  if (window.ConsoleLive) ConsoleLive.watch(load, 30000);
})();
