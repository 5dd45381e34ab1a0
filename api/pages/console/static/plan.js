/* The day plan: ask the server to plan a day (POST /v1/day-plans), draw each
   technician's route on the map and list its visits, then apply the whole plan in
   one action (POST /v1/day-plans/apply, each order's version sent so a plan made
   from stale data is refused as a whole). */
"use strict";

(() => {
  const form = document.getElementById("plan-form");
  if (!form || !window.FieldlineApi) return;
  const { call, text, element, when, today } = FieldlineApi;
  const summary = document.getElementById("plan-summary");
  const routesList = document.getElementById("plan-routes");
  const applyButton = document.getElementById("plan-apply");
  const dateInput = document.getElementById("plan-date");
  let planned = null;

  if (!dateInput.value) dateInput.value = today();  // the tenant's today, as times are shown

  function board() {
    return window.ConsoleBoard ? ConsoleBoard.board : { orders: [], technicians: [] };
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    applyButton.hidden = true;
    routesList.replaceChildren();
    summary.textContent = text("planning");
    const result = await call("POST", "/v1/day-plans", { body: { date: dateInput.value } });
    if (!result.ok) {
      summary.textContent = text("refused", { reason: result.data ? result.data.title : result.status });
      return;
    }
    show(result.data);
  });

  function show(plan) {
    const orders = new Map(board().orders.map((order) => [order.id, order]));
    const technicians = new Map(board().technicians.map((tech) => [tech.id, tech]));
    const routes = plan.routes.filter((route) => route.visits.length > 0);
    planned = routes;
    const visits = routes.reduce((sum, route) => sum + route.visits.length, 0);
    const parts = [text("plan_summary", { count: visits }), text("plan_technicians", { count: routes.length })];
    if (plan.unassigned.length) parts.push(text("plan_left_out", { count: plan.unassigned.length }));
    summary.textContent = visits ? parts.join(" · ") : text("plan_empty");
    const drawn = [];
    routesList.replaceChildren(
      ...routes.map((route) => {
        const technician = technicians.get(route.technician_id);
        const name = technician ? technician.name : route.technician_id;
        const stops = [];
        const steps = route.visits.map((visit) => {
          const order = orders.get(visit.work_order_id);
          if (order && order.site.lat !== null) stops.push([order.site.lat, order.site.lon]);
          return `${order ? order.number : "?"} ${when(visit.arrive_at)}`;
        });
        const start = technician && technician.position ? [technician.position.lat, technician.position.lon] : null;
        drawn.push({ name, start, stops });
        return element(
          "li",
          { className: "row row--static" },
          element("span", { className: "row-title" }, name),
          element("span", { className: "row-facts" }, steps.join(" → ")),
        );
      }),
    );
    const map = window.ConsoleBoard && ConsoleBoard.map;
    if (map) map.plan(drawn);
    applyButton.hidden = visits === 0;
  }

  applyButton.addEventListener("click", async () => {
    if (!planned) return;
    const orders = new Map(board().orders.map((order) => [order.id, order]));
    const visits = [];
    for (const route of planned) {
      for (const visit of route.visits) {
        const order = orders.get(visit.work_order_id);
        visits.push({
          work_order_id: visit.work_order_id,
          technician_id: route.technician_id,
          scheduled_start: visit.arrive_at,
          scheduled_end: visit.scheduled_end,
          version: order ? order.version : null,
        });
      }
    }
    applyButton.disabled = true;
    const result = await call("POST", "/v1/day-plans/apply", { body: { visits } });
    applyButton.disabled = false;
    if (result.ok) {
      summary.textContent = text("plan_applied", { count: result.data.length });
      applyButton.hidden = true;
      planned = null;
      routesList.replaceChildren();
      const map = window.ConsoleBoard && ConsoleBoard.map;
      if (map) map.clearPlan();
      document.dispatchEvent(new CustomEvent("console:changed"));
    } else {
      summary.textContent = result.status === 412
        ? text("stale")
        : text("refused", { reason: result.data ? result.data.title : result.status });
    }
  });
})();
