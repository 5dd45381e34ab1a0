/* Subscribe this browser to the signed-in person's Fieldline notifications.

   await FieldlinePush.subscribe(accessToken)   -> the subscription's id
   await FieldlinePush.unsubscribe(accessToken) -> true if one was removed

   It registers /push-sw.js, asks the browser's push service for a subscription
   under the tenant's VAPID key (GET /v1/push/vapid-public-key) and hands it to
   POST /v1/push/subscriptions. The browser asks the person for permission. */
"use strict";

const FieldlinePush = (() => {
  const STORE = "fieldline.push.subscription_id";

  function keyBytes(base64url) {
    const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }

  async function api(token, method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok && response.status !== 404) {
      throw new Error(`${method} ${path}: ${response.status}`);
    }
    return response.status === 204 || response.status === 404 ? null : response.json();
  }

  async function subscribe(token) {
    const registration = await navigator.serviceWorker.register("/push-sw.js");
    await navigator.serviceWorker.ready;
    const { public_key: key } = await api(token, "GET", "/v1/push/vapid-public-key");
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(key),
    });
    const { endpoint, keys } = subscription.toJSON();
    const saved = await api(token, "POST", "/v1/push/subscriptions", { endpoint, keys });
    localStorage.setItem(STORE, saved.id);
    return saved.id;
  }

  async function unsubscribe(token) {
    const id = localStorage.getItem(STORE);
    const registration = await navigator.serviceWorker.getRegistration("/");
    const subscription = registration && (await registration.pushManager.getSubscription());
    if (subscription) await subscription.unsubscribe();
    if (!id) return false;
    localStorage.removeItem(STORE);
    await api(token, "DELETE", `/v1/push/subscriptions/${id}`);
    return true;
  }

  return { subscribe, unsubscribe };
})();
