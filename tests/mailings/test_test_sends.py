"""Test sends go only to staff addresses, are rate-limited and marked [TEST] (issue #16 item 3)."""

from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditEvent
from tests.mailings.test_views import draft


@pytest.fixture
def app_config(mail_config, request):
    mail_config["MAILING_PARALLEL_TASKS"] = 1
    if "rate_limited" in request.node.name:
        mail_config.update(RATELIMIT_ENABLED=True, RATELIMIT_TEST_SEND="3 per hour")
    return mail_config


def _test(client, mailing, address):
    return client.post(f"/mailings/{mailing.id}/test", data={"address": address, "language": "en"})


def test_a_test_goes_to_a_staff_address_marked_test(db, login, make_user, sink):
    client = login("campaigner")
    make_user("viewer", "Colleague@Example.org")
    mailing = draft(client)
    for address in (client.user.email, "colleague@example.org"):
        assert _test(client, mailing, address).status_code == 302
    assert [m.recipient for m in sink.messages] == [client.user.email, "colleague@example.org"]
    subject = email.message_from_bytes(sink.messages[0].data, policy=policy.default)["Subject"]
    assert subject == "[TEST] Write today"


def test_a_test_to_an_outside_address_is_refused_and_sends_nothing(db, login, make_user, sink):
    client = login("campaigner")
    mailing = draft(client)
    response = _test(client, mailing, "someone@outside.example")
    assert response.status_code == 422
    assert "staff" in response.get_data(as_text=True)
    assert sink.messages == []
    # A deactivated account is no longer a staff address.
    from campaign.auth import services as auth

    gone = make_user("viewer", "gone@example.org")
    auth.update_user(None, gone, role="viewer", name="", active=False)
    db.session.commit()
    assert _test(client, mailing, "gone@example.org").status_code == 422
    assert sink.messages == []
    assert (
        db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "mailing.test")) is None
    )


def test_the_allow_list_setting_adds_addresses_and_domains(app, db, login, sink):
    app.config["TEST_SEND_ALLOWED"] = "reviewer@partner.example, @ngo.example"
    client = login("campaigner")
    mailing = draft(client)
    assert _test(client, mailing, "Reviewer@partner.example").status_code == 302
    assert _test(client, mailing, "anyone@ngo.example").status_code == 302
    assert _test(client, mailing, "anyone@sub.ngo.example").status_code == 422
    assert _test(client, mailing, "other@partner.example").status_code == 422
    assert len(sink.messages) == 2


def test_test_sends_are_rate_limited_per_staff_member(db, login, sink):
    first, second = login("campaigner", "c1@example.org"), login("campaigner", "c2@example.org")
    mailing = draft(first)
    codes = [_test(first, mailing, "c1@example.org").status_code for _ in range(5)]
    assert codes == [302, 302, 302, 429, 429]
    assert _test(second, mailing, "c2@example.org").status_code == 302  # per person
    assert len(sink.messages) == 4
