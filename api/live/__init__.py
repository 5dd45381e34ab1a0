"""Live updates: what changed, told to the dispatcher console and the tracking page.

Writers (the API's request workers, the outbox worker, the sync push) do nothing
by hand: :mod:`api.live.capture` notes at flush time which rows of interest a
transaction wrote and, tied to its commit, tells the stream server:

- on **PostgreSQL** with ``NOTIFY fieldline_live`` inside the committing
  transaction (delivered if and only if the commit succeeds, to every stream
  process's one listening connection);
- on **SQLite** through :mod:`api.live.relay` after the commit: straight to a
  stream server running in the same process, else as a datagram to the one
  serving that database file.

The stream server (:mod:`api.live.stream`, ``fieldline streams``) is an asyncio
process beside gunicorn: it holds the open Server-Sent Event connections, so a
thousand watching browsers cost the API's request workers nothing. Events are
small (a kind and ids, a position); a console re-reads what it shows through the
API, a tracking stream is sent the public tracking view itself, computed by the
same rules as ``/v1/tracking/<token>``. docs/live.md says how to use them.
"""

from __future__ import annotations

from api.live import capture

capture.install()
