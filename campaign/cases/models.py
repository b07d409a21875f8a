"""Cases (one UA each), their updates, people at risk and targets."""

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

from campaign.cases.labels import case_label, update_label
from campaign.core.types import StrEnumColumn, UTCDateTime, one_of, utcnow
from campaign.extensions import db


class CaseStatus(StrEnum):
    """draft → active → closed (an update can reopen a closed case)."""

    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class UpdateKind(StrEnum):
    FURTHER_ACTION = "further_action"
    NO_FURTHER_ACTION = "no_further_action"


CASE_STATUSES = tuple(CaseStatus)
UPDATE_KINDS = {
    UpdateKind.FURTHER_ACTION: "Further action requested",
    UpdateKind.NO_FURTHER_ACTION: "No further action requested",
}
PERSON_STATUSES = {
    "at_risk": "At risk",
    "detained": "Detained",
    "charged": "Charged",
    "on_trial": "On trial",
    "sentenced": "Sentenced",
    "hunger_strike": "On hunger strike",
    "ill_treated": "Ill-treated",
    "disappeared": "Disappeared",
    "released": "Released",
    "exiled": "Exiled",
    "deported": "Deported",
    "other": "Other",
}


class CaseNumberCounter(db.Model):
    """The last UA number issued per year; its row lock serialises issuing."""

    __tablename__ = "case_number_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class CasePerson(db.Model):
    __tablename__ = "case_people"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship(lazy="joined")


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("number", "year"),
        CheckConstraint(one_of("status", CaseStatus), name="status"),
        CheckConstraint(
            "(number IS NULL AND year IS NULL) OR (number > 0 AND year >= 1961)", name="number"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int | None]
    year: Mapped[int | None] = mapped_column(index=True)
    index_reference: Mapped[str | None] = mapped_column(String(40))
    country_code: Mapped[str | None] = mapped_column(String(2), index=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    background: Mapped[str] = mapped_column(Text, default="")
    recommended_actions: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date | None] = mapped_column(Date)
    # Not public (page, links) before this moment, even when issued.
    embargo_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    # The language the title, summary and actions above are written in; other
    # languages' text is in case_texts (campaign.cases.texts).
    text_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    themes: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[CaseStatus] = mapped_column(
        StrEnumColumn(CaseStatus, 10), default=CaseStatus.DRAFT, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    links: Mapped[list[CasePerson]] = relationship(
        order_by="CasePerson.position", cascade="all, delete-orphan"
    )
    updates: Mapped[list[CaseUpdate]] = relationship(
        back_populates="case", order_by="CaseUpdate.sequence", cascade="all, delete-orphan"
    )
    targets: Mapped[list[Target]] = relationship(
        back_populates="case", order_by="(Target.is_copy, Target.id)", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return case_label(self.number, self.year) if self.number else "Draft"

    @property
    def people(self) -> list[Person]:
        return [link.person for link in self.links]

    @property
    def current_deadline(self) -> date | None:
        """The deadline, as extended by the latest update that set one."""
        for update in reversed(self.updates):
            if update.new_deadline:
                return update.new_deadline
        return self.deadline

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.label} {self.status}>"


class CaseUpdate(db.Model):
    __tablename__ = "case_updates"
    __table_args__ = (
        UniqueConstraint("case_id", "sequence"),
        CheckConstraint(one_of("kind", UpdateKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[UpdateKind] = mapped_column(StrEnumColumn(UpdateKind, 20))
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    new_deadline: Mapped[date | None] = mapped_column(Date)
    index_reference: Mapped[str | None] = mapped_column(String(40))  # its own sheet's
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    case: Mapped[Case] = relationship(back_populates="updates")

    @property
    def label(self) -> str:
        return update_label(self.sequence)

    @property
    def full_label(self) -> str:
        return f"{update_label(self.sequence)} of {self.case.label}"

    def __repr__(self) -> str:
        return f"<CaseUpdate {self.id} {self.sequence} case={self.case_id}>"


class Person(db.Model):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    gender: Mapped[str] = mapped_column(String(30), default="")
    pronoun: Mapped[str] = mapped_column(String(30), default="")
    consent_to_name: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Space-separated transliteration keys of every word of every spelling,
    # with a leading space, so that " key" LIKE-matches the start of a word.
    search_keys: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    aliases: Mapped[list[PersonAlias]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PersonAlias.id"
    )
    statuses: Mapped[list[PersonStatus]] = relationship(
        back_populates="person",
        cascade="all, delete-orphan",
        order_by="(PersonStatus.on, PersonStatus.id)",
    )

    @property
    def spellings(self) -> list[str]:
        return [self.name, *(a.spelling for a in self.aliases)]

    @property
    def current_status(self) -> PersonStatus | None:
        return self.statuses[-1] if self.statuses else None

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.name}>"


class PersonAlias(db.Model):
    __tablename__ = "person_aliases"
    __table_args__ = (UniqueConstraint("person_id", "spelling"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    spelling: Mapped[str] = mapped_column(String(200))

    person: Mapped[Person] = relationship(back_populates="aliases")


class PersonStatus(db.Model):
    __tablename__ = "person_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")

    person: Mapped[Person] = relationship(back_populates="statuses")

    @property
    def status_label(self) -> str:
        return PERSON_STATUSES.get(self.status, self.status)


class Target(db.Model):
    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    fax: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    social: Mapped[str] = mapped_column(String(300), default="")
    salutation: Mapped[str] = mapped_column(String(200), default="")
    # The salutation in other languages than ``salutation``'s: {"ru": "Уважаемый ..."}.
    salutations: Mapped[dict] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(8), default="")
    is_copy: Mapped[bool] = mapped_column(default=False)
    # For copies such as an embassy: the supporters' country it serves.
    copy_country: Mapped[str | None] = mapped_column(String(2))

    case: Mapped[Case] = relationship(back_populates="targets")

    @property
    def heading(self) -> str:
        return " · ".join(p for p in (self.title, self.name) if p) or self.organisation

    def __repr__(self) -> str:
        return f"<Target {self.id} {self.heading!r} case={self.case_id}>"


# The parts of a case that are written in a language: each may be translated.
TRANSLATED_FIELDS = ("title", "summary", "recommended_actions", "background", "closing_text")


class CaseText(db.Model):
    """A case's text in one more language (the main language's text is on the case).

    Real UAs are issued in several languages; a supporter reads the one in
    their language when it exists (campaign.cases.texts).
    """

    __tablename__ = "case_texts"
    __table_args__ = (UniqueConstraint("case_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    recommended_actions: Mapped[str] = mapped_column(Text, default="")
    background: Mapped[str] = mapped_column(Text, default="")
    # What the outcome notice says when the case closes (the main language's is the closing's).
    closing_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<CaseText case={self.case_id} {self.language}>"
