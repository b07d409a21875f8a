"""Staff pages of mailings: list, compose, preview, test, approve, send and watch."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from campaign.cases.models import Case, CaseUpdate
from campaign.core.errors import ServiceError
from campaign.core.forms import ConfirmForm, attach_error, choices, confirmed
from campaign.core.roles import requires
from campaign.extensions import db, limiter
from campaign.i18n import catalogue_languages
from campaign.mailings import approval, audience, bounces, services, testsend
from campaign.mailings.forms import MailingForm, SendForm, TestSendForm
from campaign.mailings.models import BounceKind, DeliveryState, MailingKind, MailingState
from campaign.supporters.services import all_lists, all_segments

bp = Blueprint("mailings", __name__)
# Templates compare states with these members, never with bare strings.
for _states in (MailingState, DeliveryState, BounceKind):
    bp.add_app_template_global(_states, _states.__name__)
LANGUAGES = catalogue_languages()  # English and every message catalogue
# The email's own styles are inline (that is how mail clients need them), so the
# preview frame gets a policy of its own: inline styles, nothing else.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def _fill_choices(form: MailingForm) -> None:
    cases = db.session.scalars(
        select(Case).where(Case.number.is_not(None)).order_by(Case.id.desc())
    )
    form.case_id.choices = choices(
        [("", "—"), *((str(c.id), f"{c.label} {c.title}") for c in cases)]
    )
    # Only the chosen UA's updates; before a UA is chosen, each update names its UA
    # (data-case lets static/mailing.js narrow the list as the UA changes).
    chosen = str(form.case_id.data or "")
    query = select(CaseUpdate).order_by(CaseUpdate.id.desc()).limit(200)
    if chosen.isdigit():
        query = query.where(CaseUpdate.case_id == int(chosen))
    form.update_id.choices = [
        SelectChoice("", "—"),
        *(SelectChoice(str(u.id), u.full_label, {"data-case": str(u.case_id)})
          for u in db.session.scalars(query)),
    ]  # fmt: skip
    lists, segments = _audiences()
    form.list_ids.choices = choices((item.id, item.name) for item in lists)
    form.segment_ids.choices = choices((item.id, item.name) for item in segments)


def _audiences():
    return all_lists(), all_segments()


def _values(form: MailingForm) -> dict:
    return {
        "kind": form.kind.data,
        "subject": form.subject.data,
        "body": form.body.data or "",
        "case_id": int(form.case_id.data) if form.case_id.data else None,
        "update_id": int(form.update_id.data) if form.update_id.data else None,
        "list_ids": form.list_ids.data or [],
        "segment_ids": form.segment_ids.data or [],
        "case_audience": form.case_audience.data,
        "everyone": form.everyone.data,
    }


@bp.get("/mailings/")
@requires("viewer")
def index():
    return render_template("mailings/index.html", mailings=services.list_mailings())


@bp.route("/mailings/new", methods=["GET", "POST"])
@requires("campaigner")
def new():
    form = MailingForm()
    _fill_choices(form)
    if request.method == "GET":
        form.kind.data = request.args.get("kind", MailingKind.APPEAL)
        form.case_id.data = request.args.get("case_id", "")
        _fill_choices(form)  # the updates of the UA asked for
    if form.validate_on_submit():
        try:
            mailing = services.create_mailing(current_user, **_values(form))
            return redirect(url_for("mailings.show", mailing_id=mailing.id))
        except ServiceError as error:
            attach_error(form, error)
    return render_template("mailings/form.html", form=form, mailing=None), (
        422 if form.errors else 200
    )


@bp.route("/mailings/<int:mailing_id>/edit", methods=["GET", "POST"])
@requires("campaigner")
def edit(mailing_id: int):
    mailing = services.get_mailing(mailing_id)
    form = MailingForm(obj=None)
    _fill_choices(form)
    if request.method == "GET":
        form.kind.data, form.subject.data, form.body.data = (
            mailing.kind,
            mailing.subject,
            mailing.body,
        )
        form.case_id.data = str(mailing.case_id or "")
        form.update_id.data = str(mailing.update_id or "")
        audience = mailing.audience or {}
        form.list_ids.data = audience.get("lists", [])
        form.segment_ids.data = audience.get("segments", [])
        form.case_audience.data = audience.get("case", False)
        form.everyone.data = audience.get("all", False)
        _fill_choices(form)  # the updates of this mailing's UA
    if form.validate_on_submit():
        try:
            services.update_mailing(current_user, mailing, **_values(form))
            return redirect(url_for("mailings.show", mailing_id=mailing.id))
        except ServiceError as error:
            attach_error(form, error)
    return render_template("mailings/form.html", form=form, mailing=mailing), (
        422 if form.errors else 200
    )


@bp.get("/mailings/<int:mailing_id>")
@requires("viewer")
def show(mailing_id: int):
    mailing = services.get_mailing(mailing_id)
    return _show(mailing)


def _show(mailing, test_form=None, send_form=None, status=200):
    size = audience.audience_size(mailing)
    send_form = send_form or SendForm()
    # Always the count shown now: after a refusal for a stale count, staff confirm this one.
    send_form.expected.data = str(size)
    send_form.typed.data = ""  # a mistyped or stale count is typed again, never kept
    send_form.typed.label.text = f"Type {size} to send"
    test_form = test_form or TestSendForm()
    test_form.language.choices = choices((lang, lang) for lang in LANGUAGES)
    refresh = mailing.state == MailingState.SENDING
    return render_template(
        "mailings/show.html",
        mailing=mailing,
        approval_changes=approval.pending_approval_changes(mailing),
        size=size,
        fallbacks=audience.text_fallbacks(mailing),
        progress=services.progress(mailing),
        bounces=bounces.recent(50, mailing.id),
        test_form=test_form,
        send_form=send_form,
        typed_needed=services.typed_confirmation_needed(size),
        confirm=ConfirmForm(),
        languages=LANGUAGES,
        refresh=refresh,
    ), status


@bp.app_template_global("approved_mailings_by_list")
def approved_mailings_by_list():
    """For the supporters' list page: which approved mailings use which list."""
    return approval.approved_mailings_by_list()


