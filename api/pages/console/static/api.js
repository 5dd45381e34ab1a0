/* The console's calls to the /v1 API, in one place. The access token is in an
   HttpOnly cookie the browser sends itself; every call adds the CSRF header (the
   server accepts the cookie only with it). On 401 the session is refreshed once
   (POST /console/session, one tab at a time through a Web Lock, so two tabs never
   spend the same refresh token) and the call is tried again; when the session has
   ended the page goes to the sign-in form.

   FieldlineApi.call(method, url, {body, ifMatch}) -> {status, ok, etag, data}
   FieldlineApi.text(key, vars) -> the page's text for key, with %(name)s filled.
   FieldlineApi.element(tag, attributes, ...children), .when(iso), .redraw(list, rows). */
"use strict";

window.FieldlineApi = (() => {
  const root = document.getElementById("console");
  const csrf = root ? root.dataset.csrf : "";
  const textsElement = document.getElementById("console-texts");
  const texts = textsElement ? JSON.parse(textsElement.textContent) : {};

  /* A counted text is [one, other]: chosen by vars.count (English has two forms). */
  function text(key, vars) {
    let value = key.split(".").reduce((found, part) => (found ? found[part] : undefined), texts);
    if (Array.isArray(value)) value = value[vars && Number(vars.count) === 1 ? 0 : 1];
    if (typeof value !== "string") value = key;
    return value.replace(/%\((\w+)\)s/g, (_, name) => (vars && name in vars ? String(vars[name]) : ""));
  }

  async function send(method, url, options) {
    const headers = { Accept: "application/json", "X-CSRF-Token": csrf };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (options && options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (options && options.ifMatch !== undefined) headers["If-Match"] = `"${options.ifMatch}"`;
    if (options && options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
    return fetch(url, init);
  }

  async function refreshSession() {
    const attempt = async () => {
      const response = await fetch("/console/session", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf },
      });
      return response.status === 204;
    };
    return navigator.locks ? navigator.locks.request("fieldline-session", attempt) : attempt();
  }

  async function call(method, url, options) {
    let response = await send(method, url, options);
    if (response.status === 401) {
      // Another tab may have refreshed meanwhile: try again before refreshing ourselves.
      response = await send(method, url, options);
      if (response.status === 401 && (await refreshSession())) response = await send(method, url, options);
      if (response.status === 401) {
        window.location.assign("/sign-in");
        return { status: 401, ok: false, etag: null, data: null };
      }
    }
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) data = await response.json();
    const etag = response.headers.get("ETag");
    return { status: response.status, ok: response.ok, etag: etag ? etag.replace(/"/g, "") : null, data };
  }

  function element(tag, attributes, ...children) {
    const made = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") made.className = value;
      else if (name.startsWith("on")) made.addEventListener(name.slice(2), value);
      else made.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      made.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return made;
  }

  /* Replace a list's rows, keeping the keyboard's place: the focused control (marked
     with data-key) is focused again in the new rows, so a refresh never throws a
     keyboard user back to the top of the page. */
  function redraw(list, rows) {
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    list.replaceChildren(...rows);
    if (!focused) return;
    const again = Array.from(list.querySelectorAll("[data-key]")).find((found) => found.dataset.key === focused);
    if (again) again.focus();
  }

  const language = root ? root.dataset.language : "en";
  // Times in the tenant's zone, as the office and its customers read them.
  const timeFormat = new Intl.DateTimeFormat(language, {
    dateStyle: "medium", timeStyle: "short", timeZone: (root && root.dataset.timezone) || undefined,
  });
  function when(iso) {
    return iso ? timeFormat.format(new Date(iso)) : "";
  }
  // Today's date (YYYY-MM-DD) in the tenant's zone: the day the office is living.
  const dayFormat = new Intl.DateTimeFormat("en-CA", {
    year: "numeric", month: "2-digit", day: "2-digit", timeZone: (root && root.dataset.timezone) || undefined,
  });
  function today() {
    return dayFormat.format(new Date());
  }

  function newKey() {
    return window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }

  return { call, text, element, when, today, newKey, redraw };
})();
