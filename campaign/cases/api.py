"""JSON API of the UA registry: cases, updates, people, targets."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from campaign.cases import services
from campaign.cases.models import CASE_STATUSES, PERSON_STATUSES, UPDATE_KINDS
from campaign.core.db import MAX_ID, MAX_PAGE
from campaign.core.errors import NotFound
from campaign.core.roles import api_requires
from campaign.extensions import db

cases_bp = Blueprint(
    "api_cases", __name__, url_prefix="/api/v1/cases", description="Urgent Actions"
)
people_bp = Blueprint(
    "api_people", __name__, url_prefix="/api/v1/people", description="People at risk"
)
blueprints = (cases_bp, people_bp)


# --- schemas --------------------------------------------------------------


class StatusSchema(Schema):
    on = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(list(PERSON_STATUSES)))
    note = fields.String(load_default="", validate=validate.Length(max=500))
    case_id = fields.Integer(dump_only=True, allow_none=True)


class PersonSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    aliases = fields.List(fields.String(validate=validate.Length(max=200)), load_default=list)
    gender = fields.String(load_default="")
    pronoun = fields.String(load_default="")
    consent_to_name = fields.Boolean(load_default=False)
    notes = fields.String(load_default="")
    statuses = fields.List(fields.Nested(StatusSchema), dump_only=True)


class PersonPatchSchema(PersonSchema):
    """Used as ``PersonPatchSchema(partial=True)``: a PATCH changes only the fields sent
    (marshmallow has no ``Meta.partial``; without it the defaults wiped the rest)."""


def _dump_person(person) -> dict:
    return {
        "id": person.id,
        "name": person.name,
        "aliases": person.spellings[1:],
        "gender": person.gender,
        "pronoun": person.pronoun,
        "consent_to_name": person.consent_to_name,
        "notes": person.notes,
        "statuses": [
            {"on": s.on, "status": s.status, "note": s.note, "case_id": s.case_id}
            for s in person.statuses
        ],
    }


class TargetSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(load_default="", validate=validate.Length(max=200))
    title = fields.String(load_default="", validate=validate.Length(max=200))
    organisation = fields.String(load_default="", validate=validate.Length(max=300))
    address = fields.String(load_default="", validate=validate.Length(max=2000))
    email = fields.String(load_default="", validate=validate.Length(max=254))
    fax = fields.String(load_default="", validate=validate.Length(max=50))
    phone = fields.String(load_default="", validate=validate.Length(max=50))
    social = fields.String(load_default="", validate=validate.Length(max=300))
    salutation = fields.String(load_default="", validate=validate.Length(max=200))
    salutations = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.Length(max=200)),
        metadata={"example": {"ru": "Уважаемый господин Генеральный прокурор"}},
    )
    language = fields.String(load_default="", validate=validate.Length(max=8))
    is_copy = fields.Boolean(load_default=False)
    copy_country = fields.String(load_default=None, allow_none=True)


class TargetPatchSchema(TargetSchema):
    """Used as ``TargetPatchSchema(partial=True)``: a PATCH changes only the fields sent
    (marshmallow has no ``Meta.partial``; without it the defaults wiped the rest)."""


class UpdateSchema(Schema):
    id = fields.Integer(dump_only=True)
    sequence = fields.Integer(dump_only=True)
    label = fields.String(dump_only=True, metadata={"example": "third update"})
    full_label = fields.String(dump_only=True, metadata={"example": "third update of UA 205/16"})
    kind = fields.String(required=True, validate=validate.OneOf(list(UPDATE_KINDS)))
    title = fields.String(load_default="", validate=validate.Length(max=300))
    body = fields.String(required=True, validate=validate.Length(min=1))
    new_deadline = fields.Date(load_default=None, allow_none=True)
    reason = fields.String(
        load_default="", load_only=True, validate=validate.Length(max=2000),
        metadata={"description": "Needed only when the readiness list has items missing"},
    )  # fmt: skip
    issued_at = fields.DateTime(dump_only=True)


class CaseSchema(Schema):
    id = fields.Integer(dump_only=True)
    label = fields.String(dump_only=True, metadata={"example": "UA 205/16"})
    number = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 9999))
    year = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1961, 2100))
    status = fields.String(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    index_reference = fields.String(allow_none=True, load_default=None)
    country_code = fields.String(allow_none=True, load_default=None)
    summary = fields.String(load_default="")
    background = fields.String(load_default="")
    recommended_actions = fields.String(load_default="")
    deadline = fields.Date(allow_none=True, load_default=None)
    embargo_until = fields.AwareDateTime(
        allow_none=True, load_default=None, metadata={"description": "Not public before this"}
    )
    current_deadline = fields.Date(dump_only=True, allow_none=True)
    languages = fields.List(fields.String(), load_default=list)
    text_language = fields.String(
        validate=validate.Length(max=8),
        metadata={"description": "The language the title, summary and actions are in."},
    )
    themes = fields.List(fields.String(), load_default=list)
    issued_at = fields.DateTime(dump_only=True, allow_none=True)
    people = fields.List(fields.Nested(PersonSchema), dump_only=True)
    targets = fields.List(fields.Nested(TargetSchema), dump_only=True)
    updates = fields.List(fields.Nested(UpdateSchema), dump_only=True)


class CasePatchSchema(CaseSchema):
    """Used as ``CasePatchSchema(partial=True)``: a PATCH changes only the fields sent
    (marshmallow has no ``Meta.partial``; without it the defaults wiped the rest)."""


class RenumberSchema(Schema):
    number = fields.Integer(required=True, validate=validate.Range(1, services.MAX_NUMBER))
    year = fields.Integer(required=True, validate=validate.Range(services.FIRST_YEAR, 2100))
    reason = fields.String(required=True, validate=validate.Length(max=300))


class CaseSummarySchema(CaseSchema):
    class Meta:
        exclude = ("people", "targets", "updates")


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSummarySchema))
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()


class CaseQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    country = fields.String(validate=validate.Length(equal=2))
    year = fields.Integer(validate=validate.Range(1961, 2100))
    q = fields.String(validate=validate.Length(max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class LinkSchema(Schema):
    person_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID))


class PeopleQuerySchema(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=200))


def dump_case(case) -> dict:
    data = {field: getattr(case, field) for field in CaseSchema().fields if hasattr(case, field)}
    data["people"] = [_dump_person(p) for p in case.people]
    return data


def _case(case_id: int):
    return services.get_case(case_id)


# --- cases ----------------------------------------------------------------


@cases_bp.route("")
class Cases(MethodView):
    @api_requires("viewer")
    @cases_bp.arguments(CaseQuerySchema, location="query")
    @cases_bp.response(200, CaseListSchema)
    def get(self, args):
        """List UAs, newest first; `q` finds a number, title or person."""
        query = services.list_cases(
            status=args.get("status"),
            country=args.get("country"),
            year=args.get("year"),
            q=args.get("q"),
        )
        page = db.paginate(query, page=args["page"], per_page=args["per_page"], error_out=False)
        return {"items": page.items, "total": page.total, "page": page.page, "pages": page.pages}

    @api_requires("campaigner")
    @cases_bp.arguments(CaseSchema)
    @cases_bp.response(201, CaseSchema)
    def post(self, data):
        """Create a draft UA (number and year: a historic UA, coordinators only)."""
        number, year = data.pop("number", None), data.pop("year", None)
        return dump_case(services.create_case(g.api_user, data, number=number, year=year))


@cases_bp.route("/<int:case_id>")
class CaseItem(MethodView):
    @api_requires("viewer")
    @cases_bp.response(200, CaseSchema)
    def get(self, case_id):
        """One UA with its people, targets and updates."""
        return dump_case(_case(case_id))

    @api_requires("campaigner")
    @cases_bp.arguments(CasePatchSchema(partial=True))
    @cases_bp.response(200, CaseSchema)
    def patch(self, data, case_id):
        """Change the fields sent (number and year: drafts only, coordinators only)."""
        case = _case(case_id)
        return dump_case(services.update_case(g.api_user, case, data))


class IssueSchema(Schema):
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"description": "Needed only when the readiness list has items missing",
                  "example": "The trial starts tomorrow"},
    )  # fmt: skip


@cases_bp.route("/<int:case_id>/renumber", methods=["POST"])
@api_requires("admin")
@cases_bp.arguments(RenumberSchema)
@cases_bp.response(200, CaseSchema)
def renumber_case(data, case_id):
    """Correct an issued UA's number (admins; the reason goes to the audit log)."""
    case = _case(case_id)
    return dump_case(services.renumber(g.api_user, case, data["number"], data["year"],
                                        data["reason"]))  # fmt: skip


