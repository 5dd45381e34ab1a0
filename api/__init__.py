"""Fieldline's server: the Flask application, its domains and its command line.

Only this package imports Flask, flask-smorest and marshmallow; the engines
(``sync_protocol``, ``media``, ``dispatch``, ``signatures``) stay framework-free.
"""
