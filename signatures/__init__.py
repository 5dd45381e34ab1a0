"""Sign-off: stroke signatures, canonical completion reports, Ed25519 seals, PDF reports.

Framework-free (no Flask, no database): :mod:`signatures.strokes` validates what a
device drew and :mod:`signatures.render` draws it again (SVG, PNG);
:mod:`signatures.canonical` is RFC 8785 JSON; :mod:`signatures.seal` seals and
verifies reports with Ed25519; :mod:`signatures.keyring` wraps private keys under
the app secret; :mod:`signatures.chain` links records into hash chains (the audit
log); :mod:`signatures.pdf` draws the PDF service report. ``api/signoff`` calls
these with plain data.
"""
