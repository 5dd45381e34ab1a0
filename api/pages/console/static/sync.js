/* The office's side of offline sync: the conflict inbox (keep the office's value or
   take the device's), mutations parked in quarantine (discard), and every device's
   sync health (waiting outbox, last contact, parked entries, clock). Kept fresh by
   ConsoleLive. */
"use strict";

(() => {
  const conflicts = document.getElementById("conflicts");
  if (!conflicts || !window.FieldlineApi) return;
  const { call, text, element, when } = FieldlineApi;
  const message = document.getElementById("sync-message");
  const last = { conflicts: null, quarantine: null, devices: null };

  function board() {
    return window.ConsoleBoard ? ConsoleBoard.board : { orders: [], technicians: [] };
  }

  function orderName(id) {
    const order = board().orders.find((found) => found.id === id);
    return order ? order.number : null;
  }

  function technicianName(id) {
    const technician = id && board().technicians.find((found) => found.id === id);
    return technician ? technician.name : null;
  }

  function shown(value) {
    return value === null || value === undefined ? "—" : typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  async function load() {
    const [open, parked, devices] = await Promise.all([
      call("GET", "/v1/sync/conflicts?limit=50"),
      call("GET", "/v1/sync/quarantine?state=parked&limit=50"),
      call("GET", "/v1/sync/devices?limit=100"),
    ]);
    if (open.ok) last.conflicts = open.data.items;
    if (parked.ok) last.quarantine = parked.data.items;
    if (devices.ok) last.devices = devices.data.items;
    draw();
  }

  function draw() {
    if (last.conflicts) drawConflicts(last.conflicts);
    if (last.quarantine) drawQuarantine(last.quarantine);
    if (last.devices) drawDevices(last.devices);
  }

  function drawConflicts(items) {
    const rows = items.map((item) =>
      element(
        "li",
        { className: "row row--static" },
        element(
          "span",
          { className: "row-title", id: `conflict-${item.id}` },
          [orderName(item.entity_id), technicianName(item.technician_id), item.field].filter(Boolean).join(" · "),
        ),
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
              {
                type: "button",
                className: "button--quiet",
                "aria-describedby": `conflict-${item.id}`,
                "data-key": `${item.id}:${resolution}`,
                onclick: () => resolve(item.id, resolution),
              },
              text(`resolution.${resolution}`),
            ),
          ),
        ),
      ),
    );
    FieldlineApi.redraw(conflicts, rows.length ? rows : [element("li", { className: "muted" }, text("conflicts_none"))]);
  }

  function drawQuarantine(items) {
    const rows = items.map((entry) =>
      element(
        "li",
        { className: "row row--static" },
        element(
          "span",
          { className: "row-title" },
          [orderName(entry.work_order_id), technicianName(entry.technician_id), entry.mutation.name, entry.code]
            .filter(Boolean)
            .join(" · "),
        ),
        entry.detail ? element("span", { className: "row-facts" }, entry.detail) : null,
        element(
          "button",
          { type: "button", className: "button--quiet", "data-key": entry.id, onclick: () => discard(entry.id) },
          text("discard"),
        ),
      ),
    );
    FieldlineApi.redraw(
      document.getElementById("quarantine"),
      rows.length ? rows : [element("li", { className: "muted" }, text("quarantine_none"))],
    );
  }

  function drawDevices(items) {
    const rows = items.map((device) =>
      element(
        "li",
        { className: "row row--static" },
        element("span", { className: "row-title" }, technicianName(device.technician_id) || device.device_id.slice(-8)),
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
  document.addEventListener("console:board", draw); // names of orders and technicians
  load();
  if (window.ConsoleLive) ConsoleLive.watch(load, { everyMs: 30000, kinds: ["conflict", "quarantine", "device"] });
})();
