"""Throwaway PostgreSQL databases for tests (the server runs on 127.0.0.1:5432)."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url


def create_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    # PostGIS (dispatch's spatial index, migration 0025) needs a superuser to be
    # enabled: done here as the admin, so the migrations may run as anyone.
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
