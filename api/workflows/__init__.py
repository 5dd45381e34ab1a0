"""Workflow steps per category: definitions as tenant data, each order's run, step actions."""