@cases_bp.route("/<int:case_id>/updates")
class Updates(MethodView):
    @api_requires("viewer")
    @cases_bp.response(200, UpdateSchema(many=True))
    def get(self, case_id):
        """The updates of a UA, in order."""
        return _case(case_id).updates


@cases_bp.route("/<int:case_id>/targets")
class Targets(MethodView):
    @api_requires("viewer")
    @cases_bp.response(200, TargetSchema(many=True))
    def get(self, case_id):
        """The officials to write to, main targets first."""
        return _case(case_id).targets

    @api_requires("campaigner")
    @cases_bp.arguments(TargetSchema)
    @cases_bp.response(201, TargetSchema)
    def post(self, data, case_id):
        """Add a target."""
        return services.save_target(g.api_user, _case(case_id), None, data)


@cases_bp.route("/<int:case_id>/targets/<int:target_id>")
class TargetItem(MethodView):
    @api_requires("campaigner")
    @cases_bp.arguments(TargetPatchSchema(partial=True))
    @cases_bp.response(200, TargetSchema)
    def patch(self, data, case_id, target_id):
        """Change a target."""
        case = _case(case_id)
        return services.save_target(g.api_user, case, services.get_target(case, target_id), data)

    @api_requires("campaigner")
    @cases_bp.response(204)
    def delete(self, case_id, target_id):
        """Remove a target."""
        case = _case(case_id)
        services.delete_target(g.api_user, case, services.get_target(case, target_id))


