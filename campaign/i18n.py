"""The languages of everything supporters see (Flask-Babel).

Words live in message catalogues under ``campaign/translations/<lang>/LC_MESSAGES``
(see the README there). Public pages pick their language with
:func:`select_locale`: the explicit choice (``?lang=`` or the form's
``language`` field), else the supporter a signed link names, else the
browser's Accept-Language, else English. Staff pages are always English.
Emails are rendered in a worker inside :func:`in_language` (the supporter's
language, or English when there is no catalogue for it).

It is also the one place for language and country codes and their names (the
lookups the import checks every row with are precomputed). It sits at the
bottom of the layers (docs/ARCHITECTURE.md), beside core: it imports no domain.
"""

from __future__ import annotations

import unicodedata
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pycountry
from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import force_locale, get_locale, gettext, refresh
from werkzeug.exceptions import RequestEntityTooLarge

from campaign.extensions import babel

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT = "en"
# Languages written right to left: their pages and emails get dir="rtl".
RTL = frozenset({"ar", "fa", "he", "ur", "yi"})
# The Babel locale where the bare code is not what the office writes
# (dates the British way: 27 September 2019).
LOCALES = {"en": "en_GB"}

# Languages the public pages speak; supporters may have any ISO 639-1 language.
PUBLIC_LANGUAGES = ("en", "fr", "es", "de", "ru", "uk", "ar")
# Each public language in its own words, for the language pickers.
NATIVE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "de": "Deutsch",
    "ru": "Русский",
    "uk": "Українська",
    "ar": "العربية",
}


def N_(message: str) -> str:
    """Marks a label for the message catalogue; translated where it is shown."""
    return message


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


def _sort_key(name: str) -> str:
    """A simple collation: accents and case count only after the letters, so
    "Égypte" sorts among the E's (no ICU needed)."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))


@cache
def countries(language: str | None) -> tuple[tuple[str, str], ...]:
    """(ISO alpha-2 code, name) of every country, named and sorted in
    ``language`` (Babel's territory names; English without them)."""
    names = _territories(language)
    pairs = [
        (c.alpha_2, names.get(c.alpha_2) or getattr(c, "common_name", None) or c.name)
        for c in pycountry.countries
    ]
    return tuple(sorted(pairs, key=lambda pair: (_sort_key(pair[1]), pair[1])))


@cache
def _territories(language: str | None) -> dict[str, str]:
    try:
        return Locale.parse(babel_locale(_code(language) or DEFAULT)).territories
    except (UnknownLocaleError, ValueError):
        return Locale.parse(babel_locale(DEFAULT)).territories


def country_name(code: str | None, language: str | None = None) -> str:
    """The country's name in ``language`` (English by default); the code
    itself when nobody knows it."""
    if not code:
        return ""
    code = code.strip().upper()
    names = _territories(language)
    if code in names:
        return names[code]
    country = pycountry.countries.get(alpha_2=code)
    return (getattr(country, "common_name", None) or country.name) if country else code


def country_choices() -> list[tuple[str, str]]:
    """(code, English name) of every country, for the staff forms."""
    return list(countries(DEFAULT))


def language_name(code: str | None) -> str:
    """The language's English name (ISO 639); the code when it is unknown."""
    language = pycountry.languages.get(alpha_2=code) if code else None
    return language.name if language else code or ""


@cache
def country_codes() -> dict[str, str]:
    """Lower-cased alpha-2, alpha-3 and names → alpha-2."""
    table = {}
    for c in pycountry.countries:
        for name in (c.alpha_2, c.alpha_3, c.name, getattr(c, "common_name", None)):
            if name:
                table[name.lower()] = c.alpha_2
    return table


@cache
def language_codes() -> dict[str, str]:
    """Lower-cased ISO 639-1 and -3 codes and English names → ISO 639-1."""
    table = {}
    for lang in pycountry.languages:
        code = getattr(lang, "alpha_2", None)
        if code:
            for name in (code, lang.alpha_3, lang.name):
                table[name.lower()] = code
    return table


def is_country_code(code: str) -> bool:
    """Whether ``code`` is an ISO 3166 alpha-2 code (upper case)."""
    return pycountry.countries.get(alpha_2=code) is not None


def is_language_code(code: str) -> bool:
    """Whether ``code`` is an ISO 639-1 code (lower case)."""
    return pycountry.languages.get(alpha_2=code) is not None


def country(value: str | None) -> str | None:
    """An alpha-2 code, None for empty, KeyError for something unknown."""
    value = (value or "").strip()
    if not value:
        return None
    return country_codes()[value.lower()]


def language(value: str | None) -> str | None:
    """An ISO 639-1 code, None for empty, KeyError for something unknown."""
    value = (value or "").strip()
    if not value:
        return None
    return language_codes()[value.lower().split("-")[0].split("_")[0]]


def supporter_page(view):
    """Marks a view whose page supporters see: it speaks their language (others,
    the staff pages and the staff login among them, stay English)."""
    view.supporter_page = True
    return view


def _is_supporter_page() -> bool:
    if request.url_rule is None:  # no route matched (a 404 or 405): by its path
        return is_public_path(request.path)
    view = current_app.view_functions.get(request.endpoint or "")
    flag = getattr(view, "supporter_page", False)
    # A predicate: "/" is the public front door for a visitor, the dashboard for staff.
    return bool(flag()) if callable(flag) else flag


def _public_prefixes(app: Flask) -> frozenset[str]:
    """The first path segments of the supporter pages' routes ("/join", "/ua")
    that no staff route shares."""
    public, staff = set(), set()
    for rule in app.url_map.iter_rules():
        first = "/" + rule.rule.lstrip("/").split("/")[0]
        view = app.view_functions.get(rule.endpoint)
        (public if getattr(view, "supporter_page", False) else staff).add(first)
    return frozenset(public - staff)


def is_public_path(path: str) -> bool:
    """Whether ``path`` lies where the supporter pages are (for pages no view
    answered: an unknown address under /ua/ is a supporter's 404)."""
    prefixes = current_app.extensions.get("supporter_prefixes")
    if prefixes is None:
        prefixes = current_app.extensions["supporter_prefixes"] = _public_prefixes(current_app)
    return "/" + path.lstrip("/").split("/")[0] in prefixes


def on_supporter_page() -> bool:
    """Whether this request is for a page supporters see (so errors speak their
    language and name no staff login)."""
    return has_request_context() and _is_supporter_page()


def _browser_language() -> str:
    # By quality, each tag's primary language: "es-MX, en;q=0.5" is Spanish.
    for tag, _quality in request.accept_languages:
        code = page_language(tag)
        if code is not None:
            return code
    return DEFAULT


def _posted_language() -> str | None:
    try:
        return request.form.get("language")
    except RequestEntityTooLarge:
        return None  # the 413 page itself: the form cannot be read, by design


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module's docstring for the order)."""
    if not has_request_context() or not _is_supporter_page():
        return babel_locale(DEFAULT)
    asked = None
    if request.method == "POST":  # the language just chosen in the form
        asked = page_language(_posted_language())
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
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", babel_locale(DEFAULT))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["page_language"] = current_language
    app.jinja_env.globals["page_direction"] = lambda: direction(current_language())
    app.jinja_env.globals["native_names"] = NATIVE_NAMES
    # A message chosen at run time (not a literal, so not extracted), as plain
    # text: unlike Jinja's _(), the result is escaped like any value.
    app.jinja_env.globals["translated"] = lambda message: str(gettext(message))
