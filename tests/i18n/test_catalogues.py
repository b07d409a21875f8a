"""The message catalogues: complete in every public language, placeholders intact,
compiled .mo files in step with the .po files, and the template up to date."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from campaign import i18n

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "campaign" / "translations"
COMPLETE = ("fr", "es", "de", "ru", "uk", "ar")  # every language the public pages speak
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _po(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=language)


def _pot():
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        return read_po(f)


def _ids(catalog) -> set[str]:
    # A message with plural forms is named by its singular (as extraction names it).
    return {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog if m.id}


def _pairs(message) -> list[tuple[str, str]]:
    """(msgid, msgstr) of each form: every plural form holds the plural's placeholders."""
    if not isinstance(message.id, tuple):
        return [(message.id, message.string)]
    return [(message.id[-1], form) for form in message.string]


def test_every_language_keeps_its_catalogue():
    assert set(i18n.catalogue_languages()) >= {"en", "fr", "es", "ru", "uk", "ar", "de"}
    assert i18n.catalogue_languages()[0] == "en"


def test_the_template_holds_every_message_of_the_code_and_templates():
    """A new _() that nobody extracted would stay English: extraction must find
    exactly what messages.pot holds (run `pybabel extract`, see the README)."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
    keywords |= {"_l": None, "N_": None}
    found = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
    }
    pot = _ids(_pot())
    assert found - pot == set(), "extracted but not in messages.pot: run pybabel extract"
    assert pot - found == set(), "in messages.pot but no longer in the code"


@pytest.mark.parametrize("language", i18n.catalogue_languages()[1:])
def test_each_catalogue_has_every_message_of_the_template(language):
    assert _ids(_po(language)) == _ids(_pot())


@pytest.mark.parametrize("language", COMPLETE)
def test_the_public_languages_translate_every_message(language):
    assert language in i18n.PUBLIC_LANGUAGES
    untranslated = [
        m.id
        for m in _po(language)
        if m.id and (not all(_pairs(m)[0]) or not all(m.string) or m.fuzzy)
    ]
    assert untranslated == []


def test_every_catalogue_is_complete():
    """An email to a supporter is written from their language's catalogue and
    marked lang=<that language>: a half-empty catalogue would send English text
    marked, say, German. So every catalogue is complete (and every public
    language has one)."""
    assert set(i18n.catalogue_languages()[1:]) == set(COMPLETE)
    assert set(i18n.PUBLIC_LANGUAGES) - {"en"} == set(COMPLETE)


@pytest.mark.parametrize("language", i18n.catalogue_languages()[1:])
def test_placeholders_match_between_msgid_and_msgstr(language):
    pairs = [pair for m in _po(language) if m.id and m.string for pair in _pairs(m)]
    wrong = [
        (msgid, msgstr)
        for msgid, msgstr in pairs
        if msgstr and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))
    ]
    assert wrong == []
    # No stray % either: a translation must survive "msgstr % values".
    for msgid, msgstr in pairs:
        if msgstr and PLACEHOLDER.search(msgid):
            msgstr % dict.fromkeys(PLACEHOLDER.findall(msgid), "x")


@pytest.mark.parametrize("language", i18n.catalogue_languages()[1:])
def test_the_compiled_mo_matches_the_po(language):
    """The .mo files are committed (workers need no build step): `pybabel
    compile -d campaign/translations` after every change of a .po file."""

    def frozen(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    po = {
        frozen(m.id): frozen(m.string) for m in _po(language) if m.id and m.string and not m.fuzzy
    }
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as f:
        mo = {frozen(m.id): frozen(m.string) for m in read_mo(f) if m.id}
    assert mo == po


def test_every_refused_link_message_is_in_the_catalogue():
    from campaign.supporters.views import LINK_ERRORS

    raised = set()
    for path in (ROOT / "campaign").rglob("*.py"):
        raised |= set(re.findall(r'TokenRefused\(\s*"([^"]+)"', path.read_text()))
    assert raised and raised <= set(LINK_ERRORS)


def test_public_labels_cover_every_outcome_and_channel():
    from campaign.letters.views import CHANNEL_LABELS, OUTCOME_LABELS
    from campaign.outcomes.models import OUTCOMES
    from campaign.supporters.models import CHANNELS

    assert OUTCOME_LABELS.keys() == OUTCOMES.keys()
    assert CHANNEL_LABELS.keys() == CHANNELS.keys()
