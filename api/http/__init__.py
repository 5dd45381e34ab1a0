"""HTTP mechanics shared by every blueprint: permissions, pagination, ETags,
idempotency, the app's unit-of-work factory and base schemas."""
