"""The languages of everything supporters see (Flask-Babel).

Words live in message catalogues under ``campaign/translations/<lang>/LC_MESSAGES``
(see the README there). Public pages pick their language with
:func:`select_locale`: the explicit choice (``?lang=`` or the form's
``language`` field), else the supporter a signed link names, else the
browser's Accept-Language, else English. Staff pages are always English.
Emails are rendered in a worker inside :func:`in_language` (the supporter's
language, or English when there is no catalogue for it).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import force_locale, get_locale, gettext, refresh

from campaign.supporters.vocabulary import NATIVE_NAMES, PUBLIC_LANGUAGES

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT = "en"
# Languages written right to left: their pages and emails get dir="rtl".
RTL = frozenset({"ar", "fa", "he", "ur", "yi"})
# The Babel locale where the bare code is not what the office writes
# (dates the British way: 27 September 2019).
LOCALES = {"en": "en_GB"}


@cache
def catalogue_languages() -> tuple[str, ...]:
    """English (the msgids) and every language with a catalogue, sorted."""
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    return (DEFAULT, *(code for code in found if code != DEFAULT))


def _code(language: str | None) -> str:
    return (language or "").strip().lower().replace("_", "-").split("-")[0]


def email_language(language: str | None) -> str:
    """The catalogue an email to a supporter of ``language`` is written from."""
    code = _code(language)
    return code if code in catalogue_languages() else DEFAULT


def page_language(language: str | None) -> str | None:
    """``language`` when the public pages speak it, else None."""
    code = _code(language)
    return code if code in PUBLIC_LANGUAGES else None


def babel_locale(language: str) -> str:
    return LOCALES.get(language, language)


def direction(language: str | None) -> str:
    return "rtl" if _code(language) in RTL else "ltr"


@contextmanager
def in_language(language: str | None):
    """Gettext, format_date and templates in ``language`` (or English) inside."""
    with force_locale(babel_locale(email_language(language))):
        yield


def supporter_page(view):
    """Marks a view whose page supporters see: it speaks their language (others,
    the staff pages and the staff login among them, stay English)."""
    view.supporter_page = True
    return view


def _is_supporter_page() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "supporter_page", False)


def _browser_language() -> str:
    # By quality, each tag's primary language: "es-MX, en;q=0.5" is Spanish.
    for tag, _quality in request.accept_languages:
        code = page_language(tag)
        if code is not None:
            return code
    return DEFAULT


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module's docstring for the order)."""
    if not has_request_context() or not _is_supporter_page():
        return babel_locale(DEFAULT)
    asked = None
    if request.method == "POST":  # the language just chosen in the form
        asked = page_language(request.form.get("language"))
    if asked is None:
        asked = page_language(request.args.get("lang"))
    if asked is None:
        asked = page_language(g.get("supporter_language"))
    if asked is None:
        asked = _browser_language()
    return babel_locale(asked)


def use_supporter_language(language: str | None) -> None:
    """A view that found the supporter a signed link names: their language
    comes next after an explicit choice."""
    g.supporter_language = language
    refresh()  # Flask-Babel caches the locale per request


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def init_app(app: Flask) -> None:
    from campaign.extensions import babel

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", babel_locale(DEFAULT))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["page_language"] = current_language
    app.jinja_env.globals["page_direction"] = lambda: direction(current_language())
    app.jinja_env.globals["native_names"] = NATIVE_NAMES
    # A message chosen at run time (not a literal, so not extracted), as plain
    # text: unlike Jinja's _(), the result is escaped like any value.
    app.jinja_env.globals["translated"] = lambda message: str(gettext(message))
