"""Every message of the pages has its Chinese translation, and none is stale."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

PAGES = Path(__file__).resolve().parents[3] / "api" / "pages"
CATALOGUE = PAGES / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def _used() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PAGES), METHODS, options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_page_message_is_translated_into_chinese() -> None:
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and m.string and not m.fuzzy
    }
    missing = sorted(_used() - translated)
    assert not missing, f"add to {CATALOGUE.relative_to(PAGES.parents[1])}: {missing}"
    stale = sorted(translated - _used())
    assert not stale, f"no longer used, remove from the catalogue: {stale}"
