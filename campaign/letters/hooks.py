"""What the letters domain contributes to core: the appeals panel of the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from campaign.cases.services import org_today
from campaign.core.dashboard import panel
from campaign.extensions import db
from campaign.supporters.models import Action


def appeals_last_days(days: int = 7) -> list[tuple]:
    """(day, count) for each of the last ``days`` days, today last, zeros included."""
    today = org_today()
    start = today - timedelta(days=days - 1)
    since = datetime.combine(start, time.min, tzinfo=UTC) - timedelta(days=1)
    day = func.date(Action.created_at)
    rows = db.session.execute(
        select(day, func.count(Action.id)).where(Action.created_at >= since).group_by(day)
    ).all()
    counts = {str(value)[:10]: count for value, count in rows}
    return [
        (start + timedelta(days=i), counts.get((start + timedelta(days=i)).isoformat(), 0))
        for i in range(days)
    ]


@panel("letters/_panel_appeals.html", order=30)
def appeals_panel() -> dict:
    appeals = appeals_last_days(7)
    return {"appeals": appeals, "appeals_top": max((count for _day, count in appeals), default=0)}
