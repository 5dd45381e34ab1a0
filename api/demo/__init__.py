"""The demo tenant: a Shanghai M&E service company with a few months of realistic work.

``fieldline demo`` (and ``quickstart``) call :func:`api.demo.loader.load_demo`.
The static pools (names, districts, companies, equipment, categories) live in
small data modules; the builders turn them into rows with one seeded random
generator, so every load produces the same tenant.
"""
