"""What a mailing's approval covers, and whether it still holds.

An approval records a SHA-256 per part of everything that decides what is sent
and to whom; a change to any part voids it (the page and the refusal say which).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import func, select

from campaign.audit.services import record
from campaign.cases.models import Case, CaseUpdate, Target
from campaign.cases.services import CASE_FIELDS, TARGET_FIELDS
from campaign.extensions import db
from campaign.letters.models import LetterTemplate
from campaign.mailings.models import Mailing, MailingState
from campaign.supporters.models import ListMember, Segment

# What approval covers, part by part; the page and the refusal name the parts changed.
APPROVAL_PARTS = {
    "message": "the subject or text",
    "case": "the UA (its text, people or update)",
    "letters": "the model letters",
    "officials": "the officials to write to",
    "audience": "the audience (lists, their members, segments)",
}


def approval_fingerprint(mailing: Mailing) -> dict[str, str]:
    """A SHA-256 per part of everything that decides what is sent and to whom.

    The audience part covers its definition: the lists' membership (count, sum
    of ids and latest addition, one aggregate per list in SQL: about 45 ms for
    a list of 100,000 on SQLite), the segments' filters and the case/everyone flags. It does
    not cover supporters joining, leaving or changing their own details: those
    change a segment's or "everyone"'s result without any staff edit, and the
    send re-reads the audience anyway (and asks for its size to be confirmed).
    """
    case = db.session.get(Case, mailing.case_id) if mailing.case_id else None
    update_row = db.session.get(CaseUpdate, mailing.update_id) if mailing.update_id else None
    audience = mailing.audience or {}
    parts: dict[str, object] = {
        "message": [
            mailing.kind,
            mailing.subject,
            mailing.body,
            mailing.case_id,
            mailing.update_id,
        ],
        "case": None,
        "letters": [],
        "officials": [],
    }
    if case is not None:
        parts["case"] = {
            "fields": [getattr(case, field) for field in CASE_FIELDS],
            "status": case.status,
            "label": case.label,
            "people": [_person(p) for p in case.people],
            "update": update_row
            and [update_row.kind, update_row.title, update_row.body, update_row.new_deadline],
            "deadlines": [u.new_deadline for u in case.updates],
        }
        parts["letters"] = db.session.execute(
            select(LetterTemplate.id, LetterTemplate.update_id, LetterTemplate.language,
                   LetterTemplate.subject, LetterTemplate.body, LetterTemplate.is_default)
            .where(LetterTemplate.case_id == case.id)
            .order_by(LetterTemplate.id)
        ).all()  # fmt: skip
        parts["officials"] = [
            [target.id, *(getattr(target, field, None) for field in TARGET_FIELDS)]
            for target in db.session.scalars(
                select(Target).where(Target.case_id == case.id).order_by(Target.id)
            )
        ]
    lists = audience.get("lists") or []
    members = db.session.execute(
        select(ListMember.list_id, func.count(), func.sum(ListMember.supporter_id),
               func.max(ListMember.added_at))
        .where(ListMember.list_id.in_(lists))
        .group_by(ListMember.list_id)
        .order_by(ListMember.list_id)
    ).all() if lists else []  # fmt: skip
    segments = audience.get("segments") or []
    filters = db.session.execute(
        select(Segment.id, Segment.filters).where(Segment.id.in_(segments)).order_by(Segment.id)
    ).all() if segments else []  # fmt: skip
    parts["audience"] = [sorted(audience.items()), members, filters]
    return {name: _digest(value) for name, value in parts.items()}


def _person(p) -> list:
    statuses = [[st.on, st.status, st.note] for st in p.statuses]
    return [p.id, p.spellings, p.consent_to_name, p.gender, p.pronoun, statuses]


def _digest(value) -> str:
    def plain(item):
        if isinstance(item, datetime):
            return item.isoformat()
        if hasattr(item, "isoformat"):
            return item.isoformat()
        if hasattr(item, "_mapping"):
            return list(item)
        return str(item)

    text = json.dumps(value, default=plain, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def approval_changes(mailing: Mailing) -> list[str]:
    """What changed since approval, in words ([] when the approval holds or there is none)."""
    approved = mailing.approval_fingerprint
    if mailing.approved_at is None:
        return []
    if not approved:  # approved before approvals were fingerprinted (0041)
        return ["approved before approvals recorded what they covered"]
    now = approval_fingerprint(mailing)
    return [words for part, words in APPROVAL_PARTS.items() if approved.get(part) != now.get(part)]


def pending_approval_changes(mailing: Mailing) -> list[str]:
    """What the mailing page reports: an approval matters only until the mailing
    starts; a sent mailing whose UA was edited later needs no approval again
    (and its page need not fingerprint a large audience on every view)."""
    if mailing.state not in (MailingState.DRAFT, MailingState.SCHEDULED):
        return []
    return approval_changes(mailing)


def approval_holds(mailing: Mailing) -> bool:
    return mailing.approved_at is not None and not approval_changes(mailing)


def stale_message(changes: list[str]) -> str:
    return (
        f"Changed since its approval ({'; '.join(changes)}): a coordinator must "
        "check it and approve it again."
    )


def unapprove_if_stale(mailing: Mailing) -> list[str]:
    """Drop an approval that no longer matches the mailing (back to a draft that
    needs approval, saying why on its page); what changed, or [] if it holds."""
    changes = approval_changes(mailing)
    if changes:
        mailing.approved_at = mailing.approved_by_id = mailing.approval_fingerprint = None
        mailing.state, mailing.scheduled_at = MailingState.DRAFT, None
        mailing.pause_reason = stale_message(changes)[:500]
        db.session.flush()
        summary = f"Mailing {mailing.id} needs approval again: {'; '.join(changes)}"
        record(None, "mailing.unapproved", mailing, summary[:500])
    return changes


def approved_mailings_by_list() -> dict[int, list[Mailing]]:
    """Mailings approved and not yet started, by the lists they go to (the list
    page says so: changing those lists' members voids their approval)."""
    found: dict[int, list[Mailing]] = {}
    pending = select(Mailing).where(
        Mailing.state.in_((MailingState.DRAFT, MailingState.SCHEDULED)),
        Mailing.approved_at.is_not(None),
    )
    for mailing in db.session.scalars(pending.order_by(Mailing.id)):
        for list_id in (mailing.audience or {}).get("lists", []):
            found.setdefault(list_id, []).append(mailing)
    return found
