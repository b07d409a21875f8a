"""Staff sessions are server-side records: logout, password or role change and an admin's
"sign out everywhere" end them; idle and absolute lifetimes (issue #16 item 2)."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from campaign.core.types import utcnow
from tests.conftest import PASSWORD


def _login(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _cookie(client) -> str:
    return client.get_cookie("session", domain="localhost").value


def _with_cookie(app, value: str):
    thief = app.test_client()
    thief.set_cookie("session", value, domain="localhost")
    return thief


def test_a_cookie_copied_before_logout_opens_nothing_after_it(app, make_user):
    make_user("viewer", "v@example.org")
    client = _login(app, "v@example.org")
    copied = _cookie(client)
    assert _with_cookie(app, copied).get("/account").status_code == 200
    assert client.post("/logout").status_code == 302
    assert _with_cookie(app, copied).get("/account").status_code == 302
    # Logging in again starts a new session; the old cookie stays dead.
    _login(app, "v@example.org")
    assert _with_cookie(app, copied).get("/account").status_code == 302


def test_the_cookie_holds_no_user_id(app, make_user):
    from flask.sessions import SecureCookieSessionInterface

    user = make_user("viewer", "v@example.org")
    client = _login(app, "v@example.org")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(_cookie(client))
    assert not str(data["_user_id"]).startswith(f"{user.id}:")
    assert len(data["_user_id"]) >= 32


def test_idle_sessions_end(app, make_user):
    make_user("viewer", "v@example.org")
    idle = app.config["SESSION_IDLE_MINUTES"]
    start = utcnow()
    with time_machine.travel(start, tick=False):
        client = _login(app, "v@example.org")
    with time_machine.travel(start + timedelta(minutes=idle - 5), tick=False):
        assert client.get("/account").status_code == 200  # use keeps it alive
    with time_machine.travel(start + timedelta(minutes=2 * idle - 10), tick=False):
        assert client.get("/account").status_code == 200
    with time_machine.travel(start + timedelta(minutes=3 * idle), tick=False):
        assert client.get("/account").status_code == 302


def test_sessions_end_after_their_absolute_lifetime_however_busy(app, make_user):
    make_user("viewer", "v@example.org")
    idle, hours = app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_MAX_HOURS"]
    start = utcnow()
    with time_machine.travel(start, tick=False):
        client = _login(app, "v@example.org")
    step, now = timedelta(minutes=idle // 2), start
    while now < start + timedelta(hours=hours) - step:
        now += step
        with time_machine.travel(now, tick=False):
            assert client.get("/account").status_code == 200
    with time_machine.travel(start + timedelta(hours=hours, minutes=1), tick=False):
        assert client.get("/account").status_code == 302


def test_an_admin_signs_a_user_out_everywhere(app, make_user, login, db):
    user = make_user("campaigner", "c@example.org")
    phone, laptop = _login(app, "c@example.org"), _login(app, "c@example.org")
    admin = login("admin", "a@example.org")
    response = admin.post(f"/admin/users/{user.id}/sign-out", data={"confirm": "y"})
    assert response.status_code == 302
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 302
    assert admin.get("/account").status_code == 200
    from sqlalchemy import select

    from campaign.audit.models import AuditEvent

    assert db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "user.sign_out_everywhere")
    )
    # Not for lower roles.
    campaigner = _login(app, "c@example.org")
    assert (
        campaigner.post(f"/admin/users/{user.id}/sign-out", data={"confirm": "y"}).status_code
        == 403
    )


def test_a_role_change_ends_the_users_sessions(app, make_user, login):
    user = make_user("campaigner", "c@example.org")
    client = _login(app, "c@example.org")
    admin = login("admin", "a@example.org")
    response = admin.post(
        f"/admin/users/{user.id}", data={"name": "", "role": "viewer", "active": "y"}
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 302


def test_a_password_change_keeps_this_session_and_ends_the_others(app, make_user):
    make_user("viewer", "v@example.org")
    this, other = _login(app, "v@example.org"), _login(app, "v@example.org")
    copied = _cookie(this)
    new = "a brand new passphrase"
    response = this.post(
        "/account/password", data={"current": PASSWORD, "password": new, "confirm": new}
    )
    assert response.status_code == 302
    assert this.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    # The cookie from before the change is not the one that goes on.
    assert _with_cookie(app, copied).get("/account").status_code == 302
