"""Sign-off: stroke signatures, canonical completion reports, Ed25519 seals, PDF reports.

Framework-free (no Flask, no database): :mod:`signatures.strokes` validates what a
device drew, :mod:`signatures.render` draws it again as SVG or PNG. The API
(``api/signoff``) and the sync push call these with plain data.
"""
