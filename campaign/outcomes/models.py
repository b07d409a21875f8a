"""Outcomes per person, closings of a case, and replies from the authorities."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.core.types import StrEnumColumn, UTCDateTime, one_of, utcnow
from campaign.extensions import db

OUTCOMES = {
    "released": "Released",
    "released_on_bail": "Released on bail",
    "charges_dropped": "Charges dropped",
    "acquitted": "Acquitted",
    "sentence_reduced": "Sentence reduced",
    "conviction_upheld": "Conviction upheld",
    "death_sentence_commuted": "Death sentence commuted",
    "executed": "Executed",
    "died_in_custody": "Died in custody",
    "transferred": "Transferred",
    "other": "Other",
}
# Outcomes that are an improvement for the person; the reports count them.
IMPROVEMENTS = frozenset(
    {
        "released",
        "released_on_bail",
        "charges_dropped",
        "acquitted",
        "sentence_reduced",
        "death_sentence_commuted",
    }
)


class Decision(StrEnum):
    NO_FURTHER_ACTION = "no_further_action"
    CONTINUE = "continue"


DECISIONS = {
    Decision.NO_FURTHER_ACTION: "No further action requested: the case closes",
    Decision.CONTINUE: "Continue appeals: the case stays active",
}


class Closing(db.Model):
    """One decision on a case: its outcomes, whether appeals stop, a closing text.

    A case can be closed, reopened by an update, and closed again; every
    closing is kept, so the history stays whole.
    """

    __tablename__ = "closings"
    __table_args__ = (CheckConstraint(one_of("decision", Decision), name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    decision: Mapped[Decision] = mapped_column(StrEnumColumn(Decision, 20))
    text: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    outcomes: Mapped[list[PersonOutcome]] = relationship(
        back_populates="closing", cascade="all, delete-orphan", order_by="PersonOutcome.id"
    )

    @property
    def summary(self) -> str:
        """The case outcome, summed up from the people's outcomes."""
        return summarise([o.outcome for o in self.outcomes])

    def __repr__(self) -> str:
        return f"<Closing {self.id} case={self.case_id} {self.decision}>"


class PersonOutcome(db.Model):
    __tablename__ = "person_outcomes"
    __table_args__ = (
        UniqueConstraint("closing_id", "person_id"),
        CheckConstraint(
            "outcome IN (" + ", ".join(f"'{k}'" for k in OUTCOMES) + ")", name="outcome"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    closing_id: Mapped[int] = mapped_column(ForeignKey("closings.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(30))
    on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")

    closing: Mapped[Closing] = relationship(back_populates="outcomes")
    person = relationship("Person", lazy="joined")

    @property
    def label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    @property
    def improved(self) -> bool:
        return self.outcome in IMPROVEMENTS


class OfficialReply(db.Model):
    """A reply received from an authority about the case."""

    __tablename__ = "official_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    sender: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    # The attached file, in the database in chunks (core.storage); None: text only.
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<OfficialReply {self.id} case={self.case_id} from {self.sender!r}>"


def summarise(outcomes: list[str]) -> str:
    if not outcomes:
        return "No outcome recorded"
    improved = sum(1 for o in outcomes if o in IMPROVEMENTS)
    if improved == len(outcomes):
        kinds = {OUTCOMES[o] for o in outcomes}
        return next(iter(kinds)) if len(kinds) == 1 else "Improvement for everyone"
    if improved:
        return f"Improvement for {improved} of {len(outcomes)}"
    kinds = {OUTCOMES[o] for o in outcomes}
    return next(iter(kinds)) if len(kinds) == 1 else "No improvement"


class NoticeTiming(StrEnum):
    ORG_TIME = "org_time"
    LOCAL_MORNING = "local_morning"


class NoticeState(StrEnum):
    """scheduled → started, or cancelled before it starts."""

    SCHEDULED = "scheduled"
    STARTED = "started"
    CANCELLED = "cancelled"


NOTICE_TIMINGS = {
    NoticeTiming.ORG_TIME: "At a time in the organisation's time zone",
    NoticeTiming.LOCAL_MORNING: "At 09:00 in each supporter's own time zone",
}
NOTICE_STATES = tuple(NoticeState)


class OutcomeNotice(db.Model):
    """The outcome notice a closing schedules, to the case audience.

    Those who acted get the thank-you variant. The row is the schedule: beat's
    tick starts a notice once it falls due, claiming it with a conditional
    UPDATE, so a restart, a catch-up after downtime or a second beat never
    sends it twice. Until it starts it can be edited or cancelled.
    """

    __tablename__ = "outcome_notices"
    __table_args__ = (
        CheckConstraint(one_of("state", NoticeState), name="state"),
        CheckConstraint(one_of("timing", NoticeTiming), name="timing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    closing_id: Mapped[int] = mapped_column(ForeignKey("closings.id", ondelete="CASCADE"))
    timing: Mapped[NoticeTiming] = mapped_column(StrEnumColumn(NoticeTiming, 15))
    # When it starts (UTC). For local_morning: the first 09:00 anywhere on local_date.
    send_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    local_date: Mapped[date | None] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    thanks_body: Mapped[str] = mapped_column(Text)
    state: Mapped[NoticeState] = mapped_column(
        StrEnumColumn(NoticeState, 10), default=NoticeState.SCHEDULED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id", ondelete="SET NULL"))
    thanks_mailing_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailings.id", ondelete="SET NULL")
    )
    appeals: Mapped[int | None]  # the count quoted in the thank-you, fixed at start

    def __repr__(self) -> str:
        return f"<OutcomeNotice {self.id} case={self.case_id} {self.state}>"


class Reminder(db.Model):
    """A deadline reminder sent for one case and deadline: at most one each."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("case_id", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    deadline: Mapped[date] = mapped_column(Date)
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


LIFECYCLE_STEPS = {
    "issue": "Issued with items missing",
    "update": "Update issued with items missing",
    "close": "Closed with items missing",
    "reopen": "Reopened",
}


class LifecycleNote(db.Model):
    """Why a coordinator took a lifecycle step against the readiness list, or reopened a case.

    The reason is part of the case's story (shown on its timeline), not only an
    audit line, so staff who pick the case up later see why it was done.
    """

    __tablename__ = "lifecycle_notes"
    __table_args__ = (
        CheckConstraint("step IN ('issue', 'update', 'close', 'reopen')", name="step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    # The readiness items that were missing at the time (their keys).
    missing: Mapped[list] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def label(self) -> str:
        return LIFECYCLE_STEPS.get(self.step, self.step)

    def __repr__(self) -> str:
        return f"<LifecycleNote {self.id} case={self.case_id} {self.step}>"
