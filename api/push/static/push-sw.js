/* Fieldline's service worker for Web Push: shows what the server pushed and opens
   its page on a tap. The server sends {title, body, data, url} (docs/api.md,
   "Web Push and email"); `tag` is the notification id, so a resend replaces it. */
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { title: event.data ? event.data.text() : "" };
  }
  const data = message.data || {};
  event.waitUntil(
    self.registration.showNotification(message.title || "Fieldline", {
      body: message.body || "",
      tag: data.notification_id || undefined,
      data: { ...data, url: message.url || "/" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => client.url === url);
      return open ? open.focus() : self.clients.openWindow(url);
    })
  );
});
