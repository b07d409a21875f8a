"""What the outcomes domain contributes to the layers below it: the recent
outcomes panel of the dashboard, and the closings the public case page shows."""

from __future__ import annotations

from sqlalchemy import select

from campaign.cases.models import Case
from campaign.core.dashboard import panel
from campaign.extensions import db
from campaign.letters.appeal import closing_finder
from campaign.outcomes import guide
from campaign.outcomes.models import Closing
from campaign.outcomes.services import latest_closing

closing_finder(latest_closing)


def recent_outcomes(limit: int = 5) -> list:
    closings = db.session.scalars(select(Closing).order_by(Closing.decided_at.desc()).limit(limit))
    return [(closing, db.session.get(Case, closing.case_id)) for closing in closings]


@panel("outcomes/_panel_recent.html", order=40)
def recent_outcomes_panel() -> dict:
    return {"outcomes": recent_outcomes()}


@panel("outcomes/_dashboard_next.html", order=15)
def next_steps_panel() -> dict:
    """Per active UA (and draft), the next thing to do."""
    return {"steps": guide.next_steps()}
