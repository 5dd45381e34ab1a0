"""The stream server: Server-Sent Events for the console and the tracking page.

An asyncio process (aiohttp) beside gunicorn, ``fieldline streams``: each open
stream is a coroutine and a small queue, not a request worker. One feed brings
the committed events in (:mod:`api.live.stream.feeds`: PostgreSQL LISTEN, or the
SQLite relay), one hub fans them out in memory (:mod:`api.live.stream.hub`), and
the handlers (:mod:`api.live.stream.app`) check who may watch what.
"""
