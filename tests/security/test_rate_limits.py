"""Rate limits on public endpoints, counted in a real Redis: a burst gets 429."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import redis
from sqlalchemy import func, select

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db

BURST = 8  # the limits below allow 3


@pytest.fixture(autouse=True)
def _clean_redis(redis_server):
    """Counters and queued mail of one test must not reach another (or another module)."""
    store = redis.Redis.from_url(redis_server.url)
    store.flushdb()
    yield
    store.flushdb()
    store.close()


@pytest.fixture
def app_config(app_config, redis_server, _clean_redis, request):
    return {
        **app_config,
        # One reverse proxy in front (werkzeug's ProxyFix), for the test that says so.
        "PROXY_COUNT": 1 if "behind_a_proxy" in request.node.name else 0,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_server.url,
        "RATELIMIT_LOGIN": "3 per minute",
        "SIGNUP_RATE_LIMIT": "3 per minute",
        "RATELIMIT_PUBLIC_FORMS": "3 per minute",
    }


@pytest.fixture
def public_case(app, db):
    from campaign.cases import services as cases
    from campaign.supporters import services as supporters

    case = cases.create_case(
        None,
        {"title": "Limits", "summary": "S", "recommended_actions": "R", "languages": ["en"],
         "deadline": date.today() + timedelta(days=10)},
    )  # fmt: skip
    cases.link_person(None, case, cases.save_person(None, None, {"name": "Someone"}))
    cases.issue_case(None, case)
    supporter = supporters.create_supporter(None, {"email": "ann@example.org", "language": "en"})
    supporters.confirm(supporter, supporter.confirm_nonce)
    db.session.commit()
    return case, supporter


def statuses(client, path: str, data_for) -> list[int]:
    return [client.post(path, data=data_for(n)).status_code for n in range(BURST)]


def assert_limited(codes: list[int]) -> None:
    assert 429 not in codes[:3], codes
    assert codes[-1] == 429 and codes.count(429) >= BURST - 3, codes


def test_login_burst_is_limited(client, redis_server):
    codes = statuses(client, "/login", lambda n: {"email": f"x{n}@example.org", "password": "x"})
    assert_limited(codes)
    # The counter lives in Redis, not in this process.
    keys = redis.Redis.from_url(redis_server.url).keys("*")
    assert keys, "no rate-limit counter in Redis"


def test_two_factor_verify_burst_is_limited(client):
    assert_limited(statuses(client, "/login/verify", lambda n: {"code": f"{n:06d}"}))


def test_signup_and_confirmation_resend_burst_is_limited(app, client, db, redis_server):
    from campaign.supporters.models import Supporter

    # The confirmation mail is queued for a worker: the queue is the real Redis too.
    app.extensions["celery"].conf.broker_url = redis_server.url

    def form(n):
        # The same address again asks for the confirmation to be sent again.
        return {"email": "new@example.org", "first_name": "N", "language": "en", "consent": "y"}

    assert_limited(statuses(client, "/join", form))
    assert db.session.scalar(select(func.count()).select_from(Supporter)) == 1


def test_took_action_burst_is_limited(client, db, public_case):
    from campaign.supporters.models import Action

    case, _ = public_case
    assert_limited(
        statuses(
            client,
            f"/ua/{case.id}/actions",
            lambda n: {"email": f"p{n}@example.org", "channel": "letter"},
        )
    )
    assert db.session.scalar(select(func.count()).select_from(Action)) <= 3


def test_i_sent_my_appeal_burst_is_limited(client, public_case):
    from campaign.letters import services as letters

    case, supporter = public_case
    path = "/act/" + letters.action_token(case, supporter)
    assert_limited(statuses(client, path, lambda n: {"channel": "letter"}))


def test_one_click_unsubscribe_is_never_refused_and_changes_state_once(client, db, public_case):
    """RFC 8058: a mail provider's one-click POST must work; the signed token is the guard."""
    from campaign.supporters import tokens
    from campaign.supporters.models import ConsentEvent

    _case, supporter = public_case
    path = f"/unsubscribe/{tokens.unsubscribe_token(supporter)}"
    events_before = db.session.scalar(select(func.count()).select_from(ConsentEvent))
    codes = statuses(client, path, lambda n: {"List-Unsubscribe": "One-Click"})
    assert codes == [200] * BURST
    db.session.expire_all()
    assert supporter.state == "unsubscribed"
    events = db.session.scalar(select(func.count()).select_from(ConsentEvent))
    assert events == events_before + 1  # a flood of clicks writes one change, not many
    # Forged tokens change nothing and cost only a signature check.
    # One character of the signature changed (not the last: its low bits may be
    # unused by base64, so changing only them can leave the signature valid).
    spot = path[-10]
    forged_path = path[:-10] + ("A" if spot != "A" else "B") + path[-9:]
    forged = statuses(client, forged_path, lambda n: {"List-Unsubscribe": "One-Click"})
    assert set(forged) == {400}


@pytest.fixture
def printable_case(app, db, public_case):
    from campaign.cases import services as cases
    from campaign.letters import services as letters

    case, supporter = public_case
    cases.save_target(None, case, None, {"name": "Prosecutor", "address": "1 Street, Town"})
    letters.save_letter(
        None, case, None, {"language": "en", "subject": "Appeal", "body": "Release them."}
    )
    db.session.commit()
    return "/act/" + letters.action_token(case, supporter) + "/letters.pdf"


def test_letter_pdf_burst_is_limited(app, client, printable_case):
    # ~1 s of CPU per PDF, anonymous: the limit is a setting of its own.
    app.config["RATELIMIT_LETTER_PDF"] = "3 per minute"
    codes = [client.get(printable_case).status_code for _ in range(5)]
    assert codes[:3] == [200] * 3 and codes[3:] == [429, 429], codes


def _join_from(client, address: str, forwarded: str | None, n: int) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    data = {"email": f"p{n}@example.org", "first_name": "N", "language": "en", "consent": "y"}
    response = client.post(
        "/join", data=data, headers=headers, environ_overrides={"REMOTE_ADDR": address}
    )
    return response.status_code


def test_behind_a_proxy_each_visitor_has_their_own_limit(app, client, redis_server):
    """PROXY_COUNT=1: the limiter keys on X-Forwarded-For set by the one proxy, not on
    the proxy's own address (which every visitor would share)."""
    assert app.config["PROXY_COUNT"] == 1
    app.extensions["celery"].conf.broker_url = redis_server.url
    first = [_join_from(client, "10.0.0.1", "203.0.113.7", n) for n in range(4)]
    second = [_join_from(client, "10.0.0.1", "198.51.100.9", n + 10) for n in range(3)]
    assert first[-1] == 429 and 429 not in second, (first, second)
    # A client cannot pick its own key by sending more addresses: the proxy's
    # (rightmost) entry is the one used.
    spoofed = [
        _join_from(client, "10.0.0.1", f"192.0.2.{n}, 203.0.113.7", n + 20) for n in range(2)
    ]
    assert spoofed == [429, 429]


def test_without_proxy_count_forwarded_headers_are_ignored(app, client, redis_server):
    app.extensions["celery"].conf.broker_url = redis_server.url
    codes = [_join_from(client, "10.0.0.1", f"203.0.113.{n}", n) for n in range(5)]
    assert codes[-1] == 429, codes
