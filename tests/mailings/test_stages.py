"""What each kind of message may say (docs/MESSAGES.md), seen through the staff
preview: the bugs of issue 15 (an outcome notice asking for appeals, a
half-English email, a stray comma under the signature) and the stage rules."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from campaign.core.errors import ValidationError
from campaign.mailings import compose, services
from tests.letters import conftest as letter_fixtures

case = letter_fixtures.case
letters = letter_fixtures.letters

# The appeal block's and the frame's English words (campaign/letters/texts.py, wording.py).
ENGLISH = ("What happened", "What to ask for", "Your letter", "Write to", "I sent my appeal",
           "Print your letters", "Please send appeals before", "Salutation")  # fmt: skip


@pytest.fixture
def before_deadline():
    """A week before the case's deadline (27 September 2019)."""
    import time_machine

    with time_machine.travel(datetime(2019, 9, 20, 12, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def coordinator(make_user):
    return make_user("coordinator", "coord@example.org")


def _mailing(user, case, kind, **extra):
    return services.create_mailing(
        user, kind=kind, subject=f"{case.label}: news", case_id=case.id, everyone=True, **extra
    )


def test_the_outcome_notice_gives_each_outcome_and_asks_for_nothing(
    db, case, letters, coordinator, before_deadline
):
    from campaign.outcomes.services import close_case

    close_case(
        None,
        case,
        decision="no_further_action",
        outcomes=[
            {
                "person_id": p.id,
                "outcome": "released",
                "on": date(2019, 9, 19),
                "note": "released without charge; travel ban imposed",
            }
            for p in case.people
        ],
        text="Both men are free.",
    )
    notice = _mailing(coordinator, case, "outcome")
    for language in ("en", "ru"):
        shown = services.preview(notice, language)
        for part in (shown["text"], shown["html"]):
            assert "Yury Chaika" not in part and "prosecutor@example.ru" not in part  # officials
            assert "/act/" not in part  # no action button or link
            assert "2019" not in part.split("Both men")[0]  # no deadline
            assert "released without charge; travel ban imposed" in part
            assert "Both men are free." in part
            assert "/ua/" in part  # the public case page
        assert "What to do" not in shown["text"] and "Please write to" not in shown["text"]
        assert "<li>" not in shown["html"] or "<li><strong>" in shown["html"]


def test_the_thank_you_notice_says_so(db, case, letters, coordinator):
    from campaign.outcomes.services import close_case

    close_case(
        None, case, decision="no_further_action",
        outcomes=[{"person_id": p.id, "outcome": "released", "on": date(2019, 9, 19)}
                  for p in case.people],
    )  # fmt: skip
    thanks = _mailing(coordinator, case, "outcome")
    thanks.audience = {**thanks.audience, "acted": True}
    assert "Thank you for acting" in services.preview(thanks, "en")["text"]
    assert "Спасибо за участие" in services.preview(thanks, "ru")["text"]
    thanks.audience = {**thanks.audience, "acted": False}
    assert "Thank you for acting" not in services.preview(thanks, "en")["text"]


@pytest.mark.parametrize("language", ["de", "ar", "ru"])
def test_an_appeal_email_is_wholly_in_the_supporters_language(
    db, case, letters, coordinator, before_deadline, language
):
    shown = services.preview(_mailing(coordinator, case, "appeal"), language)
    assert "Prosecutor General" in shown["text"]  # the appeal block is there...
    for part in (shown["text"], shown["html"]):
        found = [word for word in ENGLISH if word in part]
        assert found == [], found  # ...and not one of its words is English


def test_an_arabic_email_isolates_the_english_text_it_carries(
    db, case, letters, coordinator, before_deadline
):
    from bs4 import BeautifulSoup

    page = services.preview(_mailing(coordinator, case, "appeal"), "ar")["html"]
    soup = BeautifulSoup(page, "html.parser")
    assert soup.html["lang"] == "ar" and soup.html["dir"] == "rtl"
    title = soup.find("h1")  # the case's English title
    assert title["dir"] == "auto" and title["lang"] == "en"
    letter = soup.select_one("table.appeal-letter td")  # the English letter
    assert letter["dir"] == "auto" and letter["lang"] == "en"
    assert soup.find("bdi", string="UA 205/16") is not None


def test_no_stray_comma_under_the_signature_for_a_supporter_without_a_city(
    db, case, letters, coordinator, before_deadline
):
    from campaign.letters.services import save_letter

    body = "{{ salutation }},\n\nFree them.\n\n{{ supporter_name }}\n" + (
        "{% if city %}{{ city }}, {% endif %}{{ country }}\n{{ date }}"
    )
    save_letter(None, case, None, {"language": "fr", "subject": "Libérez-les", "body": body})
    mailing = _mailing(coordinator, case, "appeal")
    shown = services.preview(mailing, "fr")  # the sample supporter gave no city
    lines = shown["text"].splitlines()
    assert "Alex Sample" in lines
    assert not [line for line in lines if re.fullmatch(r"\s*[,;:.]+\s*", line)]


def test_a_stop_notice_and_an_expired_appeal_ask_for_nothing(db, case, letters, coordinator):
    from campaign.cases import services as cases

    stop = cases.add_update(None, case, kind="no_further_action", title="Freed", body="Out.")
    for mailing in (
        _mailing(coordinator, case, "update", update_id=stop.id),
        _mailing(coordinator, case, "appeal"),  # today is past the 2019 deadline
    ):
        shown = services.preview(mailing, "en")
        assert "/act/" not in shown["text"] and "Yury Chaika" not in shown["text"]
        assert "/ua/" in shown["text"]


def test_an_update_asking_for_action_puts_the_news_first_then_the_appeal(
    db, case, letters, coordinator, before_deadline
):
    from campaign.cases import services as cases

    update = cases.add_update(
        None, case, kind="further_action", title="Sentenced", body="Eight years.",
        new_deadline=date(2030, 10, 30),
    )  # fmt: skip
    text = services.preview(_mailing(coordinator, case, "update", update_id=update.id), "en")[
        "text"
    ]
    assert text.index("Eight years.") < text.index("WHAT HAPPENED") < text.index("/act/")
    assert "30 October 2030" in text and "27 September 2019" not in text


@pytest.mark.parametrize(
    "body",
    [
        "Hello {{ first_nam }}",
        "Hello {first_name}",
        "{{ case.title }}",
        "{% for x in y %}{% endfor %}",
    ],
)
def test_a_mailing_text_with_an_unknown_placeholder_is_refused(db, case, coordinator, body):
    with pytest.raises(ValidationError) as refused:
        services.create_mailing(coordinator, kind="free", subject="News", body=body, everyone=True)
    assert refused.value.field == "body"


def test_the_refusal_lists_the_allowed_placeholders(db, coordinator):
    with pytest.raises(ValidationError) as refused:
        services.create_mailing(
            coordinator, kind="free", subject="News", body="Hi {{ frist_name }}", everyone=True
        )
    assert "{{ first_name }}" in refused.value.message and "frist_name" in refused.value.message
    with pytest.raises(ValidationError):
        services.create_mailing(
            coordinator, kind="free", subject="Hi {{ first_name }}", body="x", everyone=True
        )


def test_a_mailing_text_fills_its_placeholders_per_supporter(db, coordinator):
    mailing = services.create_mailing(
        coordinator, kind="free", subject="News", everyone=True,
        body="Hello {{ first_name }}{% if city %} in {{ city }}{% endif %}!",
    )  # fmt: skip
    links = lambda r: {"unsubscribe_url": "https://x/u", "action_url": ""}  # noqa: E731
    composers = compose.ComposerSet(mailing.id, services.content(mailing), links)
    for city, expected in (("Leeds", "Hello Ann in Leeds!"), ("", "Hello Ann!")):
        recipient = compose.Recipient(1, 1, "ann@example.org", "Ann", "Lee", "en", city)
        raw = composers.build(recipient)[2].decode()
        assert expected in raw and "{{" not in raw
