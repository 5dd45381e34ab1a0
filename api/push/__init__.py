"""Web Push: per-tenant VAPID keys, people's push subscriptions, delivery through the outbox."""
