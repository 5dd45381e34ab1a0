"""The offline sync protocol, framework-free, shared by the server and the client SDK.

``PROTOCOL.md`` beside this file is the specification; these modules are the
parts of it both sides must compute identically: the wire messages
(:mod:`.messages`, :mod:`.records`, :mod:`.mutations`, strict JSON in
:mod:`.wire`), hybrid logical clocks (:mod:`.hlc`), the work order state machine
(:mod:`.workorder_status`) and its offline merge policy (:mod:`.status_merge`),
field ownership and the field, evidence and row merges (:mod:`.ownership`,
:mod:`.merge`), scopes and checksums (:mod:`.scopes`, :mod:`.checksum`),
versions (:mod:`.versions`) and the catalogue of codes (:mod:`.errors`). The
push/pull engine that runs them against storage is built on top (the server
task); nothing here imports Flask, a database or ``api``.
"""
