"""Technicians: skills with levels, certifications, home base, working hours."""
