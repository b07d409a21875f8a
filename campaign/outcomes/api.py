"""JSON API of a UA's lifecycle: readiness, the appeal mailing, closing, notices,
official replies, the timeline, reopening, and the reports.

The same services as the pages (``guide``, ``services``, ``lifecycle``), so the
API can run a UA from draft to close with the same checks.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from campaign.cases import services as cases
from campaign.cases.api import CaseSchema, IssueSchema, UpdateSchema, dump_case
from campaign.cases.models import UPDATE_KINDS, UpdateKind
from campaign.core import storage
from campaign.core.db import MAX_ID
from campaign.core.errors import NotFound
from campaign.core.roles import api_requires
from campaign.extensions import db
from campaign.outcomes import guide, lifecycle, services
from campaign.outcomes import reports as reports_module
from campaign.outcomes.models import (
    DECISIONS,
    NOTICE_TIMINGS,
    OUTCOMES,
    Decision,
    NoticeTiming,
    OutcomeNotice,
)

lifecycle_bp = Blueprint(
    "api_lifecycle",
    __name__,
    url_prefix="/api/v1/cases",
    description="A UA's lifecycle: readiness, appeal, close, notices, replies, timeline",
)
reports_bp = Blueprint(
    "api_reports", __name__, url_prefix="/api/v1/reports", description="Reports across UAs"
)
blueprints = (lifecycle_bp, reports_bp)


# --- schemas --------------------------------------------------------------------


class ReadinessItemSchema(Schema):
    key = fields.String(metadata={"example": "letter-ru"})
    label = fields.String(metadata={"example": "A model letter in Russian"})
    ok = fields.Boolean()
    detail = fields.String(metadata={"example": "No Russian letter yet."})
    required = fields.Boolean(metadata={"description": "Cannot be overridden with a reason"})


class ReadinessSchema(Schema):
    step = fields.String(metadata={"example": "issue"})
    complete = fields.Boolean()
    items = fields.List(fields.Nested(ReadinessItemSchema))
    next_label = fields.String(
        allow_none=True, metadata={"example": "UA 12/26", "description": "Issue step only"}
    )
    next_step = fields.String(
        allow_none=True, metadata={"example": "Send the appeal", "description": "What to do now"}
    )


class ReadinessQuerySchema(Schema):
    step = fields.String(
        load_default="issue", validate=validate.OneOf(["issue", "update", "close"])
    )
    kind = fields.String(
        load_default=UpdateKind.FURTHER_ACTION, validate=validate.OneOf(list(UPDATE_KINDS))
    )


class ReasonSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=guide.MAX_REASON),
        metadata={"example": "Re-arrested on 3 May 2017"},
    )


class CaseStateSchema(Schema):
    id = fields.Integer()
    label = fields.String(metadata={"example": "UA 205/16"})
    status = fields.String(metadata={"example": "active"})


class MailingRefSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"example": "appeal"})
    subject = fields.String(metadata={"example": "UA 205/16: Crimean Tatar leaders jailed"})
    state = fields.String(metadata={"example": "draft"})


class OutcomeInSchema(Schema):
    person_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID))
    outcome = fields.String(required=True, validate=validate.OneOf(list(OUTCOMES)))
    on = fields.Date(required=True, metadata={"example": "2017-10-25"})
    note = fields.String(load_default="", validate=validate.Length(max=500))


class NoticeInSchema(Schema):
    timing = fields.String(
        load_default=NoticeTiming.LOCAL_MORNING,
        validate=validate.OneOf(list(NOTICE_TIMINGS)),
        metadata={"description": "; ".join(f"{k}: {v}" for k, v in NOTICE_TIMINGS.items())},
    )
    send_at = fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"example": "2026-12-08T09:00:00+00:00"}
    )
    local_date = fields.Date(load_default=None, allow_none=True, metadata={"example": "2026-12-08"})
    subject = fields.String(load_default="", validate=validate.Length(max=300))
    body = fields.String(load_default="", validate=validate.Length(max=20000))
    thanks_body = fields.String(load_default="", validate=validate.Length(max=20000))


class CloseSchema(Schema):
    decision = fields.String(
        load_default=Decision.NO_FURTHER_ACTION,
        validate=validate.OneOf(list(DECISIONS)),
        metadata={"description": "; ".join(f"{k}: {v}" for k, v in DECISIONS.items())},
    )
    outcomes = fields.List(
        fields.Nested(OutcomeInSchema),
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={
            "example": [
                {"person_id": 1, "outcome": "released", "on": "2017-10-25", "note": "exiled"},
                {"person_id": 2, "outcome": "released", "on": "2017-10-25", "note": ""},
            ]
        },
    )
    text = fields.String(
        load_default="",
        validate=validate.Length(max=20000),
        metadata={"example": "No further action is requested. Many thanks to all who wrote."},
    )
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=guide.MAX_REASON),
        metadata={"description": "Needed only when the readiness list has items missing"},
    )
    notice = fields.Nested(
        NoticeInSchema, load_default=None, allow_none=True,
        metadata={"description": "When to tell the case audience; null: no notice"},
    )  # fmt: skip


class OutcomeOutSchema(Schema):
    person_id = fields.Integer()
    person = fields.String(metadata={"example": "Akhtem Chiygoz"})
    outcome = fields.String(metadata={"example": "released"})
    label = fields.String(metadata={"example": "Released"})
    on = fields.Date()
    note = fields.String()


class NoticeSchema(Schema):
    id = fields.Integer(dump_only=True)
    case_id = fields.Integer(dump_only=True)
    state = fields.String(dump_only=True, metadata={"example": "scheduled"})
    timing = fields.String(metadata={"example": "org_time"})
    send_at = fields.DateTime(metadata={"example": "2026-12-08T09:00:00+00:00"})
    local_date = fields.Date(allow_none=True)
    subject = fields.String(metadata={"example": "UA 205/16: Released"})
    body = fields.String()
    thanks_body = fields.String()
    started_at = fields.DateTime(dump_only=True, allow_none=True)
    mailing_id = fields.Integer(dump_only=True, allow_none=True)
    thanks_mailing_id = fields.Integer(dump_only=True, allow_none=True)
    appeals = fields.Integer(dump_only=True, allow_none=True)


class ClosingSchema(Schema):
    id = fields.Integer()
    case = fields.Nested(CaseStateSchema)
    decision = fields.String(metadata={"example": "no_further_action"})
    summary = fields.String(metadata={"example": "Released"})
    text = fields.String()
    decided_at = fields.DateTime()
    outcomes = fields.List(fields.Nested(OutcomeOutSchema))
    notice = fields.Nested(NoticeSchema, allow_none=True)


class NoticePatchSchema(Schema):
    """Only the fields given change (no defaults: a PATCH must not reset the timing)."""

    timing = fields.String(validate=validate.OneOf(list(NOTICE_TIMINGS)))
    send_at = fields.AwareDateTime(
        allow_none=True, metadata={"example": "2026-12-08T10:00:00+00:00"}
    )
    local_date = fields.Date(allow_none=True, metadata={"example": "2026-12-09"})
    subject = fields.String(validate=validate.Length(max=300), metadata={"example": "Freed"})
    body = fields.String(validate=validate.Length(max=20000))
    thanks_body = fields.String(validate=validate.Length(max=20000))


class ReplySchema(Schema):
    id = fields.Integer(dump_only=True)
    received_on = fields.Date(metadata={"example": "2017-11-02"})
    sender = fields.String(metadata={"example": "Prosecutor's Office of Crimea"})
    text = fields.String()
    filename = fields.String(metadata={"example": "reply.pdf"})
    content_type = fields.String(metadata={"example": "application/pdf"})
    size = fields.Integer()
    file_url = fields.String(
        allow_none=True, metadata={"example": "/api/v1/cases/1/replies/3/file"}
    )


class ReplyFormSchema(Schema):
    received_on = fields.Date(required=True, metadata={"example": "2017-11-02"})
    sender = fields.String(required=True, validate=validate.Length(min=1, max=300))
    text = fields.String(load_default="", validate=validate.Length(max=100000))


class ReplyFileSchema(Schema):
    file = fields.Raw(
        load_default=None, metadata={"type": "string", "format": "binary"}, allow_none=True
    )


class EventSchema(Schema):
    when = fields.String(metadata={"example": "2016-09-14T10:02:00+00:00"})
    day = fields.Date()
    kind = fields.String(
        metadata={"example": "update", "description": "issued, update, stop, mailing, appeals, "
                  "reply, note, outcome"}
    )  # fmt: skip
    title = fields.String(metadata={"example": "Third update"})
    detail = fields.String()


class ReportSchema(Schema):
    slug = fields.String(metadata={"example": "appeals"})
    title = fields.String(metadata={"example": "Appeals per case"})
    header = fields.List(fields.String(), metadata={"example": ["UA", "Title", "Appeals"]})
    rows = fields.List(fields.List(fields.Raw()))
    note = fields.String()


class ReportIndexSchema(Schema):
    slug = fields.String(metadata={"example": "appeals"})
    title = fields.String(metadata={"example": "Appeals per case"})


# --- helpers ------------------------------------------------------------------------


def _case(case_id: int):
    return cases.get_case(case_id)


def _state(case) -> dict:
    return {"id": case.id, "label": case.label, "status": case.status}


def _dump_closing(closing, notice) -> dict:
    case = cases.get_case(closing.case_id)
    return {
        "id": closing.id, "case": _state(case), "decision": closing.decision,
        "summary": closing.summary, "text": closing.text, "decided_at": closing.decided_at,
        "outcomes": [
            {"person_id": o.person_id, "person": o.person.name, "outcome": o.outcome,
             "label": o.label, "on": o.on, "note": o.note}
            for o in closing.outcomes
        ],
        "notice": notice,
    }  # fmt: skip


def _notice(case, notice_id: int) -> OutcomeNotice:
    notice = db.session.get(OutcomeNotice, notice_id)
    if notice is None or notice.case_id != case.id:
        raise NotFound("There is no such notice on this UA.")
    return notice


def _dump_reply(case, reply) -> dict:
    return {
        "id": reply.id, "received_on": reply.received_on, "sender": reply.sender,
        "text": reply.text, "filename": reply.filename, "content_type": reply.content_type,
        "size": reply.size,
        "file_url": f"/api/v1/cases/{case.id}/replies/{reply.id}/file" if reply.size else None,
    }  # fmt: skip


# --- readiness, appeal, reopen ---------------------------------------------------------


@lifecycle_bp.route("/<int:case_id>/issue", methods=["POST"])
@api_requires("coordinator")
@lifecycle_bp.arguments(IssueSchema)
@lifecycle_bp.response(200, CaseSchema)
def issue_case(data, case_id):
    """Issue a draft: it becomes active with the next UA number of the year.

    The same readiness check as the page (GET /cases/{id}/readiness): with
    items missing, only with a `reason`.
    """
    return dump_case(guide.issue(g.api_user, cases.get_case(case_id), reason=data["reason"]))


@lifecycle_bp.route("/<int:case_id>/updates", methods=["POST"])
@api_requires("coordinator")
@lifecycle_bp.arguments(UpdateSchema)
@lifecycle_bp.response(201, UpdateSchema)
def issue_update(data, case_id):
    """Issue the next update ("third update of UA 205/16"); coordinators issue.

    Its mailing to the case audience is drafted at once. With items of the
    update's readiness list missing, only with a `reason`.
    """
    return guide.issue_update(g.api_user, cases.get_case(case_id), **data)


@lifecycle_bp.route("/<int:case_id>/readiness", methods=["GET"])
@api_requires("viewer")
@lifecycle_bp.arguments(ReadinessQuerySchema, location="query")
@lifecycle_bp.response(200, ReadinessSchema)
def readiness(args, case_id):
    """What is ready and missing before issuing, issuing an update or closing; the next step."""
    case = _case(case_id)
    step = args["step"]
    if step == "issue":
        result = guide.issue_readiness(case)
    elif step == "update":
        result = guide.update_readiness(case, kind=args["kind"])
    else:
        result = guide.close_readiness(case)
    nxt = guide.next_step(case)
    return {
        **result.as_dict(),
        "next_label": guide.next_label(case) if step == "issue" else None,
        "next_step": nxt.text if nxt else None,
    }


@lifecycle_bp.route("/<int:case_id>/appeal", methods=["POST"])
@api_requires("campaigner")
@lifecycle_bp.response(201, MailingRefSchema)
def draft_appeal(case_id):
    """Draft the appeal mailing of an active UA (subject from its label and title, to every
    subscriber); a second call returns the same draft. Approve and send it under /mailings."""
    return guide.draft_appeal(g.api_user, _case(case_id))


@lifecycle_bp.route("/<int:case_id>/reopen", methods=["POST"])
@api_requires("coordinator")
@lifecycle_bp.arguments(ReasonSchema)
@lifecycle_bp.response(200, CaseStateSchema)
def reopen(data, case_id):
    """Make a closed UA active again, with the reason (kept on its timeline)."""
    return _state(guide.reopen(g.api_user, _case(case_id), reason=data["reason"]))


# --- closing and notices --------------------------------------------------------------


@lifecycle_bp.route("/<int:case_id>/close", methods=["POST"])
@api_requires("coordinator")
@lifecycle_bp.arguments(CloseSchema)
@lifecycle_bp.response(201, ClosingSchema)
def close(data, case_id):
    """Record an outcome for each person; "no_further_action" closes the UA, "continue" keeps
    it active. With `notice`, the outcome notice to the case audience is scheduled."""
    case = _case(case_id)
    closing = guide.close(
        g.api_user, case, decision=data["decision"], outcomes=data["outcomes"],
        text=data["text"], reason=data["reason"],
    )  # fmt: skip
    notice = None
    if data["notice"] is not None:
        spec = data["notice"]
        notice = lifecycle.schedule_notice(
            g.api_user, case, closing, timing=spec["timing"], at=spec["send_at"],
            local_date=spec["local_date"],
            texts={k: spec[k] for k in ("subject", "body", "thanks_body")},
        )  # fmt: skip
    return _dump_closing(closing, notice)


@lifecycle_bp.route("/<int:case_id>/notices", methods=["GET"])
@api_requires("viewer")
@lifecycle_bp.response(200, NoticeSchema(many=True))
def notices(case_id):
    """The outcome notices of a UA, oldest first."""
    return lifecycle.notices_of(_case(case_id))


@lifecycle_bp.route("/<int:case_id>/notices/<int:notice_id>")
class NoticeItem(MethodView):
    @api_requires("viewer")
    @lifecycle_bp.response(200, NoticeSchema)
    def get(self, case_id, notice_id):
        """One outcome notice."""
        return _notice(_case(case_id), notice_id)

    @api_requires("coordinator")
    @lifecycle_bp.arguments(NoticePatchSchema)
    @lifecycle_bp.response(200, NoticeSchema)
    def patch(self, data, case_id, notice_id):
        """Change a scheduled notice's time or texts (until it starts)."""
        notice = _notice(_case(case_id), notice_id)
        timing = data.get("timing", notice.timing)
        at = data.get("send_at", notice.send_at if timing == NoticeTiming.ORG_TIME else None)
        local_date = data.get("local_date", notice.local_date)
        texts = {k: data[k] for k in ("subject", "body", "thanks_body") if data.get(k)}
        return lifecycle.edit_notice(
            g.api_user, notice, timing=timing, at=at, local_date=local_date, texts=texts
        )


