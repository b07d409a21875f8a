"""JSON API of letters and actions: a case's letters, its action figures, and actions."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from campaign.cases import texts as case_texts
from campaign.cases.services import get_case
from campaign.core.db import MAX_ID, MAX_PAGE
from campaign.core.errors import NotFound, ValidationError
from campaign.core.roles import api_requires
from campaign.extensions import db
from campaign.letters import services
from campaign.supporters.models import CHANNELS, Supporter

letters_bp = Blueprint(
    "api_letters", __name__, url_prefix="/api/v1", description="Letters and actions"
)
blueprints = (letters_bp,)


class LetterSchema(Schema):
    id = fields.Integer(dump_only=True)
    case_id = fields.Integer(dump_only=True)
    update_id = fields.Integer(allow_none=True, load_default=None)
    language = fields.String(required=True, validate=validate.Length(min=2, max=8))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20_000))
    is_default = fields.Boolean(load_default=False)
    updated_at = fields.DateTime(dump_only=True)


class LetterPatchSchema(LetterSchema):
    """Any of the letter's fields (loaded with partial=True)."""


class DaySchema(Schema):
    day = fields.String(metadata={"example": "2019-09-20"})
    count = fields.Integer()


class StatsSchema(Schema):
    total = fields.Integer()
    per_day = fields.List(fields.Nested(DaySchema))
    per_country = fields.Dict(keys=fields.String(), values=fields.Integer())
    per_channel = fields.Dict(keys=fields.String(), values=fields.Integer())


class ActionSchema(Schema):
    id = fields.Integer(dump_only=True)
    case_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID))
    supporter_id = fields.Integer(
        allow_none=True, load_default=None, validate=validate.Range(1, MAX_ID)
    )
    channel = fields.String(required=True, validate=validate.OneOf(list(CHANNELS)))
    country = fields.String(allow_none=True, load_default=None, validate=validate.Length(equal=2))
    source = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class ActionListSchema(Schema):
    items = fields.List(fields.Nested(ActionSchema))
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()


class ActionQuerySchema(Schema):
    case_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class RecordedSchema(Schema):
    recorded = fields.Boolean(metadata={"description": "False when it was already counted"})
    stats = fields.Nested(StatsSchema)


@letters_bp.route("/cases/<int:case_id>/letters")
class Letters(MethodView):
    @api_requires("viewer")
    @letters_bp.response(200, LetterSchema(many=True))
    def get(self, case_id):
        """The model letters of a UA, per update and language."""
        return services.list_letters(get_case(case_id))

    @api_requires("campaigner")
    @letters_bp.arguments(LetterSchema)
    @letters_bp.response(201, LetterSchema)
    def post(self, data, case_id):
        """Add a letter; a template that does not parse or names an unknown
        placeholder is refused with its line (422, field `subject` or `body`)."""
        return services.save_letter(g.api_user, get_case(case_id), None, data)


@letters_bp.route("/cases/<int:case_id>/letters/<int:letter_id>")
class LetterItem(MethodView):
    @api_requires("viewer")
    @letters_bp.response(200, LetterSchema)
    def get(self, case_id, letter_id):
        """One letter."""
        return services.get_letter(get_case(case_id), letter_id)

    @api_requires("campaigner")
    @letters_bp.arguments(LetterPatchSchema(partial=True))
    @letters_bp.response(200, LetterSchema)
    def patch(self, data, case_id, letter_id):
        """Change a letter (checked as on creation)."""
        case = get_case(case_id)
        return services.save_letter(g.api_user, case, services.get_letter(case, letter_id), data)

    @api_requires("campaigner")
    @letters_bp.response(204)
    def delete(self, case_id, letter_id):
        """Remove a letter."""
        case = get_case(case_id)
        services.delete_letter(g.api_user, case, services.get_letter(case, letter_id))


class CaseTextSchema(Schema):
    language = fields.String(dump_only=True, metadata={"example": "ru"})
    title = fields.String(load_default="", validate=validate.Length(max=300))
    summary = fields.String(load_default="")
    recommended_actions = fields.String(load_default="")
    background = fields.String(load_default="")
    closing_text = fields.String(load_default="")
    updated_at = fields.DateTime(dump_only=True)


@letters_bp.route("/cases/<int:case_id>/texts")
class CaseTexts(MethodView):
    @api_requires("viewer")
    @letters_bp.response(200, CaseTextSchema(many=True))
    def get(self, case_id):
        """The UA's text in languages other than its main one (``text_language``)."""
        return list(case_texts.translations(get_case(case_id)).values())


@letters_bp.route("/cases/<int:case_id>/texts/<string:language>")
class CaseTextItem(MethodView):
    @api_requires("campaigner")
    @letters_bp.arguments(CaseTextSchema)
    @letters_bp.response(200, CaseTextSchema)
    def put(self, data, case_id, language):
        """Set the UA's title, summary, recommended actions, background and
        closing text in ``language``; supporters of that language read it."""
        row = case_texts.set_case_text(g.api_user, get_case(case_id), language, data)
        if row is None:
            raise ValidationError("Give the title in this language.", "title")
        return row

    @api_requires("campaigner")
    @letters_bp.response(204)
    def delete(self, case_id, language):
        """Remove the UA's text in ``language`` (its readers get the main language)."""
        case_texts.set_case_text(g.api_user, get_case(case_id), language, {})


@letters_bp.route("/cases/<int:case_id>/actions")
class CaseActions(MethodView):
    @api_requires("viewer")
    @letters_bp.response(200, StatsSchema)
    def get(self, case_id):
        """Appeals of a UA: total, per day (UTC), per country and per channel."""
        return services.action_stats(get_case(case_id))


@letters_bp.route("/actions")
class Actions(MethodView):
    @api_requires("viewer")
    @letters_bp.arguments(ActionQuerySchema, location="query")
    @letters_bp.response(200, ActionListSchema)
    def get(self, args):
        """Recorded actions, newest first, optionally of one UA."""
        query = services.list_actions(args.get("case_id"))
        page = db.paginate(query, page=args["page"], per_page=args["per_page"], error_out=False)
        return {"items": page.items, "total": page.total, "page": page.page, "pages": page.pages}

    @api_requires("campaigner")
    @letters_bp.arguments(ActionSchema)
    @letters_bp.response(201, RecordedSchema)
    def post(self, data):
        """Record an action (e.g. letters collected at a stall); idempotent per
        supporter × case × channel."""
        case = get_case(data["case_id"])
        supporter = None
        if data.get("supporter_id") is not None:
            supporter = db.session.get(Supporter, data["supporter_id"])
            if supporter is None:
                raise NotFound("There is no such supporter.", "supporter_id")
        recorded = services.record_action(
            case,
            supporter=supporter,
            channel=data["channel"],
            source="api",
            country=data.get("country"),
        )
        return {"recorded": recorded, "stats": services.action_stats(case)}
