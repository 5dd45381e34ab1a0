"""Rate limit counters that every worker and host shares (see :mod:`api.ratelimits.storage`)."""