@bp.get("/mailings/<int:mailing_id>/preview/<language>.<fmt>")
@requires("viewer")
def preview(mailing_id: int, language: str, fmt: str):
    mailing = services.get_mailing(mailing_id)
    if language not in LANGUAGES or fmt not in ("html", "txt"):
        abort(404)
    try:
        shown = services.preview(mailing, language)
    except ServiceError as error:
        return make_response(error.message, 422, {"Content-Type": "text/plain; charset=utf-8"})
    if fmt == "txt":
        body = "\n".join(f"{k}: {v}" for k, v in shown["headers"]) + "\n\n" + shown["text"]
        return make_response(body, 200, {"Content-Type": "text/plain; charset=utf-8"})
    response = make_response(shown["html"])
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _test_send_limit() -> str:
    return current_app.config["RATELIMIT_TEST_SEND"]


def _per_staff_member() -> str:
    return f"staff:{getattr(current_user, 'id', None)}"


@bp.post("/mailings/<int:mailing_id>/test")
@limiter.limit(_test_send_limit, key_func=_per_staff_member)
@requires("campaigner")
def test(mailing_id: int):
    mailing = services.get_mailing(mailing_id)
    form = TestSendForm()
    form.language.choices = choices((lang, lang) for lang in LANGUAGES)
    if form.validate_on_submit():
        try:
            testsend.test_send(current_user, mailing, form.address.data, form.language.data)
            flash(f"Test sent to {form.address.data}.", "success")
            return redirect(url_for("mailings.show", mailing_id=mailing.id))
        except ServiceError as error:
            attach_error(form, error)
    return _show(mailing, test_form=form, status=422)


@bp.post("/mailings/<int:mailing_id>/approve")
@requires("coordinator")
def approve(mailing_id: int):
    return _act(mailing_id, services.approve, "Approved.")


@bp.post("/mailings/<int:mailing_id>/send")
@requires("coordinator")
def send(mailing_id: int):
    mailing = services.get_mailing(mailing_id)
    form = SendForm()
    if form.validate_on_submit():
        at = form.send_at.data
        if at is not None:
            at = at.replace(tzinfo=ZoneInfo(current_app.config["ORG_TIMEZONE"]))
        try:
            expected = int(form.expected.data) if form.expected.data else None
            services.send(
                current_user,
                mailing,
                at=at,
                expected=expected,
                typed=form.typed.data or "",
                ticked=bool(form.confirm.data),
            )
            flash(
                "Scheduled." if mailing.state == MailingState.SCHEDULED else "Sending.", "success"
            )
            return redirect(url_for("mailings.show", mailing_id=mailing.id))
        except ServiceError as error:
            if not error.field:  # not about the form (no approval, already sent): the page says
                flash(error.message, "error")
                return redirect(url_for("mailings.show", mailing_id=mailing.id))
            attach_error(form, error)
        except ValueError:  # a tampered count
            attach_error(form, ServiceError("The confirmation is not valid; confirm again.",
                                            "confirm"))  # fmt: skip
    return _show(mailing, send_form=form, status=422)


@bp.post("/mailings/<int:mailing_id>/pause")
@requires("coordinator")
def pause(mailing_id: int):
    return _act(mailing_id, services.pause, "Paused.")


@bp.post("/mailings/<int:mailing_id>/resume")
@requires("coordinator")
def resume(mailing_id: int):
    return _act(mailing_id, services.resume, "Resumed.")


@bp.post("/mailings/<int:mailing_id>/cancel")
@requires("coordinator")
def cancel(mailing_id: int):
    mailing = services.get_mailing(mailing_id)
    if not confirmed("The mailing was not cancelled"):
        return redirect(url_for("mailings.show", mailing_id=mailing.id))
    return _act(mailing_id, services.cancel, "Cancelled.", checked=True)


def _act(mailing_id: int, action, message: str, checked: bool = False):
    mailing = services.get_mailing(mailing_id)
    if not checked and not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action(current_user, mailing)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("mailings.show", mailing_id=mailing.id))
    flash(message, "success")
    return redirect(url_for("mailings.show", mailing_id=mailing.id))
