"""Recorded actions: signed links, idempotency, the public page, figures, the API."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaign.core.tokens import TokenRefused, make_token
from campaign.letters import services
from campaign.supporters.models import Action
from tests.letters import conftest as letter_fixtures


@pytest.fixture
def sept_2019():
    """A week before the case's deadline (27 September 2019)."""
    import time_machine

    with time_machine.travel(datetime(2019, 9, 20, 12, tzinfo=UTC)):
        yield


def count(db, **where) -> int:
    query = select(func.count()).select_from(Action)
    for field, value in where.items():
        query = query.where(getattr(Action, field) == value)
    return db.session.scalar(query)


def test_recording_is_idempotent_per_supporter_case_and_channel(case, make_supporter, db):
    supporter = make_supporter()
    assert services.record_action(case, supporter=supporter, channel="letter", source="staff")
    assert not services.record_action(case, supporter=supporter, channel="letter", source="staff")
    assert services.record_action(case, supporter=supporter, channel="email", source="staff")
    db.session.commit()
    assert count(db) == 2
    assert count(db, country="GB") == 2  # the supporter's country by default
    with pytest.raises(Exception, match="Choose how"):
        services.record_action(case, supporter=supporter, channel="pigeon", source="staff")


def test_action_links_refuse_forgery_and_other_purposes(case, make_supporter):
    supporter = make_supporter()
    url = services.action_url(case, supporter)
    assert url.startswith("http://127.0.0.1:5000/act/") or url.startswith(
        services.base_url() + "/act/"
    )
    token = url.rsplit("/", 1)[1]
    assert services.read_action_token(token, today=date(2019, 9, 1))[:2] == (case, supporter)
    _payload, rest = token.split(".", 1)
    other = make_token("action", {"c": case.id, "s": supporter.id + 1}).split(".", 1)[0]
    for forged in (
        other + "." + rest,  # another supporter's payload under this signature
        token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        make_token("unsubscribe", {"c": case.id, "s": supporter.id}),
        "",
    ):
        with pytest.raises(TokenRefused):
            services.read_action_token(forged, today=date(2019, 9, 1))


def test_links_stay_valid_for_a_while_after_the_deadline(case, make_supporter):
    token = services.action_token(case, make_supporter())
    deadline = case.current_deadline
    services.read_action_token(token, today=deadline + timedelta(days=59))
    with pytest.raises(TokenRefused, match="expired"):
        services.read_action_token(token, today=deadline + timedelta(days=61))


