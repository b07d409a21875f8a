"""The public front door, sign-up limits, and linking a public action to a supporter."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from campaign.cases import services as cases


@pytest.fixture
def open_ua(app, db):
    case = cases.create_case(None, {
        "title": "Crimean Tatar leaders sentenced", "summary": "S", "recommended_actions": "A",
        "deadline": cases.org_today() + timedelta(days=20), "languages": ["en"]},
        number=205, year=2016)  # fmt: skip
    cases.issue_case(None, case)
    hidden = cases.create_case(None, {"title": "Still a draft"})
    db.session.commit()
    return case, hidden


def test_a_visitor_finds_the_open_uas_and_the_sign_up_form_at_the_root(client, open_ua):
    case, _hidden = open_ua
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'action="/join?lang=en"' in page and 'name="email"' in page
    assert f'href="/ua/{case.id}?lang=en"' in page and "UA 205/16" in page
    assert "Still a draft" not in page
    assert 'href="/login"' in page
    french = client.get("/?lang=fr").get_data(as_text=True)
    assert '<html lang="fr"' in french and "Rejoignez le réseau" in french
    assert f'href="/ua/{case.id}?lang=fr"' in french


def test_staff_still_get_the_dashboard_at_the_root(open_ua, login):
    page = login("viewer").get("/").get_data(as_text=True)
    assert "Dashboard" in page and "Next steps" in page


def test_the_confirmation_leads_on_to_the_open_uas(client, open_ua, db, queued):
    from campaign.supporters import services, tokens

    case, _hidden = open_ua
    supporter = services.sign_up({"email": "ana@example.org", "language": "es"}, ip="192.0.2.1")
    db.session.commit()
    url = tokens.confirm_url(supporter)
    path = url[url.index("/join/confirm/") :]
    button = client.get(path).get_data(as_text=True)
    assert '<form method="post">' in button  # one click, safe from link scanners
    done = client.post(path).get_data(as_text=True)
    assert "UA 205/16" in done and f"/ua/{case.id}?lang=es" in done


def test_the_thank_you_page_shows_other_uas_to_act_on(client, open_ua, db):
    from campaign.letters import services as letters

    case, _hidden = open_ua
    other = cases.create_case(None, {"title": "Journalist detained", "summary": "S",
                                     "recommended_actions": "A"})  # fmt: skip
    cases.issue_case(None, other)
    db.session.commit()
    page = client.get(f"/ua/{case.id}?lang=en").get_data(as_text=True)
    assert "Other Urgent Actions open now" in page and "Journalist detained" in page
    assert [c.id for c in letters.active_public_cases(exclude_id=case.id)] == [other.id]


# --- sign-up limits -------------------------------------------------------------------------


@pytest.fixture
def app_config(app_config):
    app_config.update(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        SIGNUP_RATE_LIMIT="2 per hour",
        SIGNUP_ADDRESS_RATE_LIMIT="1 per day",
    )
    return app_config


def _join(client, email, ip="198.51.100.7", lang="en", **extra):
    data = {"email": email, "first_name": "A", "language": lang, "consent": "y", **extra}
    return client.post(f"/join?lang={lang}", data=data, environ_base={"REMOTE_ADDR": ip})


def test_only_accepted_sign_ups_count_and_the_limit_speaks_the_visitors_language(
    client, open_ua, queued
):
    for n in range(5):  # refused forms cost nothing
        assert _join(client, f"x{n}@example.org", consent="").status_code == 422
    assert _join(client, "one@example.org").status_code == 200
    assert _join(client, "two@example.org").status_code == 200
    refused = _join(client, "three@example.org", lang="fr")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert '<html lang="fr"' in page and "Trop d’inscriptions depuis ici" in page
    assert "Error 429" not in page
    # Another network is not held back by this one.
    assert _join(client, "three@example.org", ip="203.0.113.9").status_code == 200


def test_one_address_is_limited_on_its_own(client, open_ua, queued):
    assert _join(client, "same@example.org", ip="198.51.100.1").status_code == 200
    assert _join(client, "SAME@example.org", ip="198.51.100.2").status_code == 429


def test_the_public_action_forms_sign_up_shares_the_limits(client, open_ua, queued, db):
    from campaign.supporters.models import Action

    case, _hidden = open_ua
    assert _join(client, "ana@example.org").status_code == 200
    response = client.post(
        f"/ua/{case.id}/actions?lang=en",
        data={"email": "ana@example.org", "channel": "email", "sign_up": "y"},
        environ_base={"REMOTE_ADDR": "203.0.113.50"},
    )
    assert response.status_code == 429
    assert db.session.query(Action).count() == 0  # the refused request changed nothing
    plain = client.post(
        f"/ua/{case.id}/actions?lang=en",
        data={"email": "ana@example.org", "channel": "email"},
        environ_base={"REMOTE_ADDR": "203.0.113.50"},
    )
    assert plain.status_code == 302  # acting without signing up is not a sign-up


# --- "I took action" is linked only when the supporter confirms -----------------------------


def test_a_typed_address_links_the_action_only_after_the_signed_link(client, open_ua, db,
                                                                       queued):  # fmt: skip
    from campaign.letters import services as letters
    from campaign.supporters.models import Action, Supporter

    case, _hidden = open_ua
    known = Supporter(email="known@example.org", language="de", state="subscribed", interests=[])
    db.session.add(known)
    db.session.commit()
    for email in ("known@example.org", "stranger@example.org"):
        response = client.post(f"/ua/{case.id}/actions?lang=en",
                               data={"email": email, "channel": "letter"})  # fmt: skip
        assert response.status_code == 302
    actions = db.session.query(Action).order_by(Action.id).all()
    assert [a.supporter_id for a in actions] == [None, None]  # counted, linked to nobody
    claims = [tuple(args) for name, args in queued if name == "letters.send_action_claim"]
    assert claims == [(actions[0].id, known.id)]  # only the known address is asked
    token = letters.claim_token(actions[0].id, known.id)
    page = client.get(f"/ua/claim/{token}").get_data(as_text=True)
    assert "Ja, das war ich" in page  # in the supporter's language, a button only
    db.session.refresh(actions[0])
    assert actions[0].supporter_id is None  # a scanner opening the link links nothing
    done = client.post(f"/ua/claim/{token}")
    assert done.status_code == 200
    db.session.refresh(actions[0])
    assert actions[0].supporter_id == known.id and actions[0].email_hash is None
    assert letters.action_stats(case)["total"] == 2
    forged = client.get(f"/ua/claim/{token[:-2]}xx")
    assert forged.status_code == 400


def test_the_claim_email_goes_to_the_supporter_in_their_language(app, open_ua, db, monkeypatch):
    from campaign.letters import services as letters
    from campaign.letters.tasks import send_action_claim
    from campaign.supporters.models import Action, Supporter

    case, _hidden = open_ua
    known = Supporter(email="k@example.org", language="fr", state="subscribed", interests=[])
    db.session.add(known)
    db.session.flush()
    letters.record_action(case, channel="email", source="public page", email="k@example.org")
    action_id, known_id = db.session.query(Action).one().id, known.id
    db.session.commit()  # the task runs in a session of its own
    sent = []
    monkeypatch.setattr("campaign.letters.tasks.send_email", lambda *a, **k: sent.append(a))
    assert send_action_claim(action_id, known_id) is True
    to, subject, text = sent[0][:3]
    assert to == "k@example.org" and "UA 205/16" in subject
    assert "Avez-vous envoyé" in subject
    assert re.search(r"/ua/claim/[\w.-]+", text)
