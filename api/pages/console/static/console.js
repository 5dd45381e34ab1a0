/* The console's board: the open orders (list and map) under the chosen filters, the
   technicians, kept fresh by ConsoleLive (the live stream, else polling); a pick on the list or the map opens the
   order (ConsoleDetail). The filter form also works without script (a GET). */
"use strict";

(() => {
  const root = document.getElementById("console");
  if (!root || !window.FieldlineApi) return;
  const { call, text, element } = FieldlineApi;
  const mapElement = document.getElementById("map");
  const map = window.L && window.ConsoleMap ? ConsoleMap.show(mapElement) : null;
  const filters = document.getElementById("filters");
  const status = document.getElementById("console-status");
  const board = { orders: [], technicians: [] };
  let latest = 0; // loads overlap (a poll and a change): only the last one started is drawn

  function query() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(filters)) if (value) params.set(name, value);
    return params;
  }

  async function load() {
    const mine = ++latest;
    const params = query();
    params.set("limit", "200");
    const [orders, technicians] = await Promise.all([
      call("GET", `/v1/board/work-orders?${params}`),
      call("GET", `/v1/board/technicians?limit=200${params.get("team_id") ? `&team_id=${params.get("team_id")}` : ""}`),
    ]);
    if (mine !== latest) return;
    if (!orders.ok || !technicians.ok) {
      status.textContent = text("failed");
      return;
    }
    status.textContent = "";
    board.orders = orders.data.items;
    board.more = orders.data.next_cursor !== null;
    board.technicians = technicians.data.items;
    drawOrders();
    drawTechnicians();
    if (map) map.frame();
    document.dispatchEvent(new CustomEvent("console:board", { detail: board }));
  }

  function drawOrders() {
    const list = document.getElementById("orders");
    document.getElementById("orders-count").textContent = board.more
      ? text("orders_more", { count: board.orders.length })
      : text("orders_count", { count: board.orders.length });
    const rows = board.orders.map((order) => {
      const facts = [
        text(`priority.${order.priority}`),
        text(`status.${order.status}`),
        order.assignee ? order.assignee.name : text("unassigned"),
        order.site.lat === null ? text("unplaced") : order.site.city || order.site.name,
      ];
      return element(
        "li",
        { className: "row" },
        element(
          "button",
          {
            type: "button", className: "row-button", "data-order": order.id, "data-key": order.id,
            onclick: () => pick(order.id),
          },
          element("span", { className: `badge sla-${order.sla_state}` }, text(`sla.${order.sla_state}`)),
          element("span", { className: "row-title" }, `${order.number} · ${order.title}`),
          element("span", { className: "row-facts" }, facts.join(" · ")),
        ),
      );
    });
    FieldlineApi.redraw(list, rows.length ? rows : [element("li", { className: "muted" }, text("no_orders"))]);
    mark();
    if (map) map.orders(board.orders, pick);
  }

  function describe(technician) {
    return [
      technician.name,
      text(`activity.${technician.activity}`),
      technician.current_job ? text("current_job", { number: technician.current_job.number }) : null,
      technician.position ? FieldlineApi.when(technician.position.fixed_at) : null,
    ].filter(Boolean).join(" · ");
  }

  /* The technician's photo (a short-lived link the board handed out), else their
     initial; decorative either way, as their name follows it. */
  function portrait(technician) {
    if (technician.photo_url) {
      return element("img", { className: "avatar", src: technician.photo_url, alt: "", width: 40, height: 40 });
    }
    return element("span", { className: "avatar avatar--initial", "aria-hidden": "true" }, Array.from(technician.name)[0] || "?");
  }

  function drawTechnicians() {
    const list = document.getElementById("technicians");
    const rows = board.technicians.map((technician) =>
      element(
        "li",
        { className: "row row--static row--person" },
        portrait(technician),
        element(
          "span",
          { className: "row-text" },
          element("span", { className: `badge activity-${technician.activity}` }, text(`activity.${technician.activity}`)),
          element("span", { className: "row-title" }, technician.name),
          element(
            "span",
            { className: "row-facts" },
            [
              technician.current_job ? text("current_job", { number: technician.current_job.number }) : null,
              text("open_orders", { count: technician.open_orders }),
              technician.position ? FieldlineApi.when(technician.position.fixed_at) : text("no_position"),
            ].filter(Boolean).join(" · "),
          ),
        ),
      ),
    );
    list.replaceChildren(...rows);
    if (map) map.technicians(board.technicians, describe);
  }

  /* A burst of positions moves the technicians where they are (the event has the fix);
     anything else is read again from the API, which applies the reader's rights. */
  function onLive(events) {
    if (events.length === 0 || !events.every((event) => event.kind === "position")) return load();
    for (const { data } of events) {
      const technician = board.technicians.find((found) => found.id === data.technician_id);
      if (!technician) return load(); // someone new to the board
      const newer = !technician.position || new Date(data.fixed_at) >= new Date(technician.position.fixed_at);
      if (!newer) continue; // an older fix arriving late
      technician.position = { lat: data.lat, lon: data.lon, accuracy_m: data.accuracy_m, fixed_at: data.fixed_at };
    }
    drawTechnicians();
    return undefined;
  }

  function pick(id) {
    if (window.ConsoleDetail) ConsoleDetail.open(id);
    mark();
  }

  /* The open order's row says so (aria-current), also after a redraw. */
  function mark() {
    const open = window.ConsoleDetail && ConsoleDetail.current();
    for (const button of document.querySelectorAll("#orders [data-order]")) {
      if (open && button.dataset.order === open.id) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  filters.addEventListener("change", () => {
    const params = query();
    history.replaceState(null, "", params.toString() ? `/console?${params}` : "/console");
    load();
  });
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  document.addEventListener("console:changed", () => load());
  document.addEventListener("console:closed", mark);

  window.ConsoleBoard = { board, map, reload: load };
  status.textContent = text("loading");
  load();
  if (window.ConsoleLive) {
    ConsoleLive.watch(onLive, {
      everyMs: Number(root.dataset.refreshMs) || 10000,
      kinds: ["work_order", "position", "sla", "visit"],
    });
  }
})();
