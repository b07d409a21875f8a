"""Reports across cases: appeals, time to outcome, outcomes by country/year/theme, mailings.

Each report returns a ``Table`` (title, header, rows) that the page draws as a
table and a chart and exports as CSV; counting happens in SQL where the rows
can be many (actions, deliveries), in Python where they are few (cases).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import median

from sqlalchemy import func, select

from campaign.cases.models import Case
from campaign.extensions import db
from campaign.i18n import country_name
from campaign.mailings.models import FINAL_DELIVERY_STATES, Delivery, Mailing
from campaign.outcomes.models import IMPROVEMENTS, OUTCOMES, Closing, PersonOutcome
from campaign.supporters.models import Action


@dataclass
class Table:
    slug: str
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    # Which column to chart (index), and the label column; None: no chart.
    chart: int | None = None
    note: str = ""
    # What the charted figures count, written after each bar ("12 appeals").
    unit: str = ""

    @property
    def chartable(self) -> bool:
        """A chart is drawn only when some charted figure is above zero."""
        if self.chart is None:
            return False
        return any(
            isinstance(row[self.chart], int | float) and row[self.chart] > 0
            for row in self.rows[:15]
        )


def appeals_per_case() -> Table:
    counts = dict(
        db.session.execute(
            select(Action.case_id, func.count(Action.id)).group_by(Action.case_id)
        ).all()
    )
    people = dict(
        db.session.execute(
            select(Action.case_id, func.count(func.distinct(Action.supporter_id))).group_by(
                Action.case_id
            )
        ).all()
    )
    cases = db.session.scalars(
        select(Case).where(Case.number.is_not(None)).order_by(Case.year.desc(), Case.number.desc())
    )
    rows = [
        [case.label, case.title, case.status, counts.get(case.id, 0), people.get(case.id, 0)]
        for case in cases
    ]
    rows.sort(key=lambda r: -r[3])
    return Table(
        "appeals", "Appeals per case", ["UA", "Title", "Status", "Appeals", "Supporters who acted"],
        rows, chart=3, unit="appeals",
    )  # fmt: skip


def _first_outcomes() -> dict[int, tuple[Closing, list[str]]]:
    """Each case's first closing and the outcomes in it."""
    result: dict[int, tuple[Closing, list[str]]] = {}
    closings = db.session.scalars(select(Closing).order_by(Closing.id))
    for closing in closings:
        if closing.case_id not in result:
            result[closing.case_id] = (closing, [o.outcome for o in closing.outcomes])
    return result


def time_to_outcome() -> Table:
    first = _first_outcomes()
    rows = []
    for case in db.session.scalars(select(Case).where(Case.id.in_(list(first)))):
        closing, _outcomes = first[case.id]
        if case.issued_at is None:
            continue
        outcome_day = min(o.on for o in closing.outcomes) if closing.outcomes else None
        days = (outcome_day - case.issued_at.date()).days if outcome_day else None
        rows.append([case.label, case.title, case.issued_at.date().isoformat(),
                     outcome_day.isoformat() if outcome_day else "", days])  # fmt: skip
    rows.sort(key=lambda r: r[4] if r[4] is not None else 10**9)
    known = [r[4] for r in rows if r[4] is not None]
    note = f"Median {median(known):.0f} days over {len(known)} cases." if known else ""
    return Table(
        "time-to-outcome", "Time from issue to outcome",
        ["UA", "Title", "Issued", "First outcome", "Days"], rows, chart=4, note=note, unit="days",
    )  # fmt: skip


def _outcome_rows(group_of) -> list[list]:
    """Outcome counts (per person) grouped by what ``group_of(case)`` returns."""
    counts: dict[str, Counter] = defaultdict(Counter)
    query = (
        select(Case, PersonOutcome.outcome)
        .join(Closing, Closing.case_id == Case.id)
        .join(PersonOutcome, PersonOutcome.closing_id == Closing.id)
    )
    for case, outcome in db.session.execute(query).all():
        for group in group_of(case):
            counts[group][outcome] += 1
    rows = []
    for group, counter in sorted(counts.items()):
        total = sum(counter.values())
        improved = sum(n for o, n in counter.items() if o in IMPROVEMENTS)
        detail = ", ".join(f"{OUTCOMES[o]} {n}" for o, n in counter.most_common())
        rows.append([group, total, improved, f"{100 * improved / total:.0f}%", detail])
    return rows


_OUTCOME_HEADER = ["People with an outcome", "Improved", "Share improved", "Outcomes"]


def outcomes_by_country() -> Table:
    rows = _outcome_rows(lambda c: [country_name(c.country_code) or "No country"])
    return Table("by-country", "Outcomes by country", ["Country", *_OUTCOME_HEADER], rows, chart=1,
                 unit="people")  # fmt: skip


def outcomes_by_year() -> Table:
    rows = _outcome_rows(lambda c: [str(c.year) if c.year else "No year"])
    return Table("by-year", "Outcomes by year of the UA", ["Year", *_OUTCOME_HEADER], rows, chart=1,
                 unit="people")  # fmt: skip


def outcomes_by_theme() -> Table:
    rows = _outcome_rows(lambda c: c.themes or ["No theme"])
    return Table("by-theme", "Outcomes by theme", ["Theme", *_OUTCOME_HEADER], rows, chart=1,
                 unit="people")  # fmt: skip


def improvement_share() -> Table:
    first = _first_outcomes()
    improved = sum(1 for _c, outcomes in first.values() if set(outcomes) & IMPROVEMENTS)
    total = len(first)
    share = f"{100 * improved / total:.0f}%" if total else "–"
    return Table(
        "improvement", "Cases with an improvement",
        ["Cases with an outcome", "With an improvement for at least one person", "Share"],
        [[total, improved, share]],
    )  # fmt: skip


def mailing_statistics() -> Table:
    states = FINAL_DELIVERY_STATES
    counts: dict[int, Counter] = defaultdict(Counter)
    for mailing_id, state, n in db.session.execute(
        select(Delivery.mailing_id, Delivery.state, func.count(Delivery.id)).group_by(
            Delivery.mailing_id, Delivery.state
        )
    ).all():
        counts[mailing_id][state] = n
    rows = []
    started = db.session.execute(
        select(Mailing, Case)
        .outerjoin(Case, Case.id == Mailing.case_id)
        .where(Mailing.started_at.is_not(None))
        .order_by(Mailing.started_at.desc())
    ).all()  # one query for the cases too (was one fetch per mailing)
    for mailing, case in started:
        c = counts[mailing.id]
        total = sum(c.values())
        rows.append([
            mailing.started_at.date().isoformat(), mailing.kind_label,
            case.label if case else "", mailing.subject, total,
            *(c[s] for s in states),
            f"{100 * c['sent'] / total:.1f}%" if total else "–",
        ])  # fmt: skip
    return Table(
        "mailings", "Mailing statistics",
        ["Started", "Kind", "UA", "Subject", "Recipients", "Sent", "Failed", "Bounced",
         "Suppressed", "Delivered"],
        rows, chart=5, unit="sent",
    )  # fmt: skip


REPORTS = {
    "appeals": appeals_per_case,
    "time-to-outcome": time_to_outcome,
    "improvement": improvement_share,
    "by-country": outcomes_by_country,
    "by-year": outcomes_by_year,
    "by-theme": outcomes_by_theme,
    "mailings": mailing_statistics,
}
