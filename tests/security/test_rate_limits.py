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
def app_config(app_config, redis_server, _clean_redis):
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_server.url,
        "RATELIMIT_LOGIN": "3 per minute",
        "RATELIMIT_SIGNUP": "3 per minute",
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
    forged = statuses(client, path[:-2] + "xx", lambda n: {"List-Unsubscribe": "One-Click"})
    assert set(forged) == {400}
