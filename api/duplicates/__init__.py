"""Likely duplicate work orders: found on creation, offered to the office, merged on request."""
