"""Prometheus metrics at ``GET /metrics`` (docs/OPERATIONS.md, "Metrics").

Sending figures (registered by the mailings domain with :func:`collector`)
come from the database at scrape time, so they hold across
any number of worker processes and machines and survive restarts: deliveries
by state (one grouped query), messages sent and failed, the send rate of the
last minute, expired outbox leases, bounces of the last 24 hours, heartbeat
ages. The Celery queue depth is the length of the Redis lists. HTTP request
counts and latencies are counted in the web process; under gunicorn set
``PROMETHEUS_MULTIPROC_DIR`` so that all its worker processes add up.

The endpoint takes a bearer token: ``METRICS_TOKEN``, or an admin's API token.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps

import redis
from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import select

from campaign.core.models import Heartbeat
from campaign.core.roles import api_requires, bearer_token
from campaign.core.types import utcnow
from campaign.extensions import db

bp = Blueprint("metrics", __name__)
# Functions of the scrape's time returning metric families, registered by the
# domains' hooks modules with :func:`collector` (core knows no domain).
COLLECTORS: list[Callable[[datetime], list]] = []
# kombu's Redis transport keeps priorities 3, 6 and 9 in lists of their own.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")

# The web process's own metrics; in multiprocess mode prometheus_client keeps
# their values in files under PROMETHEUS_MULTIPROC_DIR.
HTTP_REGISTRY = CollectorRegistry()
HTTP_REQUESTS = Counter(
    "ua_http_requests",
    "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
    registry=HTTP_REGISTRY,
)
HTTP_LATENCY = Histogram(
    "ua_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=HTTP_REGISTRY,
)


def collector(function: Callable[[datetime], list]) -> Callable[[datetime], list]:
    """Register ``function(now)`` to add its metric families to every scrape."""
    COLLECTORS.append(function)
    return function


def metrics_token_or_admin(view):
    """``METRICS_TOKEN`` as a bearer token, else an admin's API token."""
    guarded = api_requires("admin")(view)

    @wraps(view)
    def wrapped(*args, **kwargs):
        expected = current_app.config["METRICS_TOKEN"]
        given = bearer_token() or ""
        if expected and hmac.compare_digest(given.encode(), expected.encode()):
            return view(*args, **kwargs)
        return guarded(*args, **kwargs)

    wrapped.required_role = guarded.required_role  # type: ignore[attr-defined]
    return wrapped


@bp.get("/metrics")
@metrics_token_or_admin
def metrics():
    registry = CollectorRegistry()
    registry.register(_DatabaseCollector(_database_families()))
    body = generate_latest(registry) + _http_metrics()
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


class _DatabaseCollector:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def _http_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(HTTP_REGISTRY)


def _database_families() -> list:
    now = utcnow()
    families = []
    for collect in COLLECTORS:
        families += collect(now)
    heartbeat = GaugeMetricFamily(
        "ua_heartbeat_age_seconds",
        "Seconds since each background process last showed life (tick: beat and a worker).",
        labels=["name"],
    )
    for row in db.session.scalars(select(Heartbeat)):
        heartbeat.add_metric([row.name], round((now - row.at).total_seconds(), 1))
    families.append(heartbeat)
    families += _queue_families()
    return families


def queue_names() -> list[str]:
    config = current_app.config["CELERY"]
    names = {config.get("task_default_queue", "celery")}
    names |= {q if isinstance(q, str) else q.name for q in config.get("task_queues") or ()}
    return sorted(names)


def _queue_families() -> list:
    depth = GaugeMetricFamily(
        "ua_celery_queue_length", "Tasks waiting in each Celery queue (Redis).", labels=["queue"]
    )
    up = GaugeMetricFamily("ua_redis_up", "1 when Redis answered this scrape.")
    client = redis.Redis.from_url(
        current_app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=2
    )
    try:
        with client.pipeline(transaction=False) as pipe:
            names = queue_names()
            for name in names:
                for suffix in _PRIORITY_SUFFIXES:
                    pipe.llen(name + suffix)
            lengths = pipe.execute()
    except redis.RedisError:
        up.add_metric([], 0)
        return [up]
    finally:
        client.close()
    step = len(_PRIORITY_SUFFIXES)
    for index, name in enumerate(names):
        depth.add_metric([name], sum(lengths[index * step : (index + 1) * step]))
    up.add_metric([], 1)
    return [depth, up]


def _start():
    g.metrics_started = time.perf_counter()


def _observe(response):
    started = g.get("metrics_started")
    endpoint = request.endpoint or "unmatched"
    HTTP_REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    if started is not None:
        HTTP_LATENCY.labels(endpoint, request.method).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _observe)
