"""JSON API of supporters, lists and segments."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from campaign.core.db import MAX_PAGE
from campaign.core.roles import api_requires
from campaign.extensions import db
from campaign.supporters import services, tasks
from campaign.supporters.models import STATES, SUPPRESSIONS

supporters_bp = Blueprint(
    "api_supporters", __name__, url_prefix="/api/v1/supporters", description="Supporters"
)
lists_bp = Blueprint("api_lists", __name__, url_prefix="/api/v1/lists", description="Static lists")
segments_bp = Blueprint(
    "api_segments", __name__, url_prefix="/api/v1/segments", description="Saved filters"
)
blueprints = (supporters_bp, lists_bp, segments_bp)


class SupporterSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(required=True, validate=validate.Length(max=320))
    first_name = fields.String(load_default="", validate=validate.Length(max=100))
    last_name = fields.String(load_default="", validate=validate.Length(max=100))
    language = fields.String(load_default="en", validate=validate.Length(max=8))
    country = fields.String(load_default=None, allow_none=True)
    city = fields.String(load_default="", validate=validate.Length(max=100))
    timezone = fields.String(load_default=None, allow_none=True)
    interests = fields.List(fields.String(), load_default=list)
    state = fields.String(dump_only=True)
    state_changed_at = fields.DateTime(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class SupporterPatchSchema(SupporterSchema):
    """Used as ``SupporterPatchSchema(partial=True)``: a PATCH changes only the fields sent
    (marshmallow has no ``Meta.partial``; without it the defaults wiped the rest)."""

    class Meta:
        exclude = ("email",)


class SupporterListSchema(Schema):
    items = fields.List(fields.Nested(SupporterSchema))
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()


class SupporterQuerySchema(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    state = fields.String(validate=validate.OneOf(STATES))
    list_id = fields.Integer()
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class SuppressSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(SUPPRESSIONS))
    detail = fields.String(load_default="", validate=validate.Length(max=500))


class ListSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    size = fields.Integer(dump_only=True)


class MembersSchema(Schema):
    supporter_ids = fields.List(
        fields.Integer(), required=True, validate=validate.Length(max=10000)
    )


class FiltersSchema(Schema):
    languages = fields.List(fields.String())
    countries = fields.List(fields.String())
    interests = fields.List(fields.String())
    states = fields.List(fields.String())
    state_since = fields.Date()
    state_before = fields.Date()
    acted_on_case = fields.Integer()
    no_action_months = fields.Integer()
    received_mailing = fields.Integer()


class SegmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    filters = fields.Dict(load_default=dict)
    count = fields.Integer(dump_only=True)


class SegmentPatchSchema(SegmentSchema):
    """Used as ``SegmentPatchSchema(partial=True)``: a PATCH changes only the fields sent
    (marshmallow has no ``Meta.partial``: the name was required and the defaults wiped
    the description and the filters)."""


class CountSchema(Schema):
    count = fields.Integer()


# --- supporters -----------------------------------------------------------


@supporters_bp.route("")
class Supporters(MethodView):
    @api_requires("viewer")
    @supporters_bp.arguments(SupporterQuerySchema, location="query")
    @supporters_bp.response(200, SupporterListSchema)
    def get(self, args):
        """Find supporters by address or name, state or list."""
        query = services.search(args["q"], args.get("state"), args.get("list_id"))
        page = db.paginate(query, page=args["page"], per_page=args["per_page"], error_out=False)
        return {"items": page.items, "total": page.total, "page": page.page, "pages": page.pages}

    @api_requires("campaigner")
    @supporters_bp.arguments(SupporterSchema)
    @supporters_bp.response(201, SupporterSchema)
    def post(self, data):
        """Add a supporter: pending until they confirm the email sent to them."""
        supporter = services.create_supporter(g.api_user, data)
        if supporter.confirm_nonce:
            tasks.send_confirmation_after_commit(supporter.id)
        return supporter


@supporters_bp.route("/<int:supporter_id>")
class SupporterItem(MethodView):
    @api_requires("viewer")
    @supporters_bp.response(200, SupporterSchema)
    def get(self, supporter_id):
        """One supporter."""
        return services.get_supporter(supporter_id)

    @api_requires("campaigner")
    @supporters_bp.arguments(SupporterPatchSchema(partial=True))
    @supporters_bp.response(200, SupporterSchema)
    def patch(self, data, supporter_id):
        """Change profile fields (never the subscription state)."""
        return services.update_supporter(g.api_user, services.get_supporter(supporter_id), data)

    @api_requires("coordinator")
    @supporters_bp.response(204)
    def delete(self, supporter_id):
        """Erase: delete personal data, keep counts and a keyed hash of the address."""
        services.erase(g.api_user, services.get_supporter(supporter_id))


@supporters_bp.route("/<int:supporter_id>/unsubscribe", methods=["POST"])
@api_requires("campaigner")
@supporters_bp.response(200, SupporterSchema)
def unsubscribe(supporter_id):
    """Unsubscribe at once (idempotent)."""
    supporter = services.get_supporter(supporter_id)
    services.unsubscribe(supporter, source="staff (API)", staff=g.api_user)
    return supporter


@supporters_bp.route("/<int:supporter_id>/suppress", methods=["POST"])
@api_requires("coordinator")
@supporters_bp.arguments(SuppressSchema)
@supporters_bp.response(200, SupporterSchema)
def suppress(data, supporter_id):
    """Mark bounced, complained or blocked (idempotent)."""
    supporter = services.get_supporter(supporter_id)
    services.suppress(
        supporter, data["state"], source="staff (API)", detail=data["detail"], staff=g.api_user
    )
    return supporter


@supporters_bp.route("/<int:supporter_id>/data", methods=["GET"])
@api_requires("coordinator")
@supporters_bp.response(200)
def personal_data(supporter_id):
    """Everything held about the supporter (right of access); audited."""
    return services.personal_data(g.api_user, services.get_supporter(supporter_id))


# --- lists ----------------------------------------------------------------


def _dump_list(lst, sizes=None) -> dict:
    sizes = sizes if sizes is not None else services.list_sizes()
    return {
        "id": lst.id,
        "name": lst.name,
        "description": lst.description,
        "size": sizes.get(lst.id, 0),
    }


@lists_bp.route("")
class Lists(MethodView):
    @api_requires("viewer")
    @lists_bp.response(200, ListSchema(many=True))
    def get(self):
        """All static lists with their sizes."""
        sizes = services.list_sizes()
        return [_dump_list(lst, sizes) for lst in services.all_lists()]

    @api_requires("campaigner")
    @lists_bp.arguments(ListSchema)
    @lists_bp.response(201, ListSchema)
    def post(self, data):
        """Create a list."""
        return _dump_list(services.save_list(g.api_user, None, data["name"], data["description"]))


@lists_bp.route("/<int:list_id>")
class ListItem(MethodView):
    @api_requires("viewer")
    @lists_bp.response(200, ListSchema)
    def get(self, list_id):
        """One list."""
        return _dump_list(services.get_list(list_id))

    @api_requires("coordinator")
    @lists_bp.response(204)
    def delete(self, list_id):
        """Delete a list (its supporters stay)."""
        services.delete_list(g.api_user, services.get_list(list_id))


@lists_bp.route("/<int:list_id>/members")
class ListMembers(MethodView):
    @api_requires("campaigner")
    @lists_bp.arguments(MembersSchema)
    @lists_bp.response(200, ListSchema)
    def post(self, data, list_id):
        """Put supporters on the list (unknown ids are ignored)."""
        lst = services.get_list(list_id)
        services.add_to_list(g.api_user, lst, data["supporter_ids"])
        return _dump_list(lst)

    @api_requires("campaigner")
    @lists_bp.arguments(MembersSchema)
    @lists_bp.response(200, ListSchema)
    def delete(self, data, list_id):
        """Take supporters off the list."""
        lst = services.get_list(list_id)
        services.remove_from_list(g.api_user, lst, data["supporter_ids"])
        return _dump_list(lst)


# --- segments -------------------------------------------------------------


def _dump_segment(segment) -> dict:
    return {
        "id": segment.id,
        "name": segment.name,
        "description": segment.description,
        "filters": segment.filters,
        "count": services.count(segment.filters),
    }


@segments_bp.route("")
class Segments(MethodView):
    @api_requires("viewer")
    @segments_bp.response(200, SegmentSchema(many=True))
    def get(self):
        """All segments with their current counts."""
        return [_dump_segment(s) for s in services.all_segments()]

    @api_requires("campaigner")
    @segments_bp.arguments(SegmentSchema)
    @segments_bp.response(201, SegmentSchema)
    def post(self, data):
        """Save a filter (keys: see the `count` endpoint)."""
        segment = services.save_segment(
            g.api_user, None, data["name"], data["filters"], data["description"]
        )
        return _dump_segment(segment)


@segments_bp.route("/count", methods=["POST"])
@api_requires("viewer")
@segments_bp.arguments(FiltersSchema)
@segments_bp.response(200, CountSchema)
def count(data):
    """How many supporters (in any state) a filter matches, without saving it."""
    return {"count": services.count(data)}


@segments_bp.route("/<int:segment_id>")
class SegmentItem(MethodView):
    @api_requires("viewer")
    @segments_bp.response(200, SegmentSchema)
    def get(self, segment_id):
        """One segment and its count."""
        return _dump_segment(services.get_segment(segment_id))

    @api_requires("campaigner")
    @segments_bp.arguments(SegmentPatchSchema(partial=True))
    @segments_bp.response(200, SegmentSchema)
    def patch(self, data, segment_id):
        """Change a segment."""
        segment = services.get_segment(segment_id)
        segment = services.save_segment(
            g.api_user,
            segment,
            data.get("name", segment.name),
            data.get("filters", segment.filters),
            data.get("description", segment.description),
        )
        return _dump_segment(segment)

    @api_requires("coordinator")
    @segments_bp.response(204)
    def delete(self, segment_id):
        """Delete a segment."""
        services.delete_segment(g.api_user, services.get_segment(segment_id))
