"""Choosing technicians for work orders (rules in dispatch/, wiring here)."""