@lifecycle_bp.route("/<int:case_id>/notices/<int:notice_id>/cancel", methods=["POST"])
@api_requires("coordinator")
@lifecycle_bp.response(200, NoticeSchema)
def cancel_notice(case_id, notice_id):
    """Cancel a scheduled notice (refused once it has started)."""
    notice = _notice(_case(case_id), notice_id)
    lifecycle.cancel_notice(g.api_user, notice)
    return notice


# --- replies ------------------------------------------------------------------------------


@lifecycle_bp.route("/<int:case_id>/replies")
class Replies(MethodView):
    @api_requires("viewer")
    @lifecycle_bp.response(200, ReplySchema(many=True))
    def get(self, case_id):
        """Replies received from the authorities, oldest first."""
        case = _case(case_id)
        return [_dump_reply(case, r) for r in services.replies_of(case)]

    @api_requires("campaigner")
    @lifecycle_bp.arguments(ReplyFormSchema, location="form")
    @lifecycle_bp.arguments(ReplyFileSchema, location="files")
    @lifecycle_bp.response(201, ReplySchema)
    def post(self, data, files, case_id):
        """Log a reply (multipart form: `received_on`, `sender`, `text`, and `file` up to 10 MB)."""
        case = _case(case_id)
        upload = files.get("file")
        reply = services.log_reply(
            g.api_user, case, received_on=data["received_on"], sender=data["sender"],
            text=data["text"], filename=upload.filename if upload else "",
            content_type=upload.mimetype if upload else "",
            data=upload.stream if upload else None,  # into the database chunk by chunk
        )  # fmt: skip
        return _dump_reply(case, reply)


