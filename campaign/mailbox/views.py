"""The Mailbox page: what the local SMTP catcher received."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from campaign.core.forms import ConfirmForm, confirmed
from campaign.core.roles import requires
from campaign.mailbox import services

bp = Blueprint("mailbox", __name__, url_prefix="/mailbox")
PER_PAGE = 50


@bp.get("/")
@requires("campaigner")
def index():
    number = max(request.args.get("page", 1, type=int), 1)
    messages, total = services.page(number, PER_PAGE)
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    return render_template(
        "mailbox/index.html",
        messages=messages,
        total=total,
        page=number,
        pages=pages,
        confirm=ConfirmForm(),
    )


@bp.get("/<key>")
@requires("campaigner")
def show(key: str):
    message = services.get(key) or abort(404)
    text, html = services.parts(message)
    return render_template(
        "mailbox/show.html", key=key, message=message, text=text, has_html=html is not None
    )


@bp.get("/<key>/html")
@requires("campaigner")
def html(key: str):
    message = services.get(key) or abort(404)
    _text, body = services.parts(message)
    if body is None:
        abort(404)
    response = Response(body, mimetype="text/html")
    # The message is shown as a mail client would: no scripts, no forms, no
    # requests anywhere; the page may only be framed by the Mailbox itself.
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/<key>/raw")
@requires("campaigner")
def raw(key: str):
    data = services.raw(key) or abort(404)
    return Response(
        data,
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{key}.eml"'},
    )


@bp.post("/clear")
@requires("coordinator")
def clear():
    if confirmed("The mailbox was not emptied"):
        count = services.clear()
        flash(f"Deleted {count} messages from the local mailbox.", "success")
    return redirect(url_for("mailbox.index"))
