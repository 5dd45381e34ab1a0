/* The dispatcher console's live updates: FieldlineConsoleLive.connect(options) keeps one
   stream of the tenant's changes open and returns a function that closes it.

   options:
     ticket()        async, resolves to the JSON of POST /v1/live/tickets (the page
                     calls it with its own credentials); asked again before every
                     (re)connect, so the stream server checks the sign-in each time
     onEvent(kind, data)  a change: kind is work_order, position, conflict, evidence,
                     signoff, visit, sla, report, rating, tracking_link, quarantine or
                     device; data has the ids (and, for a position, lat/lon/fixed_at;
                     for an order, status/assignee_id/priority). Re-read what you show.
     onResync()      events may have been missed: re-read everything shown
     onState(state)  "live", "reconnecting" or "ended" (the sign-in ended)

   Reconnects with back-off (1 s doubling to 30 s, with jitter) and resumes from the
   last event seen (last_event_id), which the server replays or answers with a resync. */
"use strict";

window.FieldlineConsoleLive = (() => {
  const KINDS = [
    "work_order", "position", "conflict", "evidence", "signoff", "visit", "sla",
    "report", "rating", "tracking_link", "quarantine", "device",
  ];

  function connect(options) {
    const onState = options.onState || (() => {});
    const onResync = options.onResync || (() => {});
    let source = null;
    let lastId = null;
    let delay = 1000;
    let timer = null;
    let stopped = false;

    async function open() {
      timer = null;
      if (stopped) return;
      let ticket;
      try {
        ticket = await options.ticket();
      } catch (_) {
        return retry(); // offline, or the API is away: try again later
      }
      if (!ticket || !ticket.console_url) return end(); // refused: no longer allowed
      if (stopped) return;
      const url = ticket.console_url + (lastId ? "&last_event_id=" + encodeURIComponent(lastId) : "");
      source = new EventSource(url);
      source.addEventListener("ready", () => {
        delay = 1000;
        onState("live");
      });
      source.addEventListener("resync", (message) => {
        remember(message);
        onResync();
      });
      source.addEventListener("revoked", end);
      for (const kind of KINDS) {
        source.addEventListener(kind, (message) => {
          remember(message);
          options.onEvent(kind, JSON.parse(message.data));
        });
      }
      // Any failure: close, and reconnect ourselves with a fresh ticket (the browser's
      // own retry would reuse the old one, which expires within a minute).
      source.addEventListener("error", () => {
        source.close();
        source = null;
        retry();
      });
    }

    function remember(message) {
      if (message.lastEventId) lastId = message.lastEventId;
    }

    function retry() {
      if (stopped || timer !== null) return;
      onState("reconnecting");
      timer = setTimeout(open, delay * (0.5 + Math.random() / 2));
      delay = Math.min(delay * 2, 30000);
    }

    function end() {
      close();
      onState("ended");
    }

    function close() {
      stopped = true;
      clearTimeout(timer);
      if (source) source.close();
      source = null;
    }

    open();
    return close;
  }

  return { connect };
})();
