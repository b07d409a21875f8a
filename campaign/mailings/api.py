"""JSON API of mailings: list, read with live progress, draft, approve, send, pause."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from campaign.core.db import MAX_ID
from campaign.core.roles import api_requires
from campaign.mailings import services
from campaign.mailings.models import KINDS, STATES

mailings_bp = Blueprint(
    "api_mailings", __name__, url_prefix="/api/v1/mailings", description="Mailings"
)
blueprints = (mailings_bp,)

# An id no row can have is refused as input (it would overflow the database driver).
ID = validate.Range(1, MAX_ID)


class ProgressSchema(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()
    done = fields.Integer()
    percent = fields.Float()
    rate = fields.Float(allow_none=True)
    eta_seconds = fields.Integer(allow_none=True)


class MailingSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(KINDS)))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    body = fields.String(load_default="", validate=validate.Length(max=20000))
    case_id = fields.Integer(load_default=None, allow_none=True, validate=ID)
    update_id = fields.Integer(load_default=None, allow_none=True, validate=ID)
    list_ids = fields.List(fields.Integer(validate=ID), load_default=list, load_only=True)
    segment_ids = fields.List(fields.Integer(validate=ID), load_default=list, load_only=True)
    case_audience = fields.Boolean(load_default=False, load_only=True)
    everyone = fields.Boolean(load_default=False, load_only=True)
    audience = fields.Dict(dump_only=True)
    state = fields.String(dump_only=True, validate=validate.OneOf(STATES))
    total = fields.Integer(dump_only=True)
    pause_reason = fields.String(dump_only=True)
    scheduled_at = fields.DateTime(dump_only=True, allow_none=True)
    started_at = fields.DateTime(dump_only=True, allow_none=True)
    finished_at = fields.DateTime(dump_only=True, allow_none=True)
    approved_at = fields.DateTime(dump_only=True, allow_none=True)
    progress = fields.Nested(ProgressSchema, dump_only=True)


class SendSchema(Schema):
    at = fields.AwareDateTime(load_default=None, allow_none=True)
    expected = fields.Integer(load_default=None, allow_none=True)


def _dump(mailing, with_progress: bool = True) -> dict:
    data = {name: getattr(mailing, name) for name in MailingSchema().dump_fields if
            hasattr(mailing, name) and name != "progress"}  # fmt: skip
    if with_progress:
        progress = services.progress(mailing)
        eta = progress.pop("eta")
        data["progress"] = {**progress, "eta_seconds": int(eta.total_seconds()) if eta else None}
    return data


@mailings_bp.route("")
class Mailings(MethodView):
    @api_requires("viewer")
    @mailings_bp.response(200, MailingSchema(many=True))
    def get(self):
        """The latest mailings, newest first."""
        return [_dump(m, with_progress=False) for m in services.list_mailings()]

    @api_requires("campaigner")
    @mailings_bp.arguments(MailingSchema)
    @mailings_bp.response(201, MailingSchema)
    def post(self, data):
        """Draft a mailing (a coordinator approves it before it can be sent)."""
        return _dump(services.create_mailing(g.api_user, **data))


@mailings_bp.route("/<int:mailing_id>")
@api_requires("viewer")
@mailings_bp.response(200, MailingSchema)
def get_mailing(mailing_id):
    """One mailing with live progress: counts per state, rate, time left."""
    return _dump(services.get_mailing(mailing_id))


@mailings_bp.route("/<int:mailing_id>/approve", methods=["POST"])
@api_requires("coordinator")
@mailings_bp.response(200, MailingSchema)
def approve(mailing_id):
    """Approve a draft."""
    return _dump(services.approve(g.api_user, services.get_mailing(mailing_id)))


@mailings_bp.route("/<int:mailing_id>/send", methods=["POST"])
@api_requires("coordinator")
@mailings_bp.arguments(SendSchema)
@mailings_bp.response(200, MailingSchema)
def send(data, mailing_id):
    """Send now, or at `at`; `expected` guards against an audience that changed."""
    mailing = services.get_mailing(mailing_id)
    return _dump(services.send(g.api_user, mailing, at=data["at"], expected=data["expected"]))


def _action(name: str, function):
    def view(mailing_id):
        return _dump(function(g.api_user, services.get_mailing(mailing_id)))

    view.__name__ = name
    view.__doc__ = f"{name.capitalize()} the mailing."
    wrapped = mailings_bp.response(200, MailingSchema)(view)
    wrapped = api_requires("coordinator")(wrapped)
    mailings_bp.route(f"/<int:mailing_id>/{name}", methods=["POST"])(wrapped)


_action("pause", services.pause)
_action("resume", services.resume)
_action("cancel", services.cancel)
