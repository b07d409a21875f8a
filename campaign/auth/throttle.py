"""Login throttling: backoff, never a lockout.

Five wrong passwords used to lock an account for 15 minutes, so anyone could
keep the coordinators out during an emergency, and the different answer for a
locked account told which addresses were staff accounts. Now each key
(the address tried, the network address, or a browser that logged in before)
counts its recent failures; past a few, the next attempt has to wait 1, 2, 4...
seconds up to LOGIN_MAX_DELAY_SECONDS. The address's key is the same whether an
account exists or not, and a waiting attempt is refused before any password is
checked, so known and unknown addresses get the same answers in the same time.
A browser holding the account's signed device cookie is counted on its own
key only: whatever strangers do, staff on their usual device get in.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from campaign.auth.models import LoginThrottle
from campaign.extensions import db

WINDOW = timedelta(minutes=15)  # failures older than this are forgotten
ALERT_EVERY = timedelta(hours=1)
DEVICE_COOKIE = "ua_device"
DEVICE_DAYS = 365


def account_key(email: str) -> str:
    digest = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()
    return f"account:{digest[:40]}"


def keys_for(email: str, ip: str | None, device: str | None) -> list[str]:
    """The keys an attempt counts on: its device's alone, or the address's and the IP's."""
    if device:
        return [f"device:{device}"]
    return [account_key(email), f"ip:{ip or 'unknown'}"]


def _free(key: str) -> int:
    config = current_app.config
    return (
        config["LOGIN_IP_FREE_FAILURES"] if key.startswith("ip:") else config["LOGIN_MAX_FAILURES"]
    )


def wait_seconds(keys: list[str], now: datetime) -> int:
    """How long the attempt must wait (0: go ahead)."""
    rows = db.session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    waits = [(row.retry_at - now).total_seconds() for row in rows if row.retry_at]
    return max((math.ceil(w) for w in waits if w > 0), default=0)


def failed(keys: list[str], now: datetime, ip: str | None) -> None:
    for key in keys:
        row = db.session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_ips="", alert_due=False)
            db.session.add(row)
        if now - (row.last_failure_at or now) > WINDOW:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        free = _free(key)
        if row.failures >= free:
            delay = min(2 ** (row.failures - free), current_app.config["LOGIN_MAX_DELAY_SECONDS"])
            row.retry_at = now + timedelta(seconds=delay)
            if key.startswith("account:") and (
                row.alerted_at is None or now - row.alerted_at > ALERT_EVERY
            ):
                row.alert_due = True  # the periodic job finds the owner, if any
        if key.startswith("account:") and ip:
            row.last_ips = ", ".join(dict.fromkeys([ip, *row.last_ips.split(", ")]))[:500]
    db.session.flush()


def succeeded(keys: list[str]) -> None:
    for key in keys:
        if key.startswith("ip:"):
            continue  # one good login must not clear a spraying address's record
        row = db.session.get(LoginThrottle, key)
        if row is not None:
            row.failures, row.retry_at = 0, None


# -- the device cookie ---------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def new_device_cookie(email: str, current: str | None = None) -> str:
    """A signed cookie naming this browser and the account it logged in to."""
    device = device_for(email, current)
    return _serializer().dumps({"a": account_key(email), "d": device or secrets.token_urlsafe(16)})


def device_for(email: str, cookie: str | None) -> str | None:
    """The device id if ``cookie`` is this account's signed device cookie."""
    if not cookie or len(cookie) > 300:
        return None
    try:
        data = _serializer().loads(cookie, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != account_key(email):
        return None
    device = data.get("d")
    return device if isinstance(device, str) and 0 < len(device) <= 40 else None
