"""The web pages people open: server-rendered Jinja, in zh-CN and en.

One folder per surface (``landing/``, ``tracking/``, ``repair/``, ``verify/``,
and ``layout/`` for what they share), each with its ``routes.py`` (a plain Flask
blueprint named ``web``, registered like the health probes), its ``templates/``
and its ``static/`` files. Pages call the same services as the REST API and
never their own SQL; they work before their JavaScript loads, and JavaScript
adds the map and live updates.

:func:`install` wires what every page shares: the template loader (a template is
named by its surface, ``tracking/page.html``), the message catalogues
(:mod:`api.pages.i18n`), the hashed static files (:mod:`api.pages.assets`).
The headers every page answers with (a strict Content-Security-Policy among them)
come with the blueprint (:mod:`api.pages.blueprint`).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import FileSystemLoader, PrefixLoader

from api.config import Config
from api.pages import i18n
from api.pages.assets import AssetCatalogue, vendor_sources

PAGES_DIR = Path(__file__).parent


def install(app: Flask, config: Config) -> None:
    """Templates, translations and static files for every page of ``app``."""
    surfaces = {
        name: FileSystemLoader(PAGES_DIR / name / "templates")
        for name in _surfaces()
        if (PAGES_DIR / name / "templates").is_dir()
    }
    # The surfaces' templates first, then Flask's own (flask-smorest's Swagger page).
    app.jinja_loader = PrefixLoader(surfaces)
    i18n.install(app.jinja_env)
    modules = config.web_modules_dir or PAGES_DIR.parents[1] / "node_modules"
    catalogue = AssetCatalogue.build(own_sources(), vendor_sources(modules))
    app.extensions["fieldline_assets"] = catalogue
    app.jinja_env.globals["asset_url"] = catalogue.url


def own_sources() -> dict[str, Path]:
    """Every surface's static file, named ``<surface>/<path inside static/>``."""
    found: dict[str, Path] = {}
    for surface in _surfaces():
        root = PAGES_DIR / surface / "static"
        for path in sorted(root.rglob("*")) if root.is_dir() else ():
            if path.is_file():
                found[f"{surface}/{path.relative_to(root).as_posix()}"] = path
    return found


def _surfaces() -> list[str]:
    """Surfaces are the folders here with templates or static files; a new one needs no
    registration beyond its routes module in ``api.app.BLUEPRINT_MODULES``."""
    return sorted(
        p.name for p in PAGES_DIR.iterdir() if (p / "templates").is_dir() or (p / "static").is_dir()
    )
