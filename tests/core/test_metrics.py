"""Prometheus metrics: the figures come from the database and Redis at scrape time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from campaign.core.types import utcnow


def scrape(client, headers) -> dict:
    """{(name, frozenset(labels)): value} of one scrape."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, metric, **labels):
    return samples.get((metric, frozenset(labels.items())))


@pytest.fixture
def redis_config(app, redis_server):
    import redis

    app.config["REDIS_URL"] = redis_server.url
    celery = app.extensions["celery"]
    celery.conf.broker_url = redis_server.url
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_metrics_need_an_admin_token_or_the_metrics_token(app, api_client):
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    _viewer_client, viewer = api_client("viewer")
    assert client.get("/metrics", headers=viewer).status_code == 403
    app.config["METRICS_TOKEN"] = "scrape-secret-0123456789"
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"})
    assert ok.status_code == 200
    wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-x"})
    assert wrong.status_code == 401
    # A session login is not enough (the endpoint is for machines, with a bearer token).
    app.config["METRICS_TOKEN"] = ""


@pytest.fixture
def sending(app, db):
    """A mailing sending, one paused, one sent; deliveries in every state; bounces."""
    from campaign.core.tasks import beat
    from campaign.mailings.models import Bounce, Delivery, Mailing

    now = utcnow()
    active = Mailing(subject="Appeal", state="sending")
    paused = Mailing(subject="Update", state="paused", pause_reason="SMTP down")
    done = Mailing(subject="Outcome", state="sent")
    db.session.add_all([active, paused, done])
    db.session.flush()
    rows = []
    for _ in range(6):  # sent within the last minute
        rows.append(
            Delivery(mailing_id=active.id, state="sent", sent_at=now - timedelta(seconds=5))
        )
    for _ in range(3):
        rows.append(Delivery(mailing_id=active.id, state="queued"))
    rows.append(
        Delivery(mailing_id=active.id, state="sending", lease_until=now - timedelta(minutes=1))
    )
    rows.append(
        Delivery(mailing_id=active.id, state="sending", lease_until=now + timedelta(minutes=4))
    )
    rows.append(Delivery(mailing_id=active.id, state="failed"))
    rows += [Delivery(mailing_id=paused.id, state="queued") for _ in range(4)]
    rows += [
        Delivery(mailing_id=done.id, state="sent", sent_at=now - timedelta(days=2))
        for _ in range(5)
    ]
    rows.append(Delivery(mailing_id=done.id, state="bounced"))
    db.session.add_all(rows)
    db.session.add_all([
        Bounce(mailing_id=done.id, kind="hard", received_at=now - timedelta(hours=1)),
        Bounce(mailing_id=done.id, kind="complaint", received_at=now - timedelta(hours=2)),
        Bounce(mailing_id=done.id, kind="hard", received_at=now - timedelta(hours=30)),
    ])  # fmt: skip
    beat("tick", "test")
    db.session.commit()
    return {"active": active.id, "paused": paused.id, "done": done.id}


def test_sending_figures_from_the_database(app, api_client, sending, redis_config):
    client, headers = api_client("admin")
    samples = scrape(client, headers)
    active, paused, done = sending["active"], sending["paused"], sending["done"]

    def per_mailing(mailing_id, mailing_state, state):
        return value(
            samples, "ua_mailing_deliveries",
            mailing_id=str(mailing_id), mailing_state=mailing_state, state=state,
        )  # fmt: skip

    assert per_mailing(active, "sending", "sent") == 6
    assert per_mailing(active, "sending", "queued") == 3
    assert per_mailing(active, "sending", "sending") == 2
    assert per_mailing(active, "sending", "failed") == 1
    assert per_mailing(paused, "paused", "queued") == 4
    assert per_mailing(done, "sent", "sent") is None  # not in flight: only in the totals
    assert value(samples, "ua_deliveries", state="sent") == 11
    assert value(samples, "ua_deliveries", state="queued") == 7
    assert value(samples, "ua_deliveries", state="bounced") == 1
    assert value(samples, "ua_deliveries", state="suppressed") == 0
    assert value(samples, "ua_messages_sent_total") == 11
    assert value(samples, "ua_messages_failed_total") == 1
    assert value(samples, "ua_send_rate_per_second") == pytest.approx(6 / 60, abs=0.001)
    assert value(samples, "ua_mailings", state="paused") == 1
    assert value(samples, "ua_mailings", state="sending") == 1
    assert value(samples, "ua_mailings", state="draft") == 0
    assert value(samples, "ua_outbox_leases_expired") == 1
    assert value(samples, "ua_bounces_last_24h", kind="hard") == 1
    assert value(samples, "ua_bounces_last_24h", kind="complaint") == 1
    assert value(samples, "ua_bounces_last_24h", kind="soft") == 0
    assert 0 <= value(samples, "ua_heartbeat_age_seconds", name="tick") < 3600
    assert value(samples, "ua_redis_up") == 1
    assert value(samples, "ua_celery_queue_length", queue="celery") == 0


def test_queue_depth_counts_the_redis_lists(app, api_client, redis_config):
    celery = app.extensions["celery"]
    celery.send_task("core.tick")
    celery.send_task("core.tick")
    celery.send_task("core.tick", priority=6)  # kept in a list of its own by kombu
    client, headers = api_client("admin")
    assert value(scrape(client, headers), "ua_celery_queue_length", queue="celery") == 3


def test_redis_down_is_a_metric_not_an_error(app, api_client):
    from tests.services import free_port

    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    client, headers = api_client("admin")
    samples = scrape(client, headers)
    assert value(samples, "ua_redis_up") == 0
    assert value(samples, "ua_deliveries", state="sent") == 0


def test_http_requests_are_counted_per_endpoint_and_status(app, api_client, redis_config):
    client, headers = api_client("admin")
    before = scrape(client, headers)
    for _ in range(3):
        client.get("/healthz")
    client.get("/no/such/page")
    after = scrape(client, headers)

    def delta(metric, **labels):
        return (value(after, metric, **labels) or 0) - (value(before, metric, **labels) or 0)

    assert delta("ua_http_requests_total", endpoint="core.health", method="GET", status="200") == 3
    assert delta("ua_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1
    assert (
        delta("ua_http_request_duration_seconds_count", endpoint="core.health", method="GET") == 3
    )
    assert delta(
        "ua_http_request_duration_seconds_bucket", endpoint="core.health", method="GET", le="+Inf"
    ) == 3  # fmt: skip


@pytest.mark.slow
@pytest.mark.any_db  # Prometheus' files across gunicorn's workers; /healthz's SELECT 1 on either
def test_gunicorn_workers_add_up(app, db, tmp_path):
    """Under gunicorn (gunicorn.conf.py), every scrape counts the requests of all workers."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from tests.services import free_port

    root = Path(__file__).resolve().parents[2]
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "test",
        "METRICS_TOKEN": "scrape-token-0123456789",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "3",
             "campaign:create_app()"],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def get(path, headers=None):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.read().decode()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(log.read_text()[-3000:]) from None
                time.sleep(0.3)
        auth = {"Authorization": "Bearer scrape-token-0123456789"}

        def health_counts() -> set[float]:
            text = get("/metrics", auth)
            return {
                sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "ua_http_requests_total"
                and sample.labels.get("endpoint") == "core.health"
            }

        [before] = health_counts()
        for _ in range(30):
            get("/healthz")
        counts = set()
        for _ in range(6):  # scrapes land on different workers; each sees the sum
            counts |= health_counts()
        assert counts == {before + 30}
        assert list((tmp_path / "prometheus").glob("*.db"))
    finally:
        server.terminate()
        server.wait(30)
