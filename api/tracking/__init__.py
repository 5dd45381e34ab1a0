"""Customer tracking: a work order's public, expiring link and what it shows."""
