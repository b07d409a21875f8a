"""Home, health and the system status page."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from sqlalchemy import select, text

from campaign.auth.roles import public, requires
from campaign.core.models import Heartbeat
from campaign.core.types import utcnow
from campaign.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/")
@requires("viewer")
def home():
    return redirect(url_for("cases.index"))


@bp.get("/healthz")
@public
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


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
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
