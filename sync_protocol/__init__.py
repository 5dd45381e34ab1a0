"""The offline sync protocol: wire messages, hybrid logical clocks, merge rules and
the push/pull engine, framework-free with storage behind ports.

Not built yet: the sync issue builds it (see ``docs/roadmap.md``). Nothing here
pretends to work before then."""
