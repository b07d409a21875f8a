"""The two-factor set-up page keeps one secret until it is confirmed."""

from __future__ import annotations

import re

import pyotp


def _secret(page: str) -> str:
    return re.search(r'<code class="token">([A-Z2-7]+)</code>', page).group(1)


def test_a_reload_keeps_the_secret_a_phone_already_scanned(login):
    client = login("viewer")
    first = client.get("/account/2fa").get_data(as_text=True)
    scanned = _secret(first)
    assert "recovery code" not in first.lower()  # none exist yet
    reloaded = client.get("/account/2fa").get_data(as_text=True)
    assert _secret(reloaded) == scanned
    done = client.post("/account/2fa", data={"code": pyotp.TOTP(scanned).now()})
    assert done.status_code == 200 and "recovery codes" in done.get_data(as_text=True)
    again = client.get("/account/2fa").get_data(as_text=True)
    assert _secret(again) != scanned  # confirmed: a new set-up starts afresh
    assert "your 10 unused recovery codes" in again


def test_the_pending_secret_belongs_to_one_user(app, login, make_user):
    client = login("viewer")
    secret = _secret(client.get("/account/2fa").get_data(as_text=True))
    with client.session_transaction() as session:
        session["2fa_secret"] = {"user": 999, "secret": "A" * 32}
    assert _secret(client.get("/account/2fa").get_data(as_text=True)) not in (secret, "A" * 32)


def test_the_root_is_no_way_round_a_required_second_factor(app, make_user):
    from tests.conftest import PASSWORD

    app.config["TOTP_REQUIRED_ROLES"] = ("admin", "coordinator")
    make_user("coordinator", "c@example.org")
    client = app.test_client()
    client.post("/login", data={"email": "c@example.org", "password": PASSWORD})
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/2fa"
