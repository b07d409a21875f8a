"""Signed links: bound to one supporter and one purpose; tamper, expiry and replay."""

import pytest
import time_machine

from campaign.core.tokens import TokenRefused, make_token
from campaign.supporters import services, tokens

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


def test_links_are_absolute_on_base_url_and_work_without_a_request(app, make_supporter):
    supporter = make_supporter()
    with app.app_context():  # no request context: as in a Celery worker
        url = tokens.unsubscribe_url(supporter)
        prefs = tokens.preferences_url(supporter)
    assert url.startswith("https://ua.test/unsubscribe/")
    assert prefs.startswith("https://ua.test/preferences/")
    token = url.rsplit("/", 1)[1]
    assert tokens.supporter_for(tokens.UNSUBSCRIBE, token)[0].id == supporter.id


def test_a_tampered_token_is_refused(app, make_supporter):
    supporter = make_supporter()
    token = tokens.unsubscribe_token(supporter)
    for broken in (token[:-1], token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], ""):
        with pytest.raises(TokenRefused):
            tokens.supporter_for(tokens.UNSUBSCRIBE, broken)


def test_a_token_cannot_be_turned_against_another_supporter(app, make_supporter):
    alice, bob = make_supporter(), make_supporter()
    token = tokens.unsubscribe_token(alice)
    # The same purpose and a payload naming Bob, but without the digest of his address.
    forged = make_token(tokens.UNSUBSCRIBE, [bob.id, "0" * 12])
    with pytest.raises(TokenRefused):
        tokens.supporter_for(tokens.UNSUBSCRIBE, forged)
    # A token of another purpose does not unsubscribe either.
    with pytest.raises(TokenRefused):
        tokens.supporter_for(tokens.UNSUBSCRIBE, tokens.preferences_token(bob))
    assert tokens.supporter_for(tokens.UNSUBSCRIBE, token)[0].id == alice.id


def test_a_token_dies_with_its_supporter_even_if_the_id_comes_back(app, db, make_supporter):
    from campaign.supporters.models import Supporter

    old = make_supporter(email="old@example.org")
    token, old_id = tokens.unsubscribe_token(old), old.id
    services.erase(None, old)
    db.session.commit()
    db.session.add(Supporter(id=old_id, email="new@example.org", state="subscribed"))
    db.session.commit()
    with pytest.raises(TokenRefused, match="no longer valid"):
        tokens.supporter_for(tokens.UNSUBSCRIBE, token)


def test_confirmation_links_expire(app, db, make_supporter):
    supporter = make_supporter(state="pending")
    with time_machine.travel("2026-01-01 00:00:00", tick=False):
        services.open_confirmation(supporter)
        token = tokens.confirm_token(supporter)
    db.session.commit()
    with (
        time_machine.travel("2026-01-09 00:00:00", tick=False),
        pytest.raises(TokenRefused, match="expired"),
    ):
        tokens.supporter_for(tokens.CONFIRM, token, max_age=7 * 86400)


def test_a_confirmation_link_cannot_be_replayed_after_unsubscribing(app, db, make_supporter):
    supporter = make_supporter(state="pending")
    services.open_confirmation(supporter)
    token = tokens.confirm_token(supporter)
    found, extra = tokens.supporter_for(tokens.CONFIRM, token)
    assert services.confirm(found, extra[0]) is True
    assert services.confirm(found, extra[0]) is False  # a second click changes nothing
    services.unsubscribe(found, source="test")
    with pytest.raises(TokenRefused):
        services.confirm(found, extra[0])
    assert found.state == "unsubscribed"


def test_only_the_newest_confirmation_link_works(app, db, make_supporter):
    supporter = make_supporter(state="pending")
    services.open_confirmation(supporter)
    first = tokens.supporter_for(tokens.CONFIRM, tokens.confirm_token(supporter))[1][0]
    supporter.confirm_sent_at = None  # past the resend throttle
    services.open_confirmation(supporter)
    with pytest.raises(TokenRefused):
        services.confirm(supporter, first)
    assert supporter.state == "pending"