@cases_bp.route("/<int:case_id>/people", methods=["POST"])
@api_requires("campaigner")
@cases_bp.arguments(LinkSchema)
@cases_bp.response(201, PersonSchema)
def link_person(data, case_id):
    """Put an existing person at risk on this UA."""
    person = services.get_person(data["person_id"])
    services.link_person(g.api_user, _case(case_id), person)
    return _dump_person(person)


@cases_bp.route("/<int:case_id>/people/<int:person_id>", methods=["DELETE"])
@api_requires("campaigner")
@cases_bp.response(204)
def unlink_person(case_id, person_id):
    """Take a person off this UA (the person is kept)."""
    services.unlink_person(g.api_user, _case(case_id), services.get_person(person_id))


# --- people ---------------------------------------------------------------


@people_bp.route("")
class People(MethodView):
    @api_requires("viewer")
    @people_bp.arguments(PeopleQuerySchema, location="query")
    @people_bp.response(200, PersonSchema(many=True))
    def get(self, args):
        """Find people by any spelling ("Chyigoz" finds "Akhtem Chiygoz")."""
        return [_dump_person(p) for p in services.search_people(args["q"])]

    @api_requires("campaigner")
    @people_bp.arguments(PersonSchema)
    @people_bp.response(201, PersonSchema)
    def post(self, data):
        """Add a person at risk."""
        return _dump_person(services.save_person(g.api_user, None, data))


@people_bp.route("/<int:person_id>")
class PersonItem(MethodView):
    @api_requires("viewer")
    @people_bp.response(200, PersonSchema)
    def get(self, person_id):
        """One person with aliases and dated status history."""
        return _dump_person(services.get_person(person_id))

    @api_requires("campaigner")
    @people_bp.arguments(PersonPatchSchema(partial=True))
    @people_bp.response(200, PersonSchema)
    def patch(self, data, person_id):
        """Change a person."""
        person = services.get_person(person_id)
        return _dump_person(services.save_person(g.api_user, person, data))


@people_bp.route("/<int:person_id>/statuses", methods=["POST"])
@api_requires("campaigner")
@people_bp.arguments(StatusSchema)
@people_bp.response(201, PersonSchema)
def add_status(data, person_id):
    """Add a dated status (detained, sentenced, released…)."""
    person = services.get_person(person_id)
    services.add_person_status(g.api_user, person, **data)
    return _dump_person(person)


__all__ = ["NotFound", "blueprints"]
