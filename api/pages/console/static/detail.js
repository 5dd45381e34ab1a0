/* One order, opened from the list or the map: its facts, the ranked candidates with
   their score parts (and who was left out, and why), its photos (thumbnails through
   their signed links) and its timeline, where the geofence's arrival and departure show
   with the fixes behind them (first and last fix, how many). Assigning or reassigning is one action sent
   with the order's version (If-Match): if someone changed the order meanwhile (412)
   the panel says so and shows the order as it is now.

   ConsoleDetail.open(id) */
"use strict";

window.ConsoleDetail = (() => {
  const { call, text, element, when, newKey } = FieldlineApi;
  const panel = document.getElementById("detail");
  const heading = document.getElementById("detail-heading");
  const message = document.getElementById("detail-message");
  let current = null; // {id, version}

  function boardRow(id) {
    const board = window.ConsoleBoard ? ConsoleBoard.board : { orders: [] };
    return board.orders.find((order) => order.id === id) || null;
  }

  async function open(id, keepMessage) {
    current = { id, version: null };
    if (!keepMessage) message.textContent = "";
    panel.hidden = false;
    heading.textContent = text("loading");
    const base = `/v1/work-orders/${id}`;
    const [order, history, photos, candidates, visit] = await Promise.all([
      call("GET", base),
      call("GET", `${base}/history?limit=200`),
      call("GET", `${base}/photos?limit=50`),
      call("GET", `${base}/candidates`),
      call("GET", `${base}/visit`), // 404 until the geofence sees an arrival
    ]);
    if (!current || current.id !== id) return; // another order was opened meanwhile
    if (!order.ok) {
      heading.textContent = text("failed");
      return;
    }
    current.version = order.etag !== null ? Number(order.etag) : order.data.version;
    drawFacts(order.data);
    drawCandidates(order.data, candidates.ok ? candidates.data : { candidates: [], excluded: [] });
    drawPhotos(photos.ok ? photos.data.items : []);
    drawHistory(history.ok ? history.data.items : [], visit.ok ? visit.data : null);
    if (!keepMessage) {
      panel.scrollIntoView({ block: "start" });
      panel.focus();
    }
  }

  function drawFacts(order) {
    heading.textContent = `${order.number} · ${order.title}`;
    const row = boardRow(order.id);
    const facts = [text(`status.${order.status}`), text(`priority.${order.priority}`)];
    if (row) {
      facts.push(text(`sla.${row.sla_state}`));
      if (row.sla_due_at) facts.push(text("due", { time: when(row.sla_due_at) }));
      facts.push(row.customer.name, row.site.name);
      facts.push(row.assignee ? row.assignee.name : text("unassigned"));
    }
    document.getElementById("detail-facts").textContent = facts.join(" · ");
  }

  function drawCandidates(order, ranked) {
    const list = document.getElementById("candidates");
    const canAssign = (order.allowed_actions || []).includes("assign");
    const rows = ranked.candidates.map((candidate) => {
      const isAssignee = candidate.technician_id === order.assignee_id;
      const verb = order.assignee_id ? "reassign" : "assign";
      const parts = element("dl", { className: "parts" });
      for (const [name, value] of Object.entries(candidate.parts)) {
        parts.append(element("dt", {}, text(`parts.${name}`)), element("dd", {}, value.toFixed(2)));
      }
      return element(
        "li",
        { className: "row row--static candidate" },
        element("span", { className: "row-title" }, candidate.name),
        element(
          "span",
          { className: "row-facts" },
          `${text("score")} ${candidate.score.toFixed(2)} · `,
          text("distance", {
            km: (candidate.distance_m / 1000).toFixed(1),
            minutes: Math.round(candidate.travel_minutes),
          }),
          ` · ${text("open_orders", { count: candidate.open_orders })}`,
        ),
        parts,
        canAssign && !isAssignee
          ? element(
              "button",
              {
                type: "button",
                "aria-label": text("assign_to", { number: order.number, name: candidate.name }),
                "data-key": candidate.technician_id,
                onclick: (event) => assign(order, candidate, event.currentTarget),
              },
              text(verb),
            )
          : null,
      );
    });
    FieldlineApi.redraw(list, rows.length ? rows : [element("li", { className: "muted" }, text("candidates_none"))]);
    const excluded = document.getElementById("excluded");
    excluded.replaceChildren(...ranked.excluded.map((left) => element("li", {}, `${left.name}: ${left.detail}`)));
    document.getElementById("excluded-heading").hidden = ranked.excluded.length === 0;
  }

  function drawPhotos(items) {
    const list = document.getElementById("photos");
    const rows = [];
    items.forEach((photo, index) => {
      const link = (photo.derivatives || []).find((d) => d.kind === "thumb") || (photo.derivatives || [])[0];
      if (!link) return;
      rows.push(
        element(
          "li",
          {},
          element("img", {
            src: link.url, width: link.width, height: link.height, loading: "lazy",
            alt: photo.caption || text("photo_alt", { index: index + 1 }),
          }),
        ),
      );
    });
    list.replaceChildren(...(rows.length ? rows : [element("li", { className: "muted" }, text("no_photos"))]));
  }

  function drawHistory(items, visit) {
    const steps = items.map((change) => ({
      at: change.occurred_at,
      title: text(`status.${change.to_status}`),
      detail: change.reason,
    }));
    if (visit) {
      steps.push(fenceStep(visit.arrived_at, text(`arrival_${visit.arrival}`), visit.arrival_evidence));
      if (visit.left_at) steps.push(fenceStep(visit.left_at, text("departure_seen"), visit.departure_evidence));
    }
    steps.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    document.getElementById("history").replaceChildren(
      ...steps.map((step) =>
        element(
          "li",
          { className: "is-done" },
          element("span", { className: "dot", "aria-hidden": "true" }),
          element("span", { className: "step-title" }, step.title),
          element("time", { datetime: step.at }, when(step.at)),
          step.detail ? element("span", { className: "step-detail" }, step.detail) : null,
        ),
      ),
    );
  }

  // A geofence time and what decided it: the first and last fix of the stay (or
  // absence), the first one's distance to the site, and how many fixes it held.
  function fenceStep(at, title, evidence) {
    const detail = evidence
      ? text("evidence", {
          count: evidence.fixes,
          first: when(evidence.first.fixed_at),
          metres: Math.round(evidence.first.distance_m),
          last: when(evidence.last.fixed_at),
        })
      : null;
    return { at, title, detail };
  }

  async function assign(order, candidate, button) {
    button.disabled = true;
    const result = await call("POST", `/v1/work-orders/${order.id}/transitions`, {
      body: { action: "assign", assignee_id: candidate.technician_id },
      ifMatch: current.version,
      idempotencyKey: newKey(),
    });
    if (result.ok) {
      message.textContent = text("assigned", { number: order.number, name: candidate.name });
    } else if (result.status === 412) {
      message.textContent = text("stale");
    } else {
      message.textContent = text("refused", { reason: result.data ? result.data.title : result.status });
    }
    document.dispatchEvent(new CustomEvent("console:changed"));
    await open(order.id, true);
    panel.focus();
  }

  document.getElementById("detail-close").addEventListener("click", () => {
    const id = current && current.id;
    current = null;
    panel.hidden = true;
    document.dispatchEvent(new CustomEvent("console:closed"));
    // The list is redrawn as the board refreshes: find the order's row again.
    const row = id && document.querySelector(`#orders [data-order="${id}"]`);
    if (row) row.focus();
  });

  // What happens to the open order elsewhere (a technician's step, a photo, a signature)
  // shows at once; without a stream the panel is as fresh as its last opening.
  if (window.ConsoleLive) {
    ConsoleLive.watch(
      (events) => {
        if (!current) return undefined;
        const id = current.id;
        const touched = events.length === 0 || events.some((event) => event.data.work_order_id === id || event.data.id === id);
        return touched ? open(id, true) : undefined;
      },
      { kinds: ["work_order", "evidence", "signoff", "visit", "sla", "report"] },
    );
  }

  return { open, current: () => current };
})();
