"""Signed links over HTTP: tampered, expired, replayed or borrowed links change nothing."""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


@pytest.fixture
def pair(app, db):
    """Two subscribed supporters and an issued, public UA with a letter."""
    from campaign.cases import services as cases
    from campaign.letters import services as letters
    from campaign.supporters import services as supporters

    people = []
    for name in ("ann", "bob"):
        supporter = supporters.create_supporter(
            None, {"email": f"{name}@example.org", "first_name": name.title(), "language": "en"}
        )
        supporters.confirm(supporter, supporter.confirm_nonce)
        people.append(supporter)
    case = cases.create_case(
        None,
        {"title": "Token case", "summary": "S", "recommended_actions": "R", "languages": ["en"],
         "deadline": date.today() + timedelta(days=10)},
    )  # fmt: skip
    cases.link_person(None, case, cases.save_person(None, None, {"name": "Someone"}))
    cases.save_target(None, case, None, {"name": "Official", "salutation": "Dear Sir"})
    cases.issue_case(None, case)
    letters.save_letter(
        None, case, None, {"language": "en", "subject": "Appeal", "body": "Dear {{ salutation }}"}
    )
    db.session.commit()
    return people[0], people[1], case


def tamper(token: str) -> list[str]:
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    head, _, rest = token.partition(".")
    return [token[:-1], flipped, token + "x", "." + rest, head, "not-a-token"]


def state_of(db, supporter) -> str:
    from campaign.supporters.models import Supporter

    db.session.expire_all()
    return db.session.get(Supporter, supporter.id).state


def actions(db) -> int:
    from campaign.supporters.models import Action

    return db.session.scalar(select(func.count()).select_from(Action))


# What the refusal page says, in English and in French (a POST that carries
# language=fr is answered in French: the form's language wins).
REFUSALS = {
    "en": ("link", ("not valid", "no longer", "expired")),
    "fr": ("lien", ("n'est pas valide", "n'est plus valide", "expiré")),
}


def assert_refused(response, language: str = "en") -> None:
    assert response.status_code == 400
    body = html.unescape(response.get_data(as_text=True))
    assert f'lang="{language}"' in body
    noun, reasons = REFUSALS[language]
    assert noun in body.lower() and any(reason in body for reason in reasons), body


SUPPORTER_LINKS = {
    "unsubscribe": ("/unsubscribe/{}", "unsubscribe_token"),
    "preferences": ("/preferences/{}", "preferences_token"),
    "confirm": ("/join/confirm/{}", "confirm_token"),
}


@pytest.mark.parametrize("kind", list(SUPPORTER_LINKS))
def test_tampered_supporter_links_are_refused_and_change_nothing(client, db, pair, kind):
    from campaign.supporters import tokens

    ann, _bob, _case = pair
    path, make = SUPPORTER_LINKS[kind]
    token = getattr(tokens, make)(ann)
    for broken in tamper(token):
        assert_refused(client.get(path.format(broken)))
        response = client.post(
            path.format(broken), data={"List-Unsubscribe": "One-Click", "language": "fr"}
        )
        assert_refused(response, "fr")
    assert state_of(db, ann) == "subscribed"


@pytest.mark.parametrize("kind", list(SUPPORTER_LINKS))
def test_a_link_of_one_purpose_does_not_work_for_another(client, db, pair, kind):
    from campaign.supporters import tokens

    ann, _bob, _case = pair
    path, _make = SUPPORTER_LINKS[kind]
    for other, (_path, make) in SUPPORTER_LINKS.items():
        if other != kind:
            token = getattr(tokens, make)(ann)
            assert_refused(client.post(path.format(token), data={"List-Unsubscribe": "One-Click"}))
    assert state_of(db, ann) == "subscribed"


