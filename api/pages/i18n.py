"""The pages' languages: zh-CN and en, from Babel message catalogues.

English is the source language (the text in the templates); Chinese comes from
``translations/zh_CN/LC_MESSAGES/messages.po``. The catalogue is compiled in
memory the first time a Chinese page is rendered, so no ``.mo`` file is ever
built, committed or shipped stale: edit the ``.po`` and restart. A test checks
that every message in the templates and page code has a Chinese translation.

A page's language is, in order: the switch (``?lang=`` on any page, remembered
in a cookie for a year), the signed-in person's own language, the browser's
``Accept-Language``, then what the page proposes (e.g. the tenant's language for
a customer's tracking page), else English.
"""

from __future__ import annotations

import functools
import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import g, request
from jinja2 import Environment

LANGUAGES = ("zh-CN", "en")
COOKIE = "fieldline_lang"
_BABEL_LOCALES = {"zh-CN": "zh_Hans_CN", "en": "en"}
_CATALOGUES = Path(__file__).parent / "translations"


def choose(proposed: str | None = None) -> str:
    """The request's language (see the module's docstring), kept on ``g``."""
    expressed = preference()
    return _keep(expressed or (proposed if proposed in LANGUAGES else "en"))


def preference() -> str | None:
    """The language the person expressed (switch, cookie, account, browser), or None."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.page_language_switched = asked
        return asked
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered
    signed_in = g.get("page_user_language")  # set by a page that signed its user in
    if signed_in in LANGUAGES:
        return str(signed_in)
    if request.headers.get("Accept-Language"):
        best = request.accept_languages.best_match(["en", "zh-CN", "zh"])
        if best is not None:
            return "zh-CN" if best.startswith("zh") else "en"
    return None


def current() -> str:
    language = g.get("page_language")
    return language if isinstance(language, str) else choose()


def gettext(message: str, **variables: Any) -> str:
    text = translations(current()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(current()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English needs none: it is the source)."""
    if language == "en":
        return NullTranslations()
    folder = _CATALOGUES / _BABEL_LOCALES[language].replace("_Hans", "") / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale=_BABEL_LOCALES[language])
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)  # fuzzy entries stay out, as msgfmt would leave them
    compiled.seek(0)
    return Translations(compiled)


def when(moment: datetime | None, timezone: str, form: str = "datetime") -> str:
    """A time as people of the page's language write it, in the tenant's time zone."""
    if moment is None:
        return ""
    zone = ZoneInfo(timezone)
    locale = _BABEL_LOCALES[current()]
    local = moment.astimezone(zone)
    time = format_time(local, "short", locale=locale)
    if form == "time":
        return time
    # The date at medium length and the time without seconds: "Dec 4, 2026, 4:13 PM",
    # "2026年12月4日 16:13", joined the way the language joins them.
    date = format_date(local, "medium", locale=locale)
    return str(get_datetime_format("medium", locale=locale)).format(time, date)


def install(env: Environment) -> None:
    """``{{ _("...") }}``, ``{% trans %}`` and ``|when`` in every page template. Jinja's
    new-style gettext fills the ``%(name)s`` placeholders itself, escaping them."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: translations(current()).ugettext(message),
        lambda singular, plural, n: translations(current()).ungettext(singular, plural, n),
        newstyle=True,
    )
    env.filters["when"] = when
    env.globals["current_language"] = current


def _keep(language: str) -> str:
    g.page_language = language
    return language
