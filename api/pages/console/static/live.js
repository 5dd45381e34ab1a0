/* Live updates for the console, in one place: ConsoleLive.watch(onChange, everyMs)
   calls onChange() whenever the board may have changed, and returns a function that
   stops watching.

   Today it polls (every `everyMs`, paused while the page is hidden, at once when it
   is shown again). The live-updates stream replaces the body of `watch` alone: the
   console does not change. */
"use strict";

window.ConsoleLive = (() => {
  function watch(onChange, everyMs) {
    let timer = null;
    let stopped = false;

    async function tick() {
      timer = null;
      if (stopped) return;
      try {
        await onChange();
      } finally {
        schedule();
      }
    }

    function schedule() {
      if (!stopped && timer === null && !document.hidden) timer = setTimeout(tick, everyMs);
    }

    function onVisibility() {
      if (document.hidden) {
        clearTimeout(timer);
        timer = null;
      } else if (timer === null) {
        tick();
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
