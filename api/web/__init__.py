"""Non-API HTTP endpoints: health probes and the offline API docs assets."""
