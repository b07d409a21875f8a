"""A sent appeal greets and signs off in each supporter's language (the words
come from the message catalogues; "Dear Борис" was a bug)."""

from __future__ import annotations

import pytest

from campaign.mailings import services
from tests.letters import conftest as letter_fixtures
from tests.mailings.test_appeal_email import received
from tests.mailings.test_pipeline import drain

# Each test sends on worker threads, each on a connection of its own.
pytestmark = pytest.mark.commits

case = letter_fixtures.case
letters = letter_fixtures.letters
make_supporter = letter_fixtures.make_supporter


@pytest.fixture
def app_config(mail_config):
    return mail_config


def test_each_supporter_is_greeted_in_their_language(
    db, sink, case, letters, make_supporter, make_user
):
    make_supporter()  # Jane, English
    make_supporter("boris@example.org", first_name="Борис", language="ru", country="DE")
    make_supporter("ana@example.org", first_name="Ana", language="es", country="ES")
    make_supporter("noname@example.org", first_name="", language="fr", country="FR")
    make_supporter("piet@example.org", first_name="Piet", language="nl", country="NL")
    user = make_user("coordinator", "coord@example.org")
    mailing = services.create_mailing(user, kind="appeal", subject="Act now", case_id=case.id,
                                      everyone=True)  # fmt: skip
    services.approve(user, mailing)
    services.send(user, mailing, expected=5)
    db.session.commit()
    drain(mailing.id)
    got = received(sink)

    boris_text, boris_html = got["boris@example.org"]
    assert boris_text.startswith("Здравствуйте, Борис!")
    assert "Здравствуйте, Борис!</p>" in boris_html
    assert "Dear" not in boris_text.split("\n")[0]
    assert "потому что присоединились к сети срочных акций" in boris_text
    assert "Отписаться или изменить настройки" in boris_html
    assert got["ana@example.org"][0].startswith("Hola, Ana:")
    assert got["noname@example.org"][0].startswith("Bonjour,")
    jane_text, _ = got["jane@example.org"]
    assert (
        jane_text.startswith("Dear Jane,") and "Unsubscribe or change your preferences" in jane_text
    )
    # No catalogue for Dutch: English words, never a half-translated mix.
    assert got["piet@example.org"][0].startswith("Dear Piet,")
