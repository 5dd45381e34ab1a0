"""WatermelonDB compatibility: ``GET``/``POST /v1/sync/watermelon`` (PROTOCOL.md § 15).

An app using WatermelonDB's stock ``synchronize()`` syncs through these two
endpoints, which follow WatermelonDB's backend contract and map it onto the
change log (pull) and the protocol's mutations (push).
"""
