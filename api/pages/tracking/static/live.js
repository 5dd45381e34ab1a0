/* Live updates for the tracking page, in one place: FieldlineLive.watch(url, everyMs,
   onChange, streamUrl) calls onChange(data) with the tracking view each time it
   changes, and returns a function that stops watching.

   With `streamUrl` it listens to the live stream (`fieldline streams`, docs/live.md):
   each `tracking` event carries the same view the tracking API answers, sent when the
   order or its technician's position changes; the browser's EventSource reconnects by
   itself. When the stream cannot be had (refused, or no stream server), it falls back
   to polling `url` every `everyMs` (paused while the page is hidden). */
"use strict";

window.FieldlineLive = (() => {
  const GIVE_UP_AFTER_ERRORS = 3; // failed (re)connects in a row before polling instead

  function poller(url, everyMs, onChange) {
    let timer = null;
    let stopped = false;

    async function poll() {
      timer = null;
      if (stopped) return;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
        if (response.ok) onChange(await response.json());
        else if (response.status === 404) return stop(); // the link ended: nothing more to show
      } catch (_) {
        /* offline for a moment: try again next time */
      }
      schedule();
    }

    function schedule() {
      if (!stopped && timer === null && !document.hidden) timer = setTimeout(poll, everyMs);
    }

    function onVisibility() {
      if (document.hidden) {
        clearTimeout(timer);
        timer = null;
      } else {
        poll();
      }
    }

    function stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    }

    document.addEventListener("visibilitychange", onVisibility);
    schedule();
    return stop;
  }

  function watch(url, everyMs, onChange, streamUrl) {
    if (!streamUrl || !window.EventSource) return poller(url, everyMs, onChange);
    let source = new EventSource(streamUrl);
    let stopPolling = null;
    let errors = 0;

    function stop() {
      if (source) source.close();
      source = null;
      if (stopPolling) stopPolling();
    }

    source.addEventListener("tracking", (message) => {
      errors = 0;
      onChange(JSON.parse(message.data));
    });
    // The work is done, or the link was revoked: nothing more will come.
    source.addEventListener("end", stop);
    source.addEventListener("gone", stop);
    source.addEventListener("error", () => {
      if (!source) return;
      errors += 1;
      // CLOSED: the server refused (404, 429) or said there is nothing live (204).
      if (source.readyState === EventSource.CLOSED || errors >= GIVE_UP_AFTER_ERRORS) {
        source.close();
        source = null;
        stopPolling = poller(url, everyMs, onChange);
      }
    });
    return stop;
  }

  return { watch };
})();
