"""Periodic job: tell staff when strangers' failed logins slow down their account."""

from __future__ import annotations

import logging

from sqlalchemy import select

from campaign.auth import throttle
from campaign.auth.models import LoginThrottle, User
from campaign.core.mail import send_email
from campaign.core.tasks import periodic
from campaign.core.types import utcnow
from campaign.extensions import db

log = logging.getLogger(__name__)

ALERT = """Hello {name},

Someone has repeatedly failed to log in to your Urgent Action account ({email}):
{failures} failed attempts, the last at {last} UTC, from {ips}.

If it was you, nothing needs doing. Logins from a browser you have used before
are not slowed down, so you can still log in as usual.

If it was not you, your password has held, but tell an admin. If you think your
password may be known to someone else, change it on your account page.
"""


@periodic
def send_throttle_alerts() -> None:
    """Alert the owner of each account whose throttling has begun (at most hourly).

    Done here, not in the login request, so that the request for an existing
    account costs what a request for an unknown address costs.
    """
    due = list(db.session.scalars(select(LoginThrottle).where(LoginThrottle.alert_due.is_(True))))
    if not due:
        return
    owners = {throttle.account_key(u.email): u for u in db.session.scalars(select(User))}
    for row in due:
        row.alert_due = False
        user = owners.get(row.key)
        if user is None or not user.active:
            continue  # an address with no account: nobody to tell
        row.alerted_at = utcnow()
        text = ALERT.format(
            name=user.display, email=user.email, failures=row.failures,
            last=row.last_failure_at.strftime("%Y-%m-%d %H:%M"), ips=row.last_ips or "unknown",
        )  # fmt: skip
        try:
            send_email(user.email, "Failed logins to your Urgent Action account", text)
        except OSError:
            log.warning("could not send the failed-login alert to user %s", user.id)
            row.alert_due, row.alerted_at = True, None  # try again on the next tick
