"""Login throttling that cannot be turned against staff (issue #16 item 4): backoff per
account and per address instead of a lockout, known devices keep their way in, the
same answer for known and unknown addresses, and an alert to the account's owner."""

from __future__ import annotations

import time
from datetime import timedelta

import time_machine

from campaign.core.types import utcnow
from tests.conftest import PASSWORD

WRONG = "not the password at all"


def _post(client, email, password, ip="198.51.100.1"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_overrides={"REMOTE_ADDR": ip},
    )


def test_failures_slow_down_an_account_but_never_lock_out_a_known_device(app, make_user):
    make_user("coordinator", "coord@example.org")
    office = app.test_client()
    assert _post(office, "coord@example.org", PASSWORD).status_code == 302  # a known device
    office.post("/logout")
    attacker = app.test_client()
    for n in range(app.config["LOGIN_MAX_FAILURES"] + 3):
        _post(attacker, "coord@example.org", WRONG, ip=f"203.0.113.{n}")
    # The attacker (and any unknown device) now has to wait, even with the right password...
    waiting = _post(attacker, "coord@example.org", PASSWORD, ip="203.0.113.99")
    assert waiting.status_code == 429
    assert "Wait" in waiting.get_data(as_text=True)
    # ...but the coordinator's own browser gets straight in.
    assert _post(office, "coord@example.org", PASSWORD).status_code == 302
    assert office.get("/account").status_code == 200


def test_the_wait_is_short_and_grows_no_15_minute_lock(app, make_user):
    make_user("viewer", "v@example.org")
    client = app.test_client()
    start = utcnow()
    with time_machine.travel(start, tick=False):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            _post(client, "v@example.org", WRONG)
        assert _post(client, "v@example.org", PASSWORD).status_code == 429
    later = start + timedelta(seconds=app.config["LOGIN_MAX_DELAY_SECONDS"] + 1)
    with time_machine.travel(later, tick=False):
        assert _post(client, "v@example.org", PASSWORD).status_code == 302


def test_one_address_spraying_many_accounts_is_slowed_down(app, make_user):
    make_user("viewer", "v@example.org")
    client = app.test_client()
    for n in range(app.config["LOGIN_IP_FREE_FAILURES"] + 1):
        _post(client, f"guess{n}@example.org", WRONG, ip="192.0.2.50")
    assert _post(client, "v@example.org", PASSWORD, ip="192.0.2.50").status_code == 429
    # Another address is not affected.
    assert _post(app.test_client(), "v@example.org", PASSWORD, ip="192.0.2.51").status_code == 302


def _answer(app, email, password, ip):
    client = app.test_client()
    began = time.perf_counter()
    response = _post(client, email, password, ip)
    return response.status_code, response.get_data(as_text=True), time.perf_counter() - began


def test_known_and_unknown_addresses_get_the_same_answer_in_comparable_time(app, make_user):
    # Production's hash cost, which is what an attacker would time.
    app.config["PASSWORD_HASH_PROFILE"] = "RFC_9106_LOW_MEMORY"
    make_user("viewer", "known@example.org")
    answers = {"known@example.org": [], "unknown@example.org": []}
    # The clock stands still, so that a slow machine does not let a wait run out
    # for one address and not the other; the attempts alternate, so that a change
    # in the machine's load falls on both alike.
    with time_machine.travel(utcnow(), tick=False):
        for n in range(8):
            for email, seen in answers.items():
                seen.append(_answer(app, email, WRONG, f"203.0.113.{n}"))
    for known, unknown in zip(
        answers["known@example.org"], answers["unknown@example.org"], strict=True
    ):
        assert known[0] == unknown[0]
        assert _message(known[1]) == _message(unknown[1])
    # While throttled, both are answered without checking the password: same again.
    known_times = sorted(t for *_, t in answers["known@example.org"][:4])
    unknown_times = sorted(t for *_, t in answers["unknown@example.org"][:4])
    median_known, median_unknown = known_times[2], unknown_times[2]
    assert 0.5 < median_known / median_unknown < 2, (known_times, unknown_times)


def _message(page: str) -> str:
    import re

    found = re.search(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', page, re.S)
    return found.group(1).strip() if found else page[page.find("<main") :]


def test_the_owner_is_alerted_once_when_their_account_is_throttled(app, make_user, monkeypatch):
    from campaign.auth import tasks

    sent = []
    monkeypatch.setattr(tasks, "send_email", lambda to, subject, text: sent.append((to, text)))
    make_user("coordinator", "coord@example.org")
    client = app.test_client()
    for n in range(app.config["LOGIN_MAX_FAILURES"] + 4):
        _post(client, "coord@example.org", WRONG, ip=f"203.0.113.{n}")
    for n in range(3):
        _post(client, "nobody@example.org", WRONG, ip=f"203.0.114.{n}")
    tasks.send_throttle_alerts()
    tasks.send_throttle_alerts()  # idempotent: one alert per episode
    assert [to for to, _text in sent] == ["coord@example.org"]
    assert "failed" in sent[0][1] and "203.0.113." in sent[0][1]


def test_two_factor_failures_count_towards_the_account_backoff(app, make_user, db):
    from campaign.auth import twofactor

    user = make_user("coordinator", "c2@example.org")
    secret = twofactor.new_secret()
    import pyotp

    twofactor.enable(user, user, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    client = app.test_client()
    assert _post(client, "c2@example.org", PASSWORD).status_code == 302  # to the code step
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login/verify", data={"code": "000000"})
    assert _post(app.test_client(), "c2@example.org", PASSWORD, ip="203.0.113.5").status_code == 429
