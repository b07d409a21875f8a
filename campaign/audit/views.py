"""The audit log page (admins)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from campaign.audit.services import recent
from campaign.core.db import MAX_PAGE
from campaign.core.roles import requires

bp = Blueprint("audit", __name__)


@bp.get("/admin/audit")
@requires("admin")
def index():
    page = min(request.args.get("page", 1, type=int), MAX_PAGE)
    kind = request.args.get("type") or None
    return render_template("audit/index.html", events=recent(100, kind, page), kind=kind)
