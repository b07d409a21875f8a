"""The guided path of a UA: what is ready before each step, and what to do next.

Issuing, issuing an update and closing each show a readiness list first. An
item marked ``required`` stops the step (the emails cannot be written without
it); any other missing item can be overridden by a coordinator who gives a
reason, which is kept as a ``LifecycleNote`` on the case's timeline.

``next_step`` tells the case page and the dashboard the one thing to do now.
It lives in outcomes, the highest domain, because it reads letters, mailings
and notices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from campaign.audit.services import record
from campaign.cases import services as cases
from campaign.cases.labels import case_label
from campaign.cases.models import Case, CaseNumberCounter, CaseStatus, CaseUpdate, UpdateKind
from campaign.core.errors import Conflict, ValidationError
from campaign.extensions import db
from campaign.i18n import country_name, language_name
from campaign.letters.models import LetterTemplate
from campaign.mailings import services as mailings
from campaign.mailings.models import Mailing, MailingKind, MailingState
from campaign.outcomes import lifecycle, services
from campaign.outcomes.models import Decision, LifecycleNote, NoticeState, OutcomeNotice

MAX_REASON = 2000


@dataclass
class Item:
    """One line of a readiness list."""

    key: str
    label: str
    ok: bool
    detail: str = ""
    # Where to fix it: an endpoint and its arguments (the view builds the URL).
    fix: tuple[str, dict] | None = None
    fix_label: str = ""
    required: bool = False

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "ok": self.ok,
            "detail": self.detail,
            "required": self.required,
        }


@dataclass
class Readiness:
    step: str
    items: list[Item] = field(default_factory=list)

    @property
    def missing(self) -> list[Item]:
        return [item for item in self.items if not item.ok]

    @property
    def blocking(self) -> list[Item]:
        return [item for item in self.missing if item.required]

    @property
    def complete(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict:
        return {
            "step": self.step,
            "complete": self.complete,
            "items": [item.as_dict() for item in self.items],
        }


def _edit(case: Case, anchor: str) -> tuple[str, dict]:
    return ("cases.edit", {"case_id": case.id, "_anchor": anchor})


def _show(case: Case, anchor: str) -> tuple[str, dict]:
    return ("cases.show", {"case_id": case.id, "_anchor": anchor})


def _officials(case: Case) -> Item:
    main = [t for t in case.targets if not t.is_copy]
    if not main:
        return Item(
            "officials",
            "Officials to write to, each with a salutation",
            False,
            "No official yet.",
            ("cases.target_form", {"case_id": case.id}),
            "Add an official",
        )
    bare = [t for t in main if not t.salutation.strip()]
    if bare:
        return Item(
            "officials",
            "Officials to write to, each with a salutation",
            False,
            "No salutation for " + ", ".join(t.heading for t in bare) + ".",
            ("cases.target_form", {"case_id": case.id, "target_id": bare[0].id}),
            f"Add the salutation of {bare[0].heading}",
        )
    names = ", ".join(t.heading for t in main)
    return Item("officials", "Officials to write to, each with a salutation", True, names)


def appeal_languages(case: Case) -> list[str]:
    return list(case.languages or []) or ["en"]


def letter_items(case: Case) -> list[Item]:
    have = set(
        db.session.scalars(
            select(LetterTemplate.language).where(
                LetterTemplate.case_id == case.id, LetterTemplate.update_id.is_(None)
            )
        )
    )
    items = []
    for code in appeal_languages(case):
        name = language_name(code)
        ok = code in have
        items.append(
            Item(
                f"letter-{code}",
                f"A model letter in {name}",
                ok,
                "" if ok else f"No {name} letter yet.",
                None if ok else ("letters.edit", {"case_id": case.id}),
                f"Write the {name} letter",
            )
        )
    return items


def _deadline(case: Case, today: date, deadline: date | None, label: str) -> Item:
    if deadline is None:
        return Item(
            "deadline", label, False, "No deadline.", _edit(case, "deadline"), "Set the deadline"
        )
    if deadline < today:
        return Item(
            "deadline",
            label,
            False,
            f"The deadline, {deadline:%-d %B %Y}, has passed.",
            _edit(case, "deadline"),
            "Change the deadline",
        )
    return Item("deadline", label, True, f"{deadline:%-d %B %Y}")


def issue_readiness(case: Case, today: date | None = None) -> Readiness:
    today = today or cases.org_today()
    people = case.people
    items = [
        Item(
            "summary",
            "A summary",
            bool(case.summary.strip()),
            "" if case.summary.strip() else "No summary yet.",
            _edit(case, "summary"),
            "Write the summary",
            required=True,
        ),
        Item(
            "recommended_actions",
            "Recommended actions",
            bool(case.recommended_actions.strip()),
            "" if case.recommended_actions.strip() else "No recommended actions yet.",
            _edit(case, "recommended_actions"),
            "Write the recommended actions",
            required=True,
        ),
        Item(
            "people",
            "People at risk",
            bool(people),
            ", ".join(p.name for p in people) if people else "Nobody yet.",
            None if people else _show(case, "people"),
            "Add a person",
        ),
        _officials(case),
        *letter_items(case),
        _deadline(case, today, case.deadline, "An appeal deadline"),
        Item(
            "country",
            "A country",
            bool(case.country_code),
            country_name(case.country_code) if case.country_code else "No country.",
            None if case.country_code else _edit(case, "country_code"),
            "Choose the country",
        ),
        Item(
            "index_reference",
            "The index reference",
            bool(case.index_reference),
            case.index_reference or "No index reference.",
            None if case.index_reference else _edit(case, "index_reference"),
            "Add the index reference",
        ),
    ]
    return Readiness("issue", items)


def update_readiness(
    case: Case,
    *,
    kind: str = UpdateKind.FURTHER_ACTION,
    body: str | None = None,
    new_deadline: date | None = None,
    today: date | None = None,
) -> Readiness:
    today = today or cases.org_today()
    items = []
    if body is not None:  # None: the form is not filled in yet
        written = bool(body.strip())
        items.append(
            Item(
                "body",
                "What has happened",
                written,
                "" if written else "Not written yet.",
                required=True,
            )
        )
    if kind == UpdateKind.FURTHER_ACTION:
        deadline = new_deadline or case.current_deadline
        items.append(_deadline(case, today, deadline, "A deadline still ahead"))
        items.append(_officials(case))
    items.append(_appeal_sent(case))
    return Readiness("update", items)


def _appeal_sent(case: Case) -> Item:
    sent = db.session.scalar(
        select(func.count(Mailing.id)).where(
            Mailing.case_id == case.id, Mailing.started_at.is_not(None)
        )
    )
    return Item(
        "audience",
        "Supporters who received the appeal",
        bool(sent),
        "" if sent else "No mailing of this UA has gone out: nobody would get the news.",
        None if sent else ("outcomes.guide_appeal", {"case_id": case.id}),
        "Send the appeal",
    )


def close_readiness(case: Case) -> Readiness:
    people = case.people
    busy = db.session.scalar(
        select(func.count(Mailing.id)).where(
            Mailing.case_id == case.id,
            Mailing.state.in_((MailingState.SCHEDULED, MailingState.SENDING, MailingState.PAUSED)),
        )
    )
    items = [
        Item(
            "people",
            "People at risk, to record an outcome for each",
            bool(people),
            ", ".join(p.name for p in people) if people else "Nobody on this UA.",
            None if people else _show(case, "people"),
            "Add a person",
            required=True,
        ),
        Item(
            "mailings",
            "No mailing of this UA still sending",
            not busy,
            ""
            if not busy
            else f"{busy} mailing{'s' if busy != 1 else ''} of this UA still "
            "scheduled or sending: supporters may be asked to act after the close.",
            None if not busy else ("mailings.index", {}),
            "See the mailings",
        ),
    ]
    return Readiness("close", items)


# --- numbering preview ---------------------------------------------------------


def next_label(case: Case, today: date | None = None) -> str:
    """The label issuing would give now (another issuer may take it first)."""
    if case.number:
        return case.label
    year = (today or cases.org_today()).year
    counter = db.session.get(CaseNumberCounter, year)
    used = db.session.scalar(select(func.max(Case.number)).where(Case.year == year)) or 0
    return case_label(max(used, counter.last_number if counter else 0) + 1, year)


# --- taking the steps ------------------------------------------------------------


def _clean_reason(reason: str | None) -> str:
    return " ".join((reason or "").split())[:MAX_REASON]


def _check(readiness: Readiness, reason: str | None, what: str) -> str:
    if readiness.blocking:
        first = readiness.blocking[0]
        raise ValidationError(f"{first.label} is needed before {what}: {first.detail}", first.key)
    reason = _clean_reason(reason)
    if readiness.missing and not reason:
        names = "; ".join(item.label.lower() for item in readiness.missing)
        raise ValidationError(
            f"Missing: {names}. Complete them, or give the reason to go ahead anyway.", "reason"
        )
    return reason


def note(actor, case: Case, step: str, reason: str, missing: list[Item]) -> LifecycleNote:
    item = LifecycleNote(
        case_id=case.id,
        step=step,
        reason=reason,
        missing=[i.key for i in missing],
        by_id=getattr(actor, "id", None),
    )
    db.session.add(item)
    db.session.flush()
    return item


def issue(actor, case: Case, *, reason: str | None = None, today: date | None = None) -> Case:
    """Issue a draft after its readiness check; items missing need a recorded reason."""
    if case.status != CaseStatus.DRAFT:
        raise Conflict(f"{case.label} has already been issued.", "status")
    readiness = issue_readiness(case, today)
    reason = _check(readiness, reason, "issuing")
    cases.issue_case(actor, case, today=today)
    if readiness.missing:
        note(actor, case, "issue", reason, readiness.missing)
        record(
            actor,
            "case.issue_incomplete",
            case,
            f"{case.label} issued incomplete: {reason}",
            {"missing": [i.key for i in readiness.missing]},
        )
    return case


def issue_update(
    actor,
    case: Case,
    *,
    kind: str,
    body: str,
    title: str = "",
    new_deadline: date | None = None,
    reason: str | None = None,
) -> CaseUpdate:
    if case.status == CaseStatus.CLOSED and kind == UpdateKind.NO_FURTHER_ACTION:
        raise Conflict(
            f"{case.label} is closed: reopen it first, or issue news that asks for action again.",
            "status",
        )
    readiness = update_readiness(case, kind=kind, body=body or "", new_deadline=new_deadline)
    reason = _check(readiness, reason, "issuing the update")
    item = cases.add_update(
        actor, case, kind=kind, body=body, title=title, new_deadline=new_deadline
    )
    if readiness.missing:
        note(actor, case, "update", reason, readiness.missing)
    return item


def close(
    actor,
    case: Case,
    *,
    decision: str,
    outcomes: list[dict],
    text: str = "",
    reason: str | None = None,
    today: date | None = None,
):
    readiness = close_readiness(case)
    if readiness.blocking:
        _check(readiness, reason, "recording the outcome")
    # The outcomes are checked first: their errors are the ones staff can act on.
    closing = services.close_case(
        actor, case, decision=decision, outcomes=outcomes, text=text, today=today
    )
    reason = _check(readiness, reason, "recording the outcome")
    if readiness.missing:
        note(actor, case, "close", reason, readiness.missing)
    return closing


def reopen(actor, case: Case, *, reason: str | None) -> Case:
    """closed → active, with the reason on the timeline (news that needs action)."""
    if case.status != CaseStatus.CLOSED:
        raise Conflict(
            f"{case.label} is {case.status}: only a closed UA can be reopened.", "status"
        )
    reason = _clean_reason(reason)
    if not reason:
        raise ValidationError("Say why the UA is reopened.", "reason")
    case.status = CaseStatus.ACTIVE
    note(actor, case, "reopen", reason, [])
    record(actor, "case.reopen", case, f"Reopened {case.label}: {reason}")
    return case


# --- the appeal mailing ------------------------------------------------------------


def appeal_mailing(case: Case):
    """The appeal mailing of the case, if one was drafted (the latest)."""
    return db.session.scalar(
        select(Mailing)
        .where(Mailing.case_id == case.id, Mailing.kind == MailingKind.APPEAL)
        .order_by(Mailing.id.desc())
        .limit(1)
    )


def draft_appeal(actor, case: Case):
    """Draft the appeal mailing: subject from the label and title, to every subscriber.

    Drafting twice returns the first draft; the letters must exist in each
    appeal language (the appeal email carries them).
    """
    if case.status != CaseStatus.ACTIVE:
        raise Conflict(
            f"{case.label} is {case.status}: only an active UA is appealed for.", "status"
        )
    existing = appeal_mailing(case)
    if existing is not None and existing.state != MailingState.CANCELLED:
        return existing
    letters = [item for item in letter_items(case) if not item.ok]
    if letters:
        raise ValidationError(
            "Write the model letters first: " + "; ".join(i.detail for i in letters), letters[0].key
        )
    return mailings.create_mailing(
        actor,
        kind=MailingKind.APPEAL,
        subject=f"{case.label}: {case.title}"[:300],
        case_id=case.id,
        everyone=True,
    )


# --- the next step ------------------------------------------------------------------


@dataclass
class Step:
    text: str
    endpoint: str | None = None
    args: dict = field(default_factory=dict)
    role: str = "viewer"
    urgent: bool = False

    def as_dict(self) -> dict:
        return {"text": self.text, "role": self.role, "urgent": self.urgent}


def next_step(case: Case, today: date | None = None) -> Step | None:
    """The one thing to do now on this UA, or None when nothing is left."""
    today = today or cases.org_today()
    if case.status == CaseStatus.DRAFT:
        missing = issue_readiness(case, today).missing
        if missing:
            count = len(missing)
            return Step(
                f"Complete the draft: {count} item{'s' if count != 1 else ''} missing",
                "outcomes.issue",
                {"case_id": case.id},
                "campaigner",
            )
        return Step("Ready: issue it", "outcomes.issue", {"case_id": case.id}, "coordinator")
    if case.status == CaseStatus.CLOSED:
        notices = lifecycle.notices_of(case)
        pending = [n for n in notices if n.state == NoticeState.SCHEDULED]
        if pending:
            return Step(
                f"Outcome notice scheduled for {pending[-1].send_at:%-d %B %Y %H:%M} UTC",
                "outcomes.notice",
                {"notice_id": pending[-1].id},
                "coordinator",
            )
        return None
    appeal = appeal_mailing(case)
    if appeal is None or appeal.state == MailingState.CANCELLED:
        return Step(
            "Send the appeal", "outcomes.guide_appeal", {"case_id": case.id}, "campaigner", True
        )
    if appeal.state == MailingState.DRAFT:
        return Step(
            "Approve and send the appeal",
            "mailings.show",
            {"mailing_id": appeal.id},
            "coordinator",
            True,
        )
    update_draft = _unsent_update_mailing(case)
    if update_draft is not None:
        return Step(
            f"Send the {update_draft.subject.split(': ', 1)[-1]} mailing",
            "mailings.show",
            {"mailing_id": update_draft.id},
            "coordinator",
            True,
        )
    deadline = case.current_deadline
    if deadline is not None and deadline < today:
        return Step(
            "The deadline has passed: record the outcome, or issue an update with a new deadline",
            "outcomes.close",
            {"case_id": case.id},
            "coordinator",
            True,
        )
    closing = services.latest_closing(case)
    if closing is not None and closing.decision == Decision.CONTINUE:
        return Step(
            f"Appeals continue after “{closing.summary.lower()}”: issue an update when "
            "news arrives",
            "outcomes.new_update",
            {"case_id": case.id},
            "coordinator",
        )
    return Step(
        "Collect appeals; issue an update when news arrives, record the outcome when the case ends",
        "outcomes.new_update",
        {"case_id": case.id},
        "coordinator",
    )


def _unsent_update_mailing(case: Case):
    return db.session.scalar(
        select(Mailing)
        .where(
            Mailing.case_id == case.id,
            Mailing.kind == MailingKind.UPDATE,
            Mailing.state == MailingState.DRAFT,
        )
        .order_by(Mailing.id.desc())
        .limit(1)
    )


def next_steps(limit: int = 20) -> list[tuple[Case, Step]]:
    """Per active UA (soonest deadline first), closed UAs with a notice still to go, then
    drafts: the next thing to do."""
    active = list(db.session.scalars(select(Case).where(Case.status == CaseStatus.ACTIVE)))
    active.sort(key=lambda c: (c.current_deadline is None, c.current_deadline or date.max))
    drafts = db.session.scalars(
        select(Case).where(Case.status == CaseStatus.DRAFT).order_by(Case.id.desc()).limit(limit)
    )
    # A closed UA whose outcome notice has yet to go out still has a step.
    noticed = db.session.scalars(
        select(Case).where(
            Case.status == CaseStatus.CLOSED,
            Case.id.in_(
                select(OutcomeNotice.case_id).where(OutcomeNotice.state == NoticeState.SCHEDULED)
            ),
        )
    )
    result = []
    for case in [*active, *noticed, *drafts]:
        step = next_step(case)
        if step is not None:
            result.append((case, step))
    return result[:limit]


def standing(case: Case) -> str:
    """What the latest outcome means for appeals, e.g. "conviction upheld; appeals continue"."""
    closing = services.latest_closing(case)
    if closing is None or case.status != CaseStatus.ACTIVE or closing.decision != Decision.CONTINUE:
        return ""
    return f"{closing.summary} on {closing.outcomes[0].on:%-d %B %Y}; appeals continue"
