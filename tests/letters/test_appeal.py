"""Letters per language, the appeal block, snapshots of rendered letters, mailto links."""

import os
import re
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask import current_app, render_template

from campaign.core.errors import Conflict, ValidationError
from campaign.letters import services
from campaign.letters.appeal import MAILTO_MAX, appeal_block, mailto
from campaign.letters.models import LetterTemplate

SNAPSHOTS = Path(__file__).parent / "snapshots"
BEFORE, AFTER = date(2019, 9, 20), date(2019, 9, 28)


def assert_snapshot(name: str, text: str) -> None:
    """Compare with the committed snapshot; UPDATE_SNAPSHOTS=1 rewrites it."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing snapshot {name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed"


@pytest.mark.parametrize("language", ["en", "ru"])
def test_rendered_letters_match_their_snapshots(case, letters, make_supporter, language):
    names = {"en": ("Jane", "Smith", "Manchester"), "ru": ("Анна", "Иванова", "Казань")}
    first, last, city = names[language]
    supporter = make_supporter(
        first_name=first, last_name=last, city=city, country="GB", language=language
    )
    block = appeal_block(case, supporter, today=BEFORE)
    assert block.reader == language and block.letter.language == language
    letter = block.letter
    assert_snapshot(f"letter_{language}.txt", f"{letter.subject}\n\n{letter.body}\n")
    assert_snapshot(f"letter_{language}.html", str(letter.html))
    text = render_template("letters/_appeal_block.txt", block=block)
    # Tokens carry a timestamp: the snapshot holds their place, not their value.
    text = re.sub(r"/act/[\w.-]+", "/act/<TOKEN>", text)
    text = text.replace(current_app.config["BASE_URL"], "<BASE_URL>")
    assert_snapshot(f"appeal_block_{language}.txt", text)


def test_supporters_get_their_language_else_the_default(case, letters, make_supporter):
    ru = make_supporter("ru@example.org", language="ru")
    de = make_supporter("de@example.org", language="de")
    assert appeal_block(case, ru, today=BEFORE).letter.language == "ru"
    assert appeal_block(case, de, today=BEFORE).letter.language == "en"  # the default
    letters["ru"].is_default = True
    services.save_letter(None, case, letters["ru"], {"is_default": True})
    assert not letters["en"].is_default
    assert appeal_block(case, de, today=BEFORE).letter.language == "ru"


def test_letters_of_an_update_replace_the_cases_own(case, letters, make_supporter, db):
    from campaign.cases import services as cases

    update = cases.add_update(None, case, kind="further_action", body="Sentenced.")
    services.save_letter(
        None,
        case,
        None,
        {"language": "en", "update_id": update.id, "subject": "After the sentence", "body": "x"},
    )
    supporter = make_supporter(language="ru")
    assert appeal_block(case, supporter, today=BEFORE).letter.subject == "After the sentence"
    assert appeal_block(case, supporter, today=BEFORE, update=None).letter.language == "en"


def test_embassy_copies_only_for_supporters_of_that_country(case, letters, make_supporter):
    gb = appeal_block(case, make_supporter("gb@example.org", country="GB"), today=BEFORE)
    fr = appeal_block(case, make_supporter("fr@example.org", country="FR"), today=BEFORE)
    visitor = appeal_block(case, today=BEFORE)
    assert [(t.is_copy, t.copy_country) for t in gb.targets] == [(False, None), (True, "GB")]
    assert [t.is_copy for t in fr.targets] == [False]
    assert [t.is_copy for t in visitor.targets] == [False]
    assert "London" in gb.entries[1].target.address
    assert gb.entries[1].letter.body.startswith("Your Excellency,")


def test_the_deadline_sentence_before_and_after(case, letters, make_supporter):
    supporter = make_supporter(language="en")
    before = appeal_block(case, supporter, today=BEFORE)
    assert before.deadline_text == "Please send appeals before 27 September 2019."
    assert not before.deadline_passed
    after = appeal_block(case, supporter, today=AFTER)
    assert after.deadline_passed
    assert "check with the office before sending" in after.deadline_text
    russian = appeal_block(case, make_supporter("r@example.org", language="ru"), today=BEFORE)
    assert russian.deadline_text.replace("\u202f", " ") == (
        "Пожалуйста, отправьте обращения до 27 сентября 2019 г."
    )


def test_the_html_block_is_email_safe_and_escapes_supporter_text(case, letters, make_supporter):
    supporter = make_supporter(first_name="<script>x</script>", language="en")
    block = appeal_block(case, supporter)
    html = render_template("letters/_appeal_block.html", block=block)
    assert "<script>" not in html and "&lt;script&gt;" in html
    for external in ("<link", "<img", "<script", "style=", "src="):
        assert external not in html
    assert f'href="{block.action_url}"' in html and block.action_url.startswith("http://")


def test_bad_letters_are_refused_at_save_and_nothing_is_written(case, letters, db):
    before = db.session.query(LetterTemplate).count()
    with pytest.raises(ValidationError) as refused:
        services.save_letter(
            None, case, None, {"language": "fr", "subject": "S", "body": "ok\n{{ nom }}"}
        )
    assert refused.value.field == "body" and refused.value.message.startswith("Line 2:")
    with pytest.raises(Conflict):
        services.save_letter(None, case, None, {"language": "ru", "subject": "S", "body": "B"})
    with pytest.raises(ValidationError):
        services.save_letter(None, case, None, {"language": "zz", "subject": "S", "body": "B"})
    db.session.rollback()
    assert db.session.query(LetterTemplate).count() == before
    assert letters["ru"].body.startswith("{{ salutation }}")


def decode(link: str) -> tuple[str, dict]:
    parts = urlsplit(link)
    assert parts.scheme == "mailto"
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    return unquote(parts.path), query


def test_mailto_links_are_encoded_and_open_the_right_draft(case, letters, make_supporter):
    block = appeal_block(case, make_supporter(language="ru"), today=BEFORE)
    entry = block.entries[0]
    address, query = decode(entry.mailto)
    assert address == "prosecutor@example.ru"
    assert query["subject"] == entry.letter.subject
    assert query["body"] == entry.letter.body.replace("\n", "\r\n")
    assert "\n" not in entry.mailto and " " not in entry.mailto
    assert not entry.mailto_shortened


def test_long_letters_are_shortened_to_fit_a_mailto_link():
    body = "Уважаемый прокурор,\n\n" + "Прошу освободить их немедленно. " * 200
    link, shortened = mailto("a+b@example.org", "Тема & ? =", body)
    assert shortened and len(link) <= MAILTO_MAX
    address, query = decode(link)
    assert address == "a+b@example.org" and query["subject"] == "Тема & ? ="
    assert query["body"].endswith(" …")
    assert body.replace("\n", "\r\n").startswith(query["body"][:-2])
    short, was_cut = mailto("x@example.org", "S", "Short.")
    assert not was_cut and decode(short)[1]["body"] == "Short."
