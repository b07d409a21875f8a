"""Sign up, confirm, change preferences, unsubscribe: each change is in the consent log."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from campaign.supporters import services
from campaign.supporters.models import ConsentEvent, Supporter
from tests.supporters.conftest import path_of


def _sign_up(client, email="ana@example.org", **extra):
    data = {
        "email": email,
        "first_name": "Ana",
        "language": "es",
        "country": "ES",
        "interests": ["europe", "torture"],
        "consent": "y",
        **extra,
    }
    return client.post("/join?lang=es", data=data, environ_base={"REMOTE_ADDR": "203.0.113.9"})


def test_the_whole_journey_is_in_the_consent_log(app, db, client, eager, inbox):
    response = _sign_up(client)
    assert response.status_code == 200
    assert "Revisa tu bandeja de entrada" in response.get_data(as_text=True)
    supporter = db.session.scalar(select(Supporter))
    assert (supporter.state, supporter.language, supporter.country) == ("pending", "es", "ES")
    assert supporter.timezone == "Europe/Madrid" and supporter.interests == ["europe", "torture"]

    [message] = inbox.messages()
    assert message["To"] == "ana@example.org"
    assert message["Subject"] == "Confirma tu inscripción en Acciones Urgentes"
    confirm_link = inbox.links(message)[0]
    assert "/join/confirm/" in confirm_link

    page = client.get(path_of(confirm_link))
    assert page.status_code == 200 and "Sí, inscribirme" in page.get_data(as_text=True)
    db.session.expire_all()
    assert supporter.state == "pending"  # opening the link (a scanner) confirms nothing
    confirmed = client.post(path_of(confirm_link), environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert confirmed.status_code == 200
    db.session.expire_all()
    assert supporter.state == "subscribed"

    from campaign.supporters.tokens import preferences_url, unsubscribe_url

    prefs = path_of(preferences_url(supporter))
    changed = client.post(prefs, data={"language": "fr", "interests": ["africa"]})
    assert changed.status_code == 302
    db.session.expire_all()
    assert (supporter.language, supporter.interests) == ("fr", ["africa"])

    one_click = client.post(
        path_of(unsubscribe_url(supporter)), data={"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 200
    db.session.expire_all()
    assert supporter.state == "unsubscribed"
    log = [(e.old_state, e.new_state, e.source, e.ip) for e in supporter.consent_events]
    assert log == [
        (None, "pending", "sign-up form", "203.0.113.9"),
        ("pending", "subscribed", "confirmation link", "203.0.113.10"),
        ("subscribed", "unsubscribed", "one-click unsubscribe", "127.0.0.1"),
    ]


def test_the_form_never_tells_whether_an_address_is_known(app, db, client, eager, inbox):
    new = _sign_up(client, "new@example.org")
    services.confirm(
        db.session.scalar(select(Supporter)), db.session.scalar(select(Supporter)).confirm_nonce
    )
    db.session.commit()
    known = _sign_up(client, "new@example.org")
    unknown = _sign_up(client, "other@example.org")
    assert new.status_code == known.status_code == unknown.status_code == 200
    strip = lambda r: r.get_data(as_text=True).replace("other@", "x@").replace("new@", "x@")  # noqa: E731
    assert strip(known) == strip(unknown)
    assert len(inbox.messages()) == 2  # the subscribed address got no second email


def test_resending_is_throttled(app, db, client, eager, inbox):
    with time_machine.travel("2026-03-01 10:00:00", tick=False):
        _sign_up(client)
        _sign_up(client)
    assert len(inbox.messages()) == 1
    with time_machine.travel("2026-03-01 10:11:00", tick=False):
        _sign_up(client)
    assert len(inbox.messages()) == 2
    assert db.session.scalar(select(func.count()).select_from(Supporter)) == 1


def test_a_form_sign_up_never_overwrites_a_known_profile(
    app, db, client, eager, inbox, make_supporter
):
    make_supporter(state="subscribed", email="ana@example.org", first_name="Real", language="en")
    _sign_up(client, first_name="Impostor")
    supporter = db.session.scalar(select(Supporter))
    db.session.refresh(supporter)
    assert (supporter.first_name, supporter.language) == ("Real", "en")


def test_an_unsubscribed_person_can_opt_in_again_only_by_confirming(
    app, db, client, eager, inbox, make_supporter
):
    person = make_supporter(state="unsubscribed", email="ana@example.org")
    _sign_up(client)
    db.session.refresh(person)
    assert person.state == "unsubscribed"  # still not mailed while unconfirmed
    link = inbox.links(inbox.messages()[0])[0]
    assert client.post(path_of(link)).status_code == 200
    db.session.refresh(person)
    assert person.state == "subscribed"


def test_bad_input_is_shown_at_the_field(app, db, client):
    response = _sign_up(client, email="not an address", consent="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Escribe una dirección de correo válida" in page
    assert "Marca la casilla" in page
    assert db.session.scalar(select(func.count()).select_from(Supporter)) == 0


def test_arabic_pages_are_right_to_left(app, client):
    page = client.get("/join?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in page and 'lang="ar"' in page and "انضم" in page


def test_unconfirmed_sign_ups_are_purged_after_the_configured_days(app, db, make_supporter):
    app.config["UNCONFIRMED_PURGE_DAYS"] = 3
    stale = make_supporter(state="pending")
    fresh = make_supporter(state="pending")
    subscribed = make_supporter(state="subscribed")
    stale.state_changed_at -= timedelta(days=4)
    subscribed.state_changed_at -= timedelta(days=40)
    db.session.commit()
    stale_id = stale.id
    assert services.purge_unconfirmed() == 1
    db.session.commit()
    assert db.session.get(Supporter, stale_id) is None
    assert {fresh.id, subscribed.id} <= set(db.session.scalars(select(Supporter.id)))
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ConsentEvent)
            .where(ConsentEvent.supporter_id == stale_id)
        )
        == 0
    )


@pytest.mark.parametrize("state", ["bounced", "complained", "blocked"])
def test_suppress_is_idempotent_and_never_softens(app, db, make_supporter, state):
    supporter = make_supporter()
    assert services.suppress(supporter, state, source="bounce") is True
    assert services.suppress(supporter, state, source="bounce") is False
    assert services.suppress(supporter, "bounced", source="bounce") is False
    assert services.unsubscribe(supporter, source="x") is False
    assert supporter.state == state
    assert [e.new_state for e in supporter.consent_events] == ["subscribed", state]
