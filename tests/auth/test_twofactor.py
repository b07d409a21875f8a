"""Two-factor authentication: enrolment, login, replay, recovery codes, enforcement."""

from __future__ import annotations

import re

import pyotp
import pytest

from campaign.auth import services, twofactor
from tests.conftest import PASSWORD

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TOTP_REQUIRED_ROLES": ("admin", "coordinator")}


def enrol(client) -> tuple[str, list[str]]:
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="token">([A-Z2-7]+)</code>', page).group(1)
    assert "<svg" in page  # the QR code
    wrong = client.post("/account/2fa", data={"code": "000000"})
    assert wrong.status_code == 422
    done = client.post("/account/2fa", data={"code": pyotp.TOTP(secret).now()})
    codes = re.findall(
        r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.get_data(as_text=True)
    )
    assert len(codes) == twofactor.RECOVERY_CODES
    return secret, codes


def test_required_roles_must_enrol_before_anything_else(app, make_user):
    make_user("coordinator", "c@example.org")
    client = app.test_client()
    client.post("/login", data={"email": "c@example.org", "password": PASSWORD})
    response = client.get("/cases/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/2fa"
    enrol(client)
    assert client.get("/cases/").status_code == 200


def test_viewers_may_skip_it(app, make_user):
    make_user("viewer", "v@example.org")
    client = app.test_client()
    client.post("/login", data={"email": "v@example.org", "password": PASSWORD})
    assert client.get("/cases/").status_code == 200


def test_login_asks_for_the_code_and_refuses_a_replay(app, make_user, db):
    make_user("admin", "a@example.org")
    client = app.test_client()
    client.post("/login", data={"email": "a@example.org", "password": PASSWORD})
    secret, _codes = enrol(client)
    client.post("/logout")

    second = app.test_client()
    step = second.post("/login", data={"email": "a@example.org", "password": PASSWORD})
    assert step.headers["Location"] == "/login/verify"
    assert second.get("/cases/").status_code == 302  # the password alone is not a login
    bad = second.post("/login/verify", data={"code": "123456"})
    assert bad.status_code == 401 and "not right" in bad.get_data(as_text=True)
    user = services.user_by_email("a@example.org")
    db.session.refresh(user)
    # The code that finished enrolment (its 30 s step is remembered): already used,
    # even when the clock has moved on to the next step meanwhile.
    code = pyotp.TOTP(secret).at(30 * user.totp_last_step)
    replay = second.post("/login/verify", data={"code": code})
    assert replay.status_code == 401
    later = pyotp.TOTP(secret).at(30 * (user.totp_last_step + 1))
    ok = second.post("/login/verify", data={"code": later})
    assert ok.status_code == 302
    assert second.get("/cases/").status_code == 200


def test_a_recovery_code_works_once(app, make_user):
    make_user("admin", "a@example.org")
    client = app.test_client()
    client.post("/login", data={"email": "a@example.org", "password": PASSWORD})
    _secret, codes = enrol(client)
    for attempt, expected in ((codes[0], 302), (codes[0], 401)):
        fresh = app.test_client()
        fresh.post("/login", data={"email": "a@example.org", "password": PASSWORD})
        assert fresh.post("/login/verify", data={"code": attempt}).status_code == expected


def test_admins_reset_a_lost_phone(app, make_user, db):
    make_user("coordinator", "c@example.org")
    client = app.test_client()
    client.post("/login", data={"email": "c@example.org", "password": PASSWORD})
    enrol(client)
    admin = make_user("admin", "a@example.org")
    secret = pyotp.random_base32()
    twofactor.enable(admin, admin, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    user = services.user_by_email("c@example.org")
    twofactor.reset(admin, user)
    db.session.commit()
    assert client.get("/cases/").status_code == 302  # the reset ended the session
    assert not services.user_by_email("c@example.org").has_2fa
