"""The fast link builders of the outbox make the very links the one-by-one builders make."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import time_machine

from campaign.core.tokens import TokenRefused, make_token, read_token
from campaign.mailings.links import Signer, action_links

AT = "2026-03-01 12:00:00"


@pytest.mark.parametrize(
    "payload",
    [[7, "0123456789ab"], {"c": 3, "s": 12345}, [1], {"c": 2, "s": 9, "ch": "email"}],
)
def test_signer_makes_the_tokens_itsdangerous_makes(app, payload):
    with app.app_context(), time_machine.travel(AT, tick=False):
        fast = Signer("supporter-unsubscribe").dumps(payload)
        assert fast == make_token("supporter-unsubscribe", payload)
    with app.app_context():
        assert read_token("supporter-unsubscribe", fast) == payload
        with pytest.raises(TokenRefused):  # bound to its purpose
            read_token("supporter-preferences", fast)
        with pytest.raises(TokenRefused):  # and to the secret key
            app.config["SECRET_KEY"] = "another-secret"
            read_token("supporter-unsubscribe", fast)


def test_a_long_payload_is_left_to_itsdangerous(app):
    payload = {"c": 1, "s": 2, "x": "a" * 200}  # long enough for zlib to pay
    with app.app_context(), time_machine.travel(AT, tick=False):
        fast = Signer("action").dumps(payload)
        assert fast == make_token("action", payload) and fast.startswith(".")
        assert read_token("action", fast) == payload


def test_action_links_match_the_letters_domain(app):
    from campaign.letters.services import action_url

    case = SimpleNamespace(id=42)
    with app.app_context(), time_machine.travel(AT, tick=False):
        build = action_links(case.id)
        for supporter_id in (1, 77, 123456):
            supporter = SimpleNamespace(id=supporter_id)
            assert build(supporter) == action_url(case, supporter)


def test_unsubscribe_links_match_and_verify(app, db, make_supporters):
    from campaign.supporters import tokens
    from campaign.supporters.models import Supporter

    make_supporters(3)
    people = db.session.query(Supporter).order_by(Supporter.id).all()
    with time_machine.travel(AT, tick=False):
        build = tokens.unsubscribe_urls()
        links = [build(person) for person in people]
        assert links == [tokens.unsubscribe_url(person) for person in people]
    for person, link in zip(people, links, strict=True):
        token = link.rpartition("/unsubscribe/")[2]
        assert link.startswith("http://ua.example.org/unsubscribe/")
        assert tokens.supporter_for(tokens.UNSUBSCRIBE, token)[0].id == person.id
        with pytest.raises(TokenRefused):
            tokens.supporter_for(tokens.PREFERENCES, token)


@pytest.fixture
def app_config(mail_config):
    return mail_config
