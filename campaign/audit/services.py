"""Writing and reading the audit log."""

from __future__ import annotations

from sqlalchemy import select

from campaign.audit.models import AuditEvent
from campaign.extensions import db


def record(actor, action: str, obj, summary: str, changes: dict | None = None) -> AuditEvent:
    """Log one change; ``actor`` is a User or None for the system."""
    actor, obj = _unproxy(actor), _unproxy(obj)
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or "system",
        action=action,
        object_type=getattr(obj, "__tablename__", None) or str(obj),
        object_id=getattr(obj, "id", None),
        summary=summary[:500],
        changes=changes or None,
    )
    db.session.add(event)
    return event


def _unproxy(value):
    """Flask-Login's current_user is a proxy; log the object behind it."""
    unwrap = getattr(value, "_get_current_object", None)
    return unwrap() if unwrap else value


def diff(obj, values: dict) -> dict:
    """The fields of ``values`` that differ from ``obj``, as {field: [old, new]}."""
    changes = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [_plain(old), _plain(new)]
    return changes


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return str(value)


def recent(limit: int = 200, object_type: str | None = None, page: int = 1):
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    return db.paginate(query, page=page, per_page=limit, error_out=False)