def test_a_link_for_ann_never_acts_on_bob(client, db, pair):
    from campaign.core.tokens import make_token
    from campaign.supporters import tokens

    ann, bob, _case = pair
    # Bob's id, signed, but with Ann's address digest: the digest gives it away.
    forged = make_token(tokens.UNSUBSCRIBE, [bob.id, tokens.address_digest(ann.email, 12)])
    assert_refused(client.post(f"/unsubscribe/{forged}"))
    assert state_of(db, bob) == "subscribed"
    response = client.post(f"/unsubscribe/{tokens.unsubscribe_token(ann)}")
    assert response.status_code == 200
    assert (state_of(db, ann), state_of(db, bob)) == ("unsubscribed", "subscribed")


@pytest.mark.parametrize(
    ("kind", "days"), [("confirm", 8), ("preferences", 366)], ids=["confirm", "preferences"]
)
def test_expired_supporter_links_are_refused(client, db, pair, kind, days):
    from campaign.supporters import services, tokens

    ann, _bob, _case = pair
    path, make = SUPPORTER_LINKS[kind]
    if kind == "confirm":
        services.unsubscribe(ann, source="test")
        services.open_confirmation(ann)
        db.session.commit()
    token = getattr(tokens, make)(ann)
    before = state_of(db, ann)
    with time_machine.travel(datetime.now() + timedelta(days=days)):
        response = client.post(path.format(token), data={"language": "fr"})
        assert_refused(response, "fr")
        assert "expiré" in response.get_data(as_text=True)
    assert state_of(db, ann) == before


def test_a_replayed_confirm_link_does_not_resubscribe(client, db, app):
    from campaign.supporters import services, tokens

    supporter = services.create_supporter(None, {"email": "cat@example.org", "language": "en"})
    db.session.commit()
    token = tokens.confirm_token(supporter)
    assert client.post(f"/join/confirm/{token}").status_code == 200
    assert state_of(db, supporter) == "subscribed"
    client.post(f"/unsubscribe/{tokens.unsubscribe_token(supporter)}")
    assert state_of(db, supporter) == "unsubscribed"
    assert_refused(client.post(f"/join/confirm/{token}"))
    assert state_of(db, supporter) == "unsubscribed"


# --- "I sent my appeal" and the print pack -------------------------------------------


def action_path(case, supporter, suffix="") -> str:
    from campaign.letters import services as letters

    return "/act/" + letters.action_token(case, supporter) + suffix


@pytest.mark.parametrize("suffix", ["", "/letters.pdf"], ids=["act", "print-pack"])
def test_tampered_action_links_are_refused(client, db, pair, suffix):
    ann, _bob, case = pair
    token = action_path(case, ann).removeprefix("/act/")
    for broken in tamper(token):
        assert_refused(client.get(f"/act/{broken}{suffix}"))
        if not suffix:
            assert_refused(client.post(f"/act/{broken}", data={"channel": "letter"}))
    assert actions(db) == 0


def test_expired_action_link_is_refused(client, db, pair):
    ann, _bob, case = pair
    path = action_path(case, ann)
    with time_machine.travel(datetime.now() + timedelta(days=10 + 61)):
        assert_refused(client.post(path, data={"channel": "letter"}))
        assert_refused(client.get(path + "/letters.pdf"))
    with time_machine.travel(datetime.now() + timedelta(days=401)):
        assert_refused(client.post(path, data={"channel": "letter"}))
    assert actions(db) == 0


def test_a_replayed_action_link_counts_once_and_only_for_its_supporter(client, db, pair):
    from campaign.supporters.models import Action

    ann, bob, case = pair
    path = action_path(case, ann)
    for _ in range(3):
        assert client.post(path, data={"channel": "letter"}).status_code == 200
    assert actions(db) == 1
    assert db.session.scalar(select(Action.supporter_id)) == ann.id
    assert client.get(path + "/letters.pdf").status_code == 200
    # An action token is for actions only: it unsubscribes no one.
    assert_refused(client.post("/unsubscribe/" + path.removeprefix("/act/")))
    assert (state_of(db, ann), state_of(db, bob)) == ("subscribed", "subscribed")
