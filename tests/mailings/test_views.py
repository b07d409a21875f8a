"""The staff pages of mailings: compose, preview, test send, approve, confirm, control."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditEvent
from campaign.mailings.models import Delivery, Mailing


@pytest.fixture
def app_config(mail_config):
    # No workers in these tests: the outbox stays queued, wake() only enqueues.
    mail_config["MAILING_PARALLEL_TASKS"] = 1
    return mail_config


FREE = {"kind": "free", "subject": "Write today", "body": "Please write to the minister.",
        "everyone": "y"}  # fmt: skip


def draft(client, **values) -> Mailing:
    from campaign.extensions import db

    response = client.post("/mailings/new", data={**FREE, **values})
    assert response.status_code == 302, response.get_data(as_text=True)
    mailing_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    return db.session.get(Mailing, mailing_id)


def test_compose_creates_a_draft(db, login):
    client = login("campaigner")
    assert client.get("/mailings/new").status_code == 200
    mailing = draft(client)
    assert (mailing.state, mailing.subject, mailing.audience["all"]) == (
        "draft", "Write today", True,
    )  # fmt: skip
    assert client.get(f"/mailings/{mailing.id}").status_code == 200


def test_compose_errors_are_shown_at_the_field(db, login):
    client = login("campaigner")
    response = client.post("/mailings/new", data={**FREE, "body": ""})
    assert response.status_code == 422
    assert "Write the text of the mailing." in response.get_data(as_text=True)
    response = client.post("/mailings/new", data={**FREE, "kind": "appeal"})
    assert response.status_code == 422
    assert "Choose the UA this mailing is about." in response.get_data(as_text=True)
    assert db.session.scalar(select(Mailing.id)) is None


def test_viewer_cannot_compose(db, login):
    client = login("viewer")
    assert client.post("/mailings/new", data=FREE).status_code == 403
    assert db.session.scalar(select(Mailing.id)) is None


@pytest.mark.parametrize("language", ["en", "fr", "es", "de"])
def test_preview_per_language(db, login, language):
    client = login("campaigner")
    mailing = draft(client)
    html = client.get(f"/mailings/{mailing.id}/preview/{language}.html")
    assert html.status_code == 200
    assert "Please write to the minister." in html.get_data(as_text=True)
    assert "unsafe-inline" in html.headers["Content-Security-Policy"]
    text = client.get(f"/mailings/{mailing.id}/preview/{language}.txt").get_data(as_text=True)
    assert "Subject: Write today" in text
    assert "Please write to the minister." in text


def test_preview_of_unknown_language_is_404(db, login):
    client = login("campaigner")
    mailing = draft(client)
    assert client.get(f"/mailings/{mailing.id}/preview/xx.html").status_code == 404


def test_test_send_reaches_the_sink_with_test_in_subject(db, login, make_user, sink):
    make_user("viewer", "staff@example.org")  # tests go only to staff addresses
    client = login("campaigner")
    mailing = draft(client)
    response = client.post(
        f"/mailings/{mailing.id}/test", data={"address": "staff@example.org", "language": "en"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [got] = sink.messages
    assert got.recipient == "staff@example.org"
    message = email.message_from_bytes(got.data, policy=policy.default)
    assert message["Subject"] == "[TEST] Write today"
    assert db.session.scalar(select(Delivery.id)) is None  # not through the outbox
    assert db.session.get(Mailing, mailing.id).state == "draft"


def test_test_send_refused_by_the_server_is_shown(db, login, make_user, sink):
    make_user("viewer", "staff@example.org")
    sink.rcpt_rules["staff@example.org"] = "550 5.1.1 no such user"
    client = login("campaigner")
    mailing = draft(client)
    response = client.post(
        f"/mailings/{mailing.id}/test", data={"address": "staff@example.org", "language": "en"}
    )
    assert response.status_code == 422
    assert "refused the test" in response.get_data(as_text=True)


def test_only_a_coordinator_approves(db, login):
    campaigner = login("campaigner")
    mailing = draft(campaigner)
    assert campaigner.post(f"/mailings/{mailing.id}/approve").status_code == 403
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).approved_at is None
    coordinator = login("coordinator")
    assert coordinator.post(f"/mailings/{mailing.id}/approve").status_code == 302
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).approved_at is not None


def test_send_refuses_a_stale_count(db, login, make_supporters):
    make_supporters(3)
    client = login("coordinator")
    mailing = draft(client)
    client.post(f"/mailings/{mailing.id}/approve")
    page = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert "This sends to 3 people." in page
    make_supporters(2, start=10)  # the audience grew after the page was shown
    response = client.post(f"/mailings/{mailing.id}/send", data={"expected": "3", "confirm": "y"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The audience is now 5 people, not 3." in page
    assert 'name="expected" type="hidden" value="5"' in page
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "draft"
    assert db.session.scalar(select(Delivery.id)) is None
    response = client.post(f"/mailings/{mailing.id}/send", data={"expected": "5", "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "sending"
    assert len(db.session.scalars(select(Delivery.id)).all()) == 5


def test_send_needs_the_tick_and_the_approval(db, login, make_supporters):
    make_supporters(1)
    client = login("coordinator")
    mailing = draft(client)
    response = client.post(f"/mailings/{mailing.id}/send", data={"expected": "1", "confirm": "y"})
    assert response.status_code == 302
    response = client.get(response.headers["Location"])
    assert "A coordinator must approve the mailing first." in response.get_data(as_text=True)
    client.post(f"/mailings/{mailing.id}/approve")
    response = client.post(f"/mailings/{mailing.id}/send", data={"expected": "1"})
    assert response.status_code == 422
    assert "Tick to confirm." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "draft"


def test_pause_resume_cancel(db, login, make_supporters):
    make_supporters(2)
    client = login("coordinator")
    mailing = draft(client)
    client.post(f"/mailings/{mailing.id}/approve")
    client.post(f"/mailings/{mailing.id}/send", data={"expected": "2", "confirm": "y"})
    states = []
    # Cancelling needs its tick: without it, nothing changes and the page says why.
    response = client.post(f"/mailings/{mailing.id}/cancel")
    response = client.get(response.headers["Location"])
    assert "The mailing was not cancelled: tick the box to confirm." in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "sending"
    for action in ("pause", "resume", "pause", "cancel"):
        data = {"confirm": "y"} if action == "cancel" else {}
        assert client.post(f"/mailings/{mailing.id}/{action}", data=data).status_code == 302
        db.session.expire_all()
        states.append(db.session.get(Mailing, mailing.id).state)
    assert states == ["paused", "sending", "paused", "cancelled"]
    # Ended: resuming is refused with a message, and changes nothing.
    response = client.post(f"/mailings/{mailing.id}/resume")
    response = client.get(response.headers["Location"])
    assert "Only a paused mailing can be resumed." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "cancelled"
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("mailing.%"))
    ).all()
    assert actions.count("mailing.pause") == 2 and "mailing.cancel" in actions


def test_campaigner_cannot_pause(db, login, make_supporters):
    make_supporters(1)
    coordinator = login("coordinator")
    mailing = draft(coordinator)
    coordinator.post(f"/mailings/{mailing.id}/approve")
    coordinator.post(f"/mailings/{mailing.id}/send", data={"expected": "1", "confirm": "y"})
    campaigner = login("campaigner")
    assert campaigner.post(f"/mailings/{mailing.id}/pause").status_code == 403
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "sending"


@pytest.fixture
def typed_from_4(app):
    app.config["MAILING_TYPED_CONFIRM_THRESHOLD"] = 4


def test_a_mass_send_needs_the_count_typed(db, login, make_supporters, typed_from_4):
    make_supporters(4)
    client = login("coordinator")
    mailing = draft(client)
    client.post(f"/mailings/{mailing.id}/approve")
    page = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert '<label for="typed">Type 4 to send</label>' in page
    assert 'name="confirm"' not in page.split('action="/mailings/')[-1]  # no tick box to send
    for typed in ("", "40", "3", "four"):  # the tick alone, or a wrong number, sends nothing
        response = client.post(
            f"/mailings/{mailing.id}/send", data={"expected": "4", "confirm": "y", "typed": typed}
        )
        assert response.status_code == 422
        assert "This sends to 4 people: type 4 to confirm." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "draft"
    assert db.session.scalar(select(Delivery.id)) is None
    response = client.post(f"/mailings/{mailing.id}/send", data={"expected": "4", "typed": " 4 "})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "sending"
    assert len(db.session.scalars(select(Delivery.id)).all()) == 4


def test_a_typed_count_that_went_stale_is_refused(db, login, make_supporters, typed_from_4):
    make_supporters(1200)
    client = login("coordinator")
    mailing = draft(client)
    client.post(f"/mailings/{mailing.id}/approve")
    assert "This mailing goes to <strong>1,200</strong> people." in client.get(
        f"/mailings/{mailing.id}"
    ).get_data(as_text=True)
    make_supporters(3, start=5000)  # three more joined while the page was open
    response = client.post(
        f"/mailings/{mailing.id}/send", data={"expected": "1200", "typed": "1,200"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The audience is now 1,203 people, not 1,200. Confirm again." in page
    assert '<label for="typed">Type 1203 to send</label>' in page
    assert re.search(r'<input [^>]*name="typed" [^>]*value=""', page)
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "draft"
    # Scheduling is a send too: the new count, typed with separators, is accepted.
    response = client.post(
        f"/mailings/{mailing.id}/send",
        data={"expected": "1203", "typed": "1,203", "send_at": "2099-01-01T09:00"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "scheduled"


def test_below_the_threshold_the_tick_is_enough(db, login, make_supporters, typed_from_4):
    make_supporters(3)
    client = login("coordinator")
    mailing = draft(client)
    client.post(f"/mailings/{mailing.id}/approve")
    page = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert 'name="typed"' not in page and "This sends to 3 people." in page
    response = client.post(f"/mailings/{mailing.id}/send", data={"expected": "3", "confirm": "y"})
    assert response.status_code == 302
