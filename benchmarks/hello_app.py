"""The baseline: a bare Flask app with one JSON route, served exactly like Fieldline.

Benchmarks divide Fieldline's requests per second by this app's, measured in
the same run on the same machine: the ratio says what the framework stack,
auth, the database and serialisation cost on top of "Flask under gunicorn",
and it survives a noisy machine where an absolute number would not.

``GET /select-1`` is the floor for any endpoint that touches the database: the
same bare app plus one ``SELECT 1`` on a psycopg connection of its own per thread
(autocommit, no pool, no SQLAlchemy, no auth). No endpoint that makes a database
round trip can beat its ratio on the same machine.

``PUT /raw-upload`` is the floor for an upload: the request body streamed to a new
file in 1 MiB reads, fsynced and removed, nothing else (no auth, no protocol, no
hash, no validation): a raw streaming copy to disk over the same HTTP stack.
"""

from __future__ import annotations

import os
import tempfile
import threading
from typing import Any

import psycopg
from flask import Flask, Response, jsonify, request

app = Flask("hello")
_local = threading.local()


@app.get("/")
def hello() -> Response:
    return jsonify(hello="world")


@app.get("/select-1")
def select_one() -> Response:
    connection: psycopg.Connection[Any] | None = getattr(_local, "connection", None)
    if connection is None:
        url = os.environ["FIELDLINE_BENCH_FLOOR_URL"]
        connection = _local.connection = psycopg.connect(url, autocommit=True)
    row = connection.execute("SELECT 1").fetchone()
    return jsonify(hello="world", one=row[0] if row else None)


@app.put("/raw-upload")
def raw_upload() -> Response:
    fd, name = tempfile.mkstemp(prefix="raw-upload-", dir=os.environ.get("FIELDLINE_BENCH_RAW_DIR"))
    written = 0
    try:
        with os.fdopen(fd, "wb", buffering=0) as out:
            while chunk := request.stream.read(1024 * 1024):
                written += out.write(chunk) or 0
            os.fsync(out.fileno())
    finally:
        os.unlink(name)
    return jsonify(written=written)
