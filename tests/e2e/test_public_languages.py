"""Supporter pages in Russian and Arabic (right to left), in Chromium at phone
and desktop widths: no serious axe violations, and screenshots for review (--screenshots)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.e2e.conftest import submitted
from tests.letters import conftest as letter_fixtures

# A browser journey, as the other modules here.
pytestmark = pytest.mark.e2e

case = letter_fixtures.case
letters = letter_fixtures.letters
make_supporter = letter_fixtures.make_supporter


@pytest.fixture
def open_case(case, letters, db):
    case.deadline = date.today() + timedelta(days=20)
    db.session.commit()
    return case


def _check(visit, label: str, direction: str):
    assert visit.page.get_attribute("html", "dir") == direction
    visit.page.set_viewport_size({"width": 390, "height": 844})
    # Nothing sticks out sideways on a phone (an off-screen element on the wrong
    # side of a right-to-left page widens it).
    wide = visit.page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, (label, wide)
    visit.shoot(label)
    assert visit.axe() == [], label


@pytest.mark.parametrize("language", ["ru", "ar"])
def test_supporter_pages_in_russian_and_arabic(visit, open_case, make_supporter, db, language):
    from campaign.letters.services import action_token
    from campaign.supporters.tokens import preferences_token, unsubscribe_token

    direction = "rtl" if language == "ar" else "ltr"
    supporter = make_supporter(f"{language}@example.org", first_name="Борис", language=language)
    tokens = (preferences_token(supporter), unsubscribe_token(supporter))
    act, case_id = action_token(open_case, supporter), open_case.id
    db.session.commit()  # and read nothing more: SQLite would lock the server out

    visit.go(f"/join?lang={language}")
    _check(visit, "signup", direction)
    submitted(visit.page, "button[type=submit]")  # nothing filled in: the errors in the language
    _check(visit, "signup-errors", direction)
    visit.go(f"/ua/{case_id}?lang={language}")
    _check(visit, "case", direction)
    visit.go(f"/act/{act}")
    _check(visit, "act", direction)
    visit.go(f"/preferences/{tokens[0]}")
    _check(visit, "preferences", direction)
    visit.go(f"/unsubscribe/{tokens[1]}")
    _check(visit, "unsubscribe", direction)


def test_a_closed_case_in_russian(visit, case, letters, db):
    from campaign.outcomes.services import close_case

    chiygoz, umerov = sorted(case.people, key=lambda p: p.name)
    close_case(
        None,
        case,
        decision="no_further_action",
        outcomes=[
            {
                "person_id": chiygoz.id,
                "outcome": "released",
                "on": date(2017, 10, 25),
                "note": "Flown to Ankara",
            },
            {"person_id": umerov.id, "outcome": "released", "on": date(2017, 10, 25), "note": ""},
        ],
        text="Both men were released and flown to Turkey.",
        today=date(2017, 10, 27),
    )
    case_id = case.id
    db.session.commit()
    visit.go(f"/ua/{case_id}?lang=ru")
    assert "Освобождён(а)" in visit.page.content()
    _check(visit, "closed-case", "ltr")
