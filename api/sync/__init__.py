"""Offline sync, server side: the change log and the pull endpoint (PROTOCOL.md § 4, § 5, § 11).

Importing this package installs the session hooks that write the change log
(:mod:`api.sync.capture`); ``api.models`` imports it, so every process that
maps the models records changes.
"""

from __future__ import annotations

from api.sync import capture

capture.install()