@lifecycle_bp.route("/<int:case_id>/replies/<int:reply_id>/file", methods=["GET"])
@api_requires("viewer")
@lifecycle_bp.response(
    200, {"format": "binary", "type": "string"}, content_type="application/octet-stream"
)
def reply_file(case_id, reply_id):
    """The attached file of a reply, as a download."""
    reply = services.get_reply(_case(case_id), reply_id)
    if reply.file_id is None:
        raise NotFound("This reply has no file.")
    return storage.download(reply.file_id, reply.filename)


# --- timeline and reports ----------------------------------------------------------------


@lifecycle_bp.route("/<int:case_id>/timeline", methods=["GET"])
@api_requires("viewer")
@lifecycle_bp.response(200, EventSchema(many=True))
def timeline(case_id):
    """The story of a UA in the order things happened."""
    return [
        {**event, "when": event["when"].isoformat()} for event in services.timeline(_case(case_id))
    ]


@reports_bp.route("", methods=["GET"])
@api_requires("viewer")
@reports_bp.response(200, ReportIndexSchema(many=True))
def reports():
    """The reports there are."""
    return [
        {"slug": slug, "title": build().title} for slug, build in reports_module.REPORTS.items()
    ]


@reports_bp.route("/<slug>", methods=["GET"])
@api_requires("viewer")
@reports_bp.response(200, ReportSchema)
def report(slug):
    """One report as a table: its header and rows."""
    build = reports_module.REPORTS.get(slug)
    if build is None:
        raise NotFound("There is no such report.")
    return build()
