"""What the cases domain contributes to core: its dashboard panel."""

from __future__ import annotations

from sqlalchemy import select

from campaign.cases.models import Case, CaseStatus
from campaign.cases.services import org_today
from campaign.core.dashboard import panel
from campaign.extensions import db


def open_appeals(limit: int = 10) -> list[tuple[Case, int | None]]:
    """Active UAs whose deadline has not passed, soonest first, with days left."""
    today = org_today()
    cases = db.session.scalars(select(Case).where(Case.status == CaseStatus.ACTIVE))
    result = []
    for case in cases:
        deadline = case.current_deadline
        if deadline is None or deadline >= today:
            result.append((case, (deadline - today).days if deadline else None))
    result.sort(key=lambda pair: (pair[1] is None, pair[1] if pair[1] is not None else 0))
    return result[:limit]


@panel("cases/_panel_open_appeals.html", order=10)
def open_appeals_panel() -> dict:
    return {"open_appeals": open_appeals()}
