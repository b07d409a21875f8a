"""The staff dashboard: what needs attention now, drawn from every domain."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from campaign.cases.models import Case
from campaign.cases.services import org_today
from campaign.extensions import db


def open_appeals(limit: int = 10) -> list[tuple[Case, int | None]]:
    """Active UAs whose deadline has not passed, soonest first, with days left."""
    today = org_today()
    cases = db.session.scalars(select(Case).where(Case.status == "active"))
    result = []
    for case in cases:
        deadline = case.current_deadline
        if deadline is None or deadline >= today:
            result.append((case, (deadline - today).days if deadline else None))
    result.sort(key=lambda pair: (pair[1] is None, pair[1] if pair[1] is not None else 0))
    return result[:limit]


def mailings_in_flight() -> list[tuple]:
    from campaign.mailings.models import Mailing
    from campaign.mailings.services import progress

    mailings = db.session.scalars(
        select(Mailing)
        .where(Mailing.state.in_(("sending", "paused", "scheduled")))
        .order_by(Mailing.id.desc())
        .limit(10)
    )
    return [(mailing, progress(mailing)) for mailing in mailings]


def appeals_last_days(days: int = 7) -> list[tuple]:
    """(day, count) for each of the last ``days`` days, today last, zeros included."""
    from campaign.letters.models import Action

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


def recent_outcomes(limit: int = 5) -> list:
    from campaign.outcomes.models import Closing

    closings = db.session.scalars(select(Closing).order_by(Closing.decided_at.desc()).limit(limit))
    return [(closing, db.session.get(Case, closing.case_id)) for closing in closings]


def bounces_needing_attention(limit: int = 10) -> list:
    from campaign.mailings.models import Bounce

    return list(db.session.scalars(select(Bounce).order_by(Bounce.received_at.desc()).limit(limit)))
