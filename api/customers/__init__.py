"""Customers (with their service tier) and their contacts."""
