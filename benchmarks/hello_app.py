"""The baseline: a bare Flask app with one JSON route, served exactly like Fieldline.

Benchmarks divide Fieldline's requests per second by this app's, measured in
the same run on the same machine: the ratio says what the framework stack,
auth, the database and serialisation cost on top of "Flask under gunicorn",
and it survives a noisy machine where an absolute number would not.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify

app = Flask("hello")


@app.get("/")
def hello() -> Response:
    return jsonify(hello="world")
