"""Every message of the gallery against docs/MESSAGES.md: in its reader's language,
no placeholder left, no line of bare punctuation, outcome notices that ask for
nothing, appeals and updates that lead to the public case page, and user text
isolated in right-to-left messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from campaign import i18n

TRANSLATIONS = Path(__file__).resolve().parents[2] / "campaign" / "translations"
_PLACEHOLDER = re.compile(r"%\(\w+\)s")
# Fragments shorter than this ("Fax", "Name") are words a proper name or an
# address may hold in any language; longer ones are sentences of ours.
MIN_FRAGMENT = 12

pytestmark = pytest.mark.slow  # the demo data is committed for the gallery's own transaction


# The gallery is only read by the tests: built once per database backend.
_BUILT: dict[str, tuple] = {}


@pytest.fixture
def gallery(app, db, tmp_path_factory):
    from campaign.demo import load
    from campaign.gallery import build

    backend = db.engine.dialect.name
    if backend not in _BUILT:
        load(supporters=0)
        db.session.commit()
        folder = tmp_path_factory.mktemp(f"gallery-{backend}")
        _BUILT[backend] = folder, [e for e in build(folder) if e.sent]
    return _BUILT[backend]


def _english_fragments(language: str) -> set[str]:
    """The English sentences of the catalogue that ``language`` translates differently."""
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale=language)
    fragments = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        for msgid in ids:
            if msgid in strings:
                continue  # the same word in both languages ("Fax")
            fragments |= {
                part.strip()
                for part in _PLACEHOLDER.split(msgid)
                if len(part.strip()) >= MIN_FRAGMENT
            }
    return fragments


def _our_words(page: str) -> str:
    """The message without user text: what is left must be in the reader's language.

    User text (case text, staff text, the letter, names, addresses) is marked
    ``dir="auto"`` or ``<bdi>``; that marking is itself a rule for RTL messages.
    """
    soup = BeautifulSoup(page, "html.parser")
    for tag in soup.select('[dir="auto"], bdi, a[href^="mailto:"]'):
        tag.decompose()
    return soup.get_text(" ")


def _files(folder: Path, entry) -> tuple[str, str, str]:
    base = folder / entry.kind / entry.name
    return (
        base.with_suffix(".txt").read_text(encoding="utf-8"),
        base.with_suffix(".html").read_text(encoding="utf-8"),
        base.with_suffix(".eml").read_bytes().decode("utf-8", "replace"),
    )


def test_the_gallery_holds_every_kind_language_and_supporter(gallery):
    folder, entries = gallery
    kinds = {e.kind for e in entries}
    assert kinds == {"appeal", "reminder", "update", "update-news", "stop", "outcome",
                     "confirmation"}  # fmt: skip
    assert {e.language for e in entries} == set(i18n.catalogue_languages())
    stages = {e.stage for e in entries}
    assert {"appeal", "update_action", "update_news", "stop", "outcome", "thanks"} <= stages
    # Reminders only to those who did not act; every other kind to both.
    assert all(not e.acted for e in entries if e.kind == "reminder")
    assert len(entries) == 7 * 4 * 6 + 7 * 2
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert all(f"{e.kind}/{e.name}.eml" in index for e in entries)
    assert json.loads((folder / "gallery.json").read_text(encoding="utf-8"))


def test_no_english_sentence_in_a_message_in_another_language(gallery):
    folder, entries = gallery
    flagged = set()
    for language in set(i18n.catalogue_languages()) - {"en"}:
        english = _english_fragments(language)
        for entry in (e for e in entries if e.language == language):
            _text, page, _raw = _files(folder, entry)
            ours = _our_words(page)
            found = sorted(f for f in english if f in ours)
            assert found == [], (entry.kind, entry.name, found)
            if entry.fallback:
                flagged.add((entry.kind, language))
    # The demo UA is in English only: every message that shows its text says so.
    assert flagged


def test_no_placeholder_and_no_line_of_bare_punctuation(gallery):
    folder, entries = gallery
    for entry in entries:
        text, page, raw = _files(folder, entry)
        for part in (text, page, raw):
            assert "[[ua:" not in part and "{{" not in part and "{%" not in part, entry
            assert not re.search(r"\{\w+\}", part), entry
        # "-- " is the signature delimiter (RFC 3676): mail clients fold the footer at it.
        for line in (x for x in text.splitlines() if x != "-- "):
            assert not re.fullmatch(r"\s*[,;:.·\-–—/|()\u2068\u2069]+\s*", line), (entry, line)


def test_outcome_notices_ask_for_nothing(gallery):
    folder, entries = gallery
    for entry in (e for e in entries if e.kind in ("outcome", "stop", "update-news")):
        text, page, _raw = _files(folder, entry)
        assert "/act/" not in text and "/act/" not in page, entry  # no action button
        assert "Igor Krasnov" not in text and "Dmitrovka" not in text, entry  # no official
        assert "2030" not in text, entry  # no deadline
        assert 'class="button' not in page, entry
    for entry in (e for e in entries if e.kind == "outcome"):
        text, _page, _raw = _files(folder, entry)
        assert "released without charge; travel ban imposed" in text  # the staff's note
        assert "All six men were released" in text  # the closing text
        assert "/ua/" in text  # the public case page
        assert entry.stage == ("thanks" if entry.acted else "outcome")
    thanks = [e for e in entries if e.kind == "outcome" and e.acted and e.language == "en"]
    assert all("Thank you for acting" in _files(folder, e)[0] for e in thanks)
    others = [e for e in entries if e.kind == "outcome" and not e.acted and e.language == "en"]
    assert all("Thank you for acting" not in _files(folder, e)[0] for e in others)


def test_appeals_and_updates_lead_to_the_public_case_page(gallery):
    folder, entries = gallery
    for entry in (e for e in entries if e.kind in ("appeal", "reminder", "update", "stop")):
        text, page, _raw = _files(folder, entry)
        assert re.search(r"/ua/\d+\?lang=" + entry.language, text), entry
        assert re.search(r'href="[^"]*/ua/\d+\?lang=', page), entry
    for entry in (e for e in entries if e.kind in ("appeal", "reminder", "update")):
        text, _page, _raw = _files(folder, entry)
        assert "/act/" in text and "Igor Krasnov" in text, entry  # the full appeal block


def test_right_to_left_messages_isolate_user_text(gallery):
    folder, entries = gallery
    rtl = [e for e in entries if e.direction == "rtl" and e.kind != "confirmation"]
    assert rtl
    for entry in rtl:
        text, page, _raw = _files(folder, entry)
        soup = BeautifulSoup(page, "html.parser")
        assert soup.html["dir"] == "rtl"
        title = soup.find("h1")
        assert title is not None and title.get("dir") == "auto", entry
        # The supporter's name in the greeting, and the case label, are isolated.
        assert "\u2068ليلى\u2069" in text and "<bdi>UA " in page, entry
