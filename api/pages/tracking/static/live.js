/* Live updates for the tracking page, in one place: FieldlineLive.watch(url, everyMs,
   onChange) calls onChange(data) with the tracking API's latest answer, and returns a
   function that stops watching.

   Today it polls (every `everyMs`, paused while the page is hidden). The live-updates
   stream will replace the body of `watch` alone; the page does not change. */
"use strict";

window.FieldlineLive = (() => {
  function watch(url, everyMs, onChange) {
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

  return { watch };
})();
