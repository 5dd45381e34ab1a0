/* Subscribe this browser to Fieldline's Web Push.

   A signed-in person, for their own notifications:
     await FieldlinePush.subscribe(accessToken)   -> the subscription's id
     await FieldlinePush.unsubscribe(accessToken) -> true if one was removed
   A customer on a tracking page, for that order only (the link is the credential):
     await FieldlinePush.subscribeToTracking(trackingToken)   -> the subscription's id
     await FieldlinePush.unsubscribeFromTracking(trackingToken) -> true if one was removed

   It registers /push-sw.js, asks the browser's push service for a subscription
   under the tenant's VAPID key and hands it to the server. The browser asks the
   person for permission. */
"use strict";

const FieldlinePush = (() => {
  const STORE = "fieldline.push.subscription_id";

  function keyBytes(base64url) {
    const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }

  async function api(headers, method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { ...headers, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok && response.status !== 404) {
      throw new Error(`${method} ${path}: ${response.status}`);
    }
    return response.status === 204 || response.status === 404 ? null : response.json();
  }

  async function subscribeAt(headers, keyPath, savePath, store) {
    const registration = await navigator.serviceWorker.register("/push-sw.js");
    await navigator.serviceWorker.ready;
    const { public_key: key } = await api(headers, "GET", keyPath);
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(key),
    });
    const { endpoint, keys } = subscription.toJSON();
    const saved = await api(headers, "POST", savePath, { endpoint, keys });
    localStorage.setItem(store, saved.id);
    return saved.id;
  }

  async function unsubscribeAt(headers, pathOf, store) {
    const id = localStorage.getItem(store);
    const registration = await navigator.serviceWorker.getRegistration("/");
    const subscription = registration && (await registration.pushManager.getSubscription());
    if (subscription) await subscription.unsubscribe();
    if (!id) return false;
    localStorage.removeItem(store);
    await api(headers, "DELETE", pathOf(id));
    return true;
  }

  const bearer = (token) => ({ Authorization: `Bearer ${token}` });
  const tracking = (token) => `/v1/tracking/${encodeURIComponent(token)}`;
  const language = () => ({ "Accept-Language": document.documentElement.lang || "zh-CN" });

  return {
    subscribe: (token) =>
      subscribeAt(bearer(token), "/v1/push/vapid-public-key", "/v1/push/subscriptions", STORE),
    unsubscribe: (token) =>
      unsubscribeAt(bearer(token), (id) => `/v1/push/subscriptions/${id}`, STORE),
    subscribeToTracking: (token) =>
      subscribeAt(language(), `${tracking(token)}/vapid-public-key`,
        `${tracking(token)}/push-subscriptions`, `${STORE}.${token}`),
    unsubscribeFromTracking: (token) =>
      unsubscribeAt(language(), (id) => `${tracking(token)}/push-subscriptions/${id}`,
        `${STORE}.${token}`),
  };
})();
