"""Dispatch: GPS trails, geofenced arrival, candidate scoring, assignment and
day-plan optimisation.

Not built yet: the dispatch issue builds it (see ``docs/roadmap.md``)."""
