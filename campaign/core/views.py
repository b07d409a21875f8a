"""Home, health and the system status page."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, abort, current_app, jsonify, render_template
from flask_login import current_user
from sqlalchemy import select, text

from campaign.core import dashboard
from campaign.core.models import Heartbeat
from campaign.core.roles import has_role, public, requires
from campaign.core.types import utcnow
from campaign.extensions import db

bp = Blueprint("core", __name__)


def _visitor() -> bool:
    return not current_user.is_authenticated


@bp.get("/")
@public
def home():
    """Staff get the dashboard; a visitor the public front door (supporters.front)."""
    if _visitor():
        return current_app.view_functions["supporters.front"]()
    if not has_role(current_user, "viewer"):
        abort(403)
    return render_template("core/dashboard.html", panels=dashboard.panels())


home.supporter_page = _visitor  # campaign.i18n: the visitor's language, not staff English


@bp.get("/healthz")
@public
def health():
    """The web process and its database answer."""
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


@bp.get("/healthz/worker")
@public
def worker_health():
    """Beat and a worker ran the tick recently (503 when stalled, for a monitor)."""
    row = db.session.get(Heartbeat, "tick")
    age = (utcnow() - row.at).total_seconds() if row else None
    limit = 6 * current_app.config["CELERY"]["beat_schedule"]["tick"]["schedule"] + 30
    healthy = age is not None and age <= limit
    body = {"status": "ok" if healthy else "stalled", "last_tick_seconds_ago": age}
    return jsonify(body), 200 if healthy else 503


@bp.get("/admin/system")
@requires("admin")
def system():
    beats = list(db.session.scalars(select(Heartbeat).order_by(Heartbeat.name)))
    now = utcnow()
    config = current_app.config
    return render_template(
        "admin/system.html",
        beats=[(b, int((now - b.at).total_seconds())) for b in beats],
        database=db.engine.url.render_as_string(hide_password=True),
        redis=_hide_password(config["REDIS_URL"]),
        smtp=_hide_password(config["SMTP_URL"]),
        base_url=config["BASE_URL"],
        timezone=config["ORG_TIMEZONE"],
    )


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
