"""The pages' static files: the project's own and the npm packages', at hashed URLs.

Every file is read once when the app starts and answered from memory at
``/assets/<hash>/<name>``, where ``<hash>`` is the first 12 hex digits of its
SHA-256: the URL changes whenever the bytes do, so browsers may keep a file for
a year without asking again (``Cache-Control: immutable``), and a release never
serves a stale script. Text files are also kept gzipped (level 9, once), and
answered so to browsers that accept it. A URL with an old hash is a 404, never
today's bytes under yesterday's name.

The npm packages come from ``package.json`` at the repository's root (installed
by ``./dev serve`` and ``./dev test``, never committed, never a CDN). When they
are missing the pages still render: their basic flow needs no script, and the
template leaves out what is not there.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Logical name -> path inside node_modules. Only what a page really loads.
VENDOR_FILES = {
    "vendor/leaflet.js": "leaflet/dist/leaflet.js",
    "vendor/leaflet.css": "leaflet/dist/leaflet.css",
}
_TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
_HASH_LENGTH = 12


@dataclass(frozen=True)
class StaticFile:
    name: str
    digest: str  # the URL's hash: the first 12 hex digits of the SHA-256
    mimetype: str
    body: bytes
    gzipped: bytes | None  # None: not worth compressing (images, tiny files)

    @property
    def url(self) -> str:
        return f"/assets/{self.digest}/{self.name}"


class AssetCatalogue:
    """The files a page may link to, by logical name (``layout/site.css``)."""

    def __init__(self, files: Mapping[str, StaticFile]) -> None:
        self._files = dict(files)

    @classmethod
    def build(cls, *sources: Mapping[str, Path]) -> AssetCatalogue:
        files: dict[str, StaticFile] = {}
        for source in sources:
            for name, path in source.items():
                files[name] = _load(name, path)
        return cls(files)

    def url(self, name: str) -> str | None:
        """The hashed URL of ``name``; None when it is not installed (a missing npm
        package), so a template can leave its tag out."""
        found = self._files.get(name)
        return found.url if found is not None else None

    def find(self, digest: str, name: str) -> StaticFile | None:
        found = self._files.get(name)
        return found if found is not None and found.digest == digest else None

    def names(self) -> list[str]:
        return sorted(self._files)


def vendor_sources(modules_dir: Path) -> dict[str, Path]:
    """The npm files that are installed; each missing one is logged once, at start."""
    found = {}
    for name, relative in VENDOR_FILES.items():
        path = modules_dir / relative
        if path.is_file():
            found[name] = path
        else:
            log.warning(
                "npm file missing: pages will go without it (run ./dev serve or npm ci)",
                extra={"asset": name, "path": str(path)},
            )
    return found


def _load(name: str, path: Path) -> StaticFile:
    body = path.read_bytes()
    if name.endswith(".js"):
        body = _without_source_map(body)
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if mimetype == "application/javascript":
        mimetype = "text/javascript"  # RFC 9239
    compressible = mimetype.startswith(_TEXT_TYPES) or mimetype == "text/javascript"
    gzipped = gzip.compress(body, 9, mtime=0) if compressible and len(body) > 512 else None
    digest = hashlib.sha256(body).hexdigest()[:_HASH_LENGTH]
    return StaticFile(name, digest, mimetype, body, gzipped)


def _without_source_map(body: bytes) -> bytes:
    """Drop the trailing ``//# sourceMappingURL=`` line: the map is not served, and a
    browser's developer tools would otherwise ask for it."""
    head, marker, _ = body.rpartition(b"\n//# sourceMappingURL=")
    return head + b"\n" if marker else body
