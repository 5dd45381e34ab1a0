"""Tenants: the organisations that own every other row."""
