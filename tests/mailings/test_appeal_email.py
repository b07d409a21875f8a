"""Appeal emails carry the letters domain's one appeal block, per supporter."""

from __future__ import annotations

import email
import re
from datetime import UTC, date, datetime
from email import policy

import pytest

from campaign.letters.services import read_action_token
from campaign.mailings import services
from tests.letters import conftest as letter_fixtures
from tests.mailings.test_pipeline import drain

# Each test sends on worker threads, each on a connection of its own.
pytestmark = pytest.mark.commits

# The letters domain's UA (targets, embassies per country, letters in en and ru).
case = letter_fixtures.case
letters = letter_fixtures.letters
make_supporter = letter_fixtures.make_supporter


@pytest.fixture
def app_config(mail_config):
    return mail_config


@pytest.fixture(autouse=True)
def before_deadline():
    """A week before the case's deadline (27 September 2019): the appeal block
    is in appeal emails only while the case asks for action (docs/MESSAGES.md)."""
    import time_machine

    with time_machine.travel(datetime(2019, 9, 20, 12, tzinfo=UTC), tick=True):
        yield


def received(sink) -> dict:
    """address → (text part, html part) of each message the sink got."""
    result = {}
    for got in sink.messages:
        message = email.message_from_bytes(got.data, policy=policy.default)
        text = message.get_body(("plain",)).get_content()
        page = message.get_body(("html",)).get_content()
        result[got.recipient] = (text, page)
    return result


def action_supporter(text: str) -> int:
    token = re.search(r"/act/([A-Za-z0-9_.-]+)", text).group(1)
    _case, supporter, _channel = read_action_token(token, today=date(2016, 9, 10))
    return supporter.id


def test_appeal_email_has_the_letter_in_the_supporters_language(
    db, sink, case, letters, make_supporter, make_user
):
    jane = make_supporter()
    ivan = make_supporter("ivan@example.org", first_name="Иван", last_name="Петров",
                          language="ru", country="DE", city="Berlin")  # fmt: skip
    user = make_user("coordinator", "coord@example.org")
    mailing = services.create_mailing(user, kind="appeal", subject="Act for the Crimean Tatars",
                                      case_id=case.id, everyone=True)  # fmt: skip
    services.approve(user, mailing)
    services.send(user, mailing, expected=2)
    db.session.commit()
    drain(mailing.id)
    got = received(sink)
    jane_text, jane_html = got["jane@example.org"]
    ivan_text, ivan_html = got["ivan@example.org"]

    # The letter in each supporter's language, signed with their name.
    assert "I urge you to release them immediately" in jane_text
    assert "Jane Smith" in jane_text and "Manchester" in jane_text
    assert "Призываю Вас немедленно" in ivan_text
    assert "Иван Петров" in ivan_text and "Призываю Вас немедленно" in ivan_html
    assert "I urge you" not in ivan_text
    # The target's salutation, and the embassy in the supporter's own country only.
    assert "Dear Prosecutor General" in jane_text and "Your Excellency" in jane_text
    assert "embassy-gb@example.org" in jane_text and "embassy-de@example.org" not in jane_text
    assert "embassy-de@example.org" in ivan_text and "embassy-gb@example.org" not in ivan_text
    # The signed "I sent my appeal" link names its own supporter, in both parts.
    assert action_supporter(jane_text) == jane.id
    assert action_supporter(jane_html) == jane.id
    assert action_supporter(ivan_text) == ivan.id
    token = re.search(r"/act/([A-Za-z0-9_.-]+)", jane_text).group(1)
    assert f"/act/{token}/letters.pdf" in jane_html
    # The write-an-email link carries the personal letter, percent-encoded.
    mailto = re.search(r'href="(mailto:prosecutor@example.ru\?[^"]+)"', jane_html).group(1)
    assert "Jane%20Smith" in mailto
    for part in (jane_text, jane_html, ivan_text, ivan_html):
        assert "[[ua:" not in part and "%5B%5Bua" not in part


def test_update_without_new_ask_names_the_case_only(db, case, letters, make_user):
    from campaign.cases import services as cases

    update = cases.add_update(None, case, kind="no_further_action", title="Released",
                              body="He was freed.")  # fmt: skip
    db.session.commit()
    user = make_user("coordinator", "coord@example.org")
    mailing = services.create_mailing(user, kind="update", subject="Good news", case_id=case.id,
                                      update_id=update.id, everyone=True)  # fmt: skip
    shown = services.preview(mailing, "en")
    assert "He was freed." in shown["text"]
    assert "I urge you" not in shown["text"]
    assert case.label in shown["text"]


def test_a_letter_that_tests_a_field_is_right_for_each_supporter(
    db, sink, case, letters, make_supporter, make_user
):
    """A marker always passes ``{% if city %}``: a supporter without a city once got a
    stray comma. Messages are composed per combination of empty personal fields."""
    letters["en"].body = letters["en"].body.replace(
        "{{ city }}{% if country %}, {{ country }}{% endif %}",
        "{% if city %}{{ city }}, {% endif %}{{ country }}|"
        "{% if first_name %}First {{ first_name }}{% else %}No first name{% endif %}",
    )
    make_supporter()  # Jane Smith, Manchester, GB
    make_supporter("nocity@example.org", first_name="Olu", city="")
    make_supporter("bare@example.org", first_name="", last_name="", city="", country=None)
    user = make_user("coordinator", "coord@example.org")
    mailing = services.create_mailing(user, kind="appeal", subject="Act now",
                                      case_id=case.id, everyone=True)  # fmt: skip
    services.approve(user, mailing)
    services.send(user, mailing, expected=3)
    db.session.commit()
    drain(mailing.id)
    got = received(sink)
    texts = {address: text for address, (text, _html) in got.items()}
    assert "Manchester, United Kingdom|First Jane" in texts["jane@example.org"]
    nocity = texts["nocity@example.org"]
    assert "\nUnited Kingdom|First Olu" in nocity and ", United Kingdom" not in nocity
    bare = texts["bare@example.org"]
    assert "\n|No first name" in bare and "\n,\n" not in bare and "[[ua:" not in bare
