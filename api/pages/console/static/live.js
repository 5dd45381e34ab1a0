/* Live updates for the console, in one place: ConsoleLive.watch(onChange, {everyMs,
   kinds}) calls onChange(events) whenever what a part of the page shows may have
   changed, and returns a function that stops watching.

   The live stream (`fieldline streams`, docs/live.md) is opened once for the page
   through FieldlineConsoleLive (api/pages/live/static/console.js) with a ticket the
   page asks the API for (its session cookie and CSRF header, like every call). Each
   event whose kind a watcher listens to reaches it within a fraction of a second, a
   burst coalesced into one call with the list of {kind, data}. While the stream is
   not live (no stream server, a reconnect in progress) each watcher with `everyMs`
   polls instead, paused while the page is hidden; when the stream comes (back) every
   watcher is called once (`[]`), as after a `resync`, since something may have been
   missed. */
"use strict";

window.ConsoleLive = (() => {
  const COALESCE_MS = 250;
  const watchers = new Set();
  let live = false;
  let started = false;

  function watch(onChange, options) {
    const watcher = {
      onChange, everyMs: options.everyMs || 0, kinds: new Set(options.kinds || []),
      timer: null, pending: null, running: false, stopped: false,
    };
    watchers.add(watcher);
    schedulePoll(watcher);
    start();
    return () => {
      watcher.stopped = true;
      clearTimeout(watcher.timer);
      watchers.delete(watcher);
    };
  }

  async function run(watcher, events) {
    if (watcher.stopped) return;
    if (watcher.running) {
      // One call at a time: what arrives meanwhile is handed over when it ends.
      watcher.pending = (watcher.pending || []).concat(events);
      return;
    }
    watcher.running = true;
    try {
      await watcher.onChange(events);
    } catch (_) {
      /* offline for a moment: the next event or poll tries again */
    } finally {
      watcher.running = false;
    }
    if (watcher.pending) {
      const next = watcher.pending;
      watcher.pending = null;
      run(watcher, next);
    }
  }

  function schedulePoll(watcher) {
    if (live || !watcher.everyMs || watcher.stopped || watcher.timer !== null || document.hidden) return;
    watcher.timer = setTimeout(async () => {
      watcher.timer = null;
      await run(watcher, []);
      schedulePoll(watcher);
    }, watcher.everyMs);
  }

  function stopPolls() {
    for (const watcher of watchers) {
      clearTimeout(watcher.timer);
      watcher.timer = null;
    }
  }

  let burst = [];
  let burstTimer = null;
  function onEvent(kind, data) {
    burst.push({ kind, data });
    if (burstTimer !== null) return;
    burstTimer = setTimeout(() => {
      const events = burst;
      burst = [];
      burstTimer = null;
      for (const watcher of watchers) {
        const mine = events.filter((event) => watcher.kinds.has(event.kind));
        if (mine.length) run(watcher, mine);
      }
    }, COALESCE_MS);
  }

  function everyone() {
    for (const watcher of watchers) run(watcher, []);
  }

  function onState(state) {
    const root = document.getElementById("console");
    if (root) root.dataset.live = state;
    const wasLive = live;
    live = state === "live";
    if (live) {
      stopPolls();
      if (!wasLive) everyone();
    } else {
      for (const watcher of watchers) schedulePoll(watcher);
    }
  }

  async function ticket() {
    const answer = await FieldlineApi.call("POST", "/v1/live/tickets");
    if (answer.status === 401 || answer.status === 403) return null; // not (any longer) allowed
    if (!answer.ok) throw new Error("no ticket");
    return answer.data;
  }

  function start() {
    if (started || !window.FieldlineConsoleLive || !window.EventSource) return;
    started = true;
    FieldlineConsoleLive.connect({ ticket, onEvent, onResync: everyone, onState });
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      stopPolls();
    } else if (!live) {
      everyone(); // back to the page: catch up at once, then poll again
      for (const watcher of watchers) schedulePoll(watcher);
    }
  });

  return { watch };
})();