def test_a_link_shows_a_page_and_only_the_post_records_once(
    app, case, letters, make_supporter, db, sept_2019
):
    supporter = make_supporter(language="ru")
    token = services.action_token(case, supporter, "email")
    client = app.test_client()
    page = client.get(f"/act/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Да, я отправил(а) обращение" in html and '<option selected value="email">' in html
    assert "Я отправил(а) обращение" not in html, "the form asks; no second button"
    assert "/letters.pdf" in html  # the print link stays
    assert count(db) == 0, "a prefetching mail scanner must not count as an appeal"
    for _ in range(2):
        done = client.post(f"/act/{token}", data={"channel": "email"})
        assert done.status_code == 200
        assert "Спасибо" in done.get_data(as_text=True)
    db.session.expire_all()
    assert count(db, supporter_id=supporter.id, channel="email", source="email link") == 1
    forged = client.post(f"/act/{token[:-2]}xy", data={"channel": "letter"})
    assert forged.status_code == 400
    assert count(db) == 1


@pytest.mark.commits  # the claim email is published after a real commit
def test_the_public_page_records_an_action_and_the_count_rises(
    app, case, letters, make_supporter, db, login, queued
):
    known = make_supporter("known@example.org")
    client = app.test_client()
    page = client.get(f"/ua/{case.id}?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Release Akhtem Chiygoz and Ilmi Umerov" in html and "I took action" in html
    answers = []
    for email in ("known@example.org", "unknown@example.org", "UNKNOWN@example.org "):
        response = client.post(
            f"/ua/{case.id}/actions?lang=en", data={"email": email, "channel": "letter"}
        )
        assert response.status_code == 302
        answers.append(client.get(response.headers["Location"]).get_data(as_text=True))
    # The same answer whether the address is known or not, and a repeat counts once.
    assert all("Your action has been counted" in a for a in answers)
    assert answers[0] == answers[1]
    db.session.expire_all()
    assert count(db, case_id=case.id, source="public page") == 2
    assert count(db, supporter_id=None) == 2, "an unverified address never claims a supporter"
    # Only the known address is asked whether the appeal was theirs.
    first = db.session.scalar(select(Action).where(Action.case_id == case.id).order_by(Action.id))
    assert queued == [("letters.send_action_claim", (first.id, known.id))]
    assert services.action_stats(case)["total"] == 2
    staff = login("viewer").get(f"/cases/{case.id}").get_data(as_text=True)
    assert re.search(r"<strong>2</strong> appeals reported", staff)


def test_the_honeypot_changes_nothing_and_says_the_same(app, case, letters, db):
    client = app.test_client()
    response = client.post(
        f"/ua/{case.id}/actions",
        data={"email": "bot@example.org", "channel": "letter", "website": "http://spam"},
    )
    assert response.status_code == 302
    assert "counted" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert count(db) == 0


def test_bad_input_is_refused_at_the_field(app, case, letters, db):
    response = app.test_client().post(
        f"/ua/{case.id}/actions", data={"email": "not an address", "channel": "letter"}
    )
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert count(db) == 0


def test_drafts_and_embargoed_cases_are_not_public(
    app, case, letters, db, make_supporter, sept_2019
):
    from campaign.cases import services as cases

    token = services.action_token(case, make_supporter())
    client = app.test_client()
    cases.update_case(None, case, {"embargo_until": datetime.now(UTC) + timedelta(hours=1)})
    db.session.commit()
    assert client.get(f"/ua/{case.id}").status_code == 404
    assert client.post(f"/ua/{case.id}/actions", data={"email": "a@example.org"}).status_code == 404
    assert client.get(f"/act/{token}").status_code == 400
    cases.update_case(None, case, {"embargo_until": datetime.now(UTC) - timedelta(minutes=1)})
    db.session.commit()
    assert client.get(f"/ua/{case.id}").status_code == 200
    assert client.get(f"/act/{token}").status_code == 200
    draft = cases.create_case(None, {"title": "Draft"})
    db.session.commit()
    assert client.get(f"/ua/{draft.id}").status_code == 404
    assert client.get("/ua/999999").status_code == 404


def test_a_closed_case_shows_the_outcome_and_asks_for_nothing(app, case, letters, db):
    from campaign.cases import services as cases

    cases.add_update(
        None, case, kind="no_further_action", title="Released", body="Both men were released."
    )
    case.status = "closed"
    db.session.commit()
    client = app.test_client()
    html = client.get(f"/ua/{case.id}?lang=en").get_data(as_text=True)
    assert "Both men were released." in html
    assert "I took action" not in html and "Your letter" not in html
    response = client.post(f"/ua/{case.id}/actions", data={"email": "a@example.org"})
    assert response.status_code == 302
    assert count(db) == 0


def test_stats_per_day_country_and_channel(case, make_supporter, db):
    import time_machine

    gb, de = make_supporter("gb@example.org"), make_supporter("de@example.org", country="DE")
    with time_machine.travel(datetime(2019, 9, 18, 12, tzinfo=UTC), tick=False):
        services.record_action(case, supporter=gb, channel="letter", source="email link")
    with time_machine.travel(datetime(2019, 9, 20, 23, 30, tzinfo=UTC), tick=False):
        services.record_action(case, supporter=de, channel="email", source="email link")
        services.record_action(case, channel="fax", source="staff")
    db.session.commit()
    stats = services.action_stats(case)
    assert stats["total"] == 3
    assert stats["per_day"] == [
        {"day": "2019-09-18", "count": 1},
        {"day": "2019-09-19", "count": 0},
        {"day": "2019-09-20", "count": 2},
    ]
    assert stats["per_country"] == {"GB": 1, "DE": 1, "unknown": 1}
    assert stats["per_channel"] == {"letter": 1, "email": 1, "fax": 1, "social": 0, "phone": 0}


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_PUBLIC_FORMS": "3 per minute"}

    def test_the_public_form_is_rate_limited_per_ip(self, app, case, letters, db):
        client = app.test_client()
        codes = [
            client.post(
                f"/ua/{case.id}/actions", data={"email": f"p{n}@example.org", "channel": "letter"}
            ).status_code
            for n in range(5)
        ]
        assert codes == [302, 302, 302, 429, 429]
        other = client.post(
            f"/ua/{case.id}/actions",
            data={"email": "z@example.org", "channel": "letter"},
            environ_base={"REMOTE_ADDR": "10.0.0.9"},
        )
        assert other.status_code == 302
        assert count(db) == 4


def test_the_api_gives_figures_and_records(app, case, api_client, make_supporter, db):
    supporter = make_supporter()
    client, headers = api_client("campaigner")
    body = {"case_id": case.id, "supporter_id": supporter.id, "channel": "phone"}
    first = client.post("/api/v1/actions", json=body, headers=headers)
    second = client.post("/api/v1/actions", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert (first.json["recorded"], second.json["recorded"]) == (True, False)
    stats = client.get(f"/api/v1/cases/{case.id}/actions", headers=headers).json
    assert stats["total"] == 1 and stats["per_channel"]["phone"] == 1
    listing = client.get(f"/api/v1/actions?case_id={case.id}", headers=headers).json
    assert listing["total"] == 1 and listing["items"][0]["source"] == "api"
    bad = client.post("/api/v1/actions", json={**body, "channel": "pigeon"}, headers=headers)
    assert bad.status_code == 422 and bad.json["field"] == "channel"
    viewer, vheaders = api_client("viewer")
    assert viewer.post("/api/v1/actions", json=body, headers=vheaders).status_code == 403


@pytest.mark.commits  # the claim and confirmation emails are published after a real commit
def test_the_optional_sign_up_uses_double_opt_in_and_reveals_nothing(
    app, case, letters, make_supporter, db, queued
):
    from campaign.supporters.models import Supporter

    known = make_supporter("known@example.org", state="subscribed")
    client = app.test_client()
    answers = []
    for email in ("new@example.org", "known@example.org"):
        response = client.post(
            f"/ua/{case.id}/actions?lang=en",
            data={"email": email, "channel": "email", "sign_up": "y", "first_name": "Ann"},
        )
        assert response.status_code == 302
        answers.append(client.get(response.headers["Location"]).get_data(as_text=True))
    assert answers[0] == answers[1] and "check your inbox" in answers[0]
    new = db.session.scalar(select(Supporter).where(Supporter.email == "new@example.org"))
    assert new.state == "pending" and new.first_name == "Ann"
    confirmations = [args for name, args in queued if name == "supporters.send_confirmation"]
    assert confirmations == [(new.id,)], "a confirmation goes to the new address only"
    claims = [args for name, args in queued if name == "letters.send_action_claim"]
    assert [supporter for _action, supporter in claims] == [known.id]


@pytest.fixture
def italian_letter(case, letters, db):
    """A letter in a language the public pages do not speak."""
    body = letter_fixtures.EN_BODY.replace("I am writing to you about", "Le scrivo riguardo a")
    italian = services.save_letter(
        None, case, None, {"language": "it", "subject": "Liberate {{ people }}", "body": body}
    )
    db.session.commit()
    return italian


def _form_action(html: str) -> str:
    return re.search(r'<form method="post" action="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_the_action_form_keeps_the_letter_a_visitor_reads(app, case, italian_letter, db):
    """Reading the Italian letter (?lang=it; the pages themselves are not in
    Italian): after a refusal and after sending, it is still the Italian letter."""
    client = app.test_client()
    html = client.get(f"/ua/{case.id}?lang=it").get_data(as_text=True)
    assert "Le scrivo riguardo a" in html
    action = _form_action(html)
    assert action.endswith("?lang=it")
    refused = client.post(action, data={"email": "not an address", "channel": "letter"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Le scrivo riguardo a" in page and "I am writing to you about" not in page
    sent = client.post(action, data={"email": "ana@example.org", "channel": "letter"})
    assert sent.status_code == 302
    assert "Le scrivo riguardo a" in client.get(sent.headers["Location"]).get_data(as_text=True)


def test_the_action_form_keeps_the_page_language_too(app, case, italian_letter, db):
    """A French visitor reading the English letter stays on French pages."""
    client = app.test_client()
    html = client.get(f"/ua/{case.id}?lang=fr").get_data(as_text=True)
    action = _form_action(html)
    refused = client.post(action, data={"email": "not an address", "channel": "letter"})
    page = refused.get_data(as_text=True)
    assert '<html lang="fr"' in page and "I am writing to you about" in page
