"""Closing a case with outcomes, official replies, and reports."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from campaign.cases import services as cases
from campaign.core.csvexport import to_csv
from campaign.core.errors import ServiceError
from campaign.core.forms import ConfirmForm, attach_error, confirmed
from campaign.core.roles import requires
from campaign.extensions import db
from campaign.outcomes import lifecycle, services
from campaign.outcomes import reports as reports_module
from campaign.outcomes.forms import CloseWithNoticeForm, NoticeForm, ReplyForm
from campaign.outcomes.models import NoticeTiming, OutcomeNotice

bp = Blueprint("outcomes", __name__)


@bp.route("/cases/<int:case_id>/close", methods=["GET", "POST"])
@requires("coordinator")
def close(case_id: int):
    case = cases.get_case(case_id)
    form = CloseWithNoticeForm()
    if request.method == "GET":
        for person in case.people:
            form.outcomes.append_entry({"person_id": str(person.id), "on": cases.org_today()})
        form.local_date.data = cases.org_today() + timedelta(days=1)
    people = {str(p.id): p for p in case.people}
    if form.validate_on_submit():
        outcomes = [
            {
                "person_id": int(entry.person_id.data) if entry.person_id.data.isdigit() else None,
                "outcome": entry.outcome.data,
                "on": entry.on.data,
                "note": entry.note.data,
            }
            for entry in form.outcomes
        ]
        try:
            closing = services.close_case(
                current_user, case, decision=form.decision.data, outcomes=outcomes,
                text=form.text.data or "",
            )  # fmt: skip
            notice = lifecycle.schedule_notice(
                current_user, case, closing, timing=form.timing.data, at=form.send_at.data,
                local_date=form.local_date.data,
            )  # fmt: skip
        except ServiceError as error:
            _attach_outcome_error(form, error)
        else:
            flash(
                f"Outcome recorded for {case.label}: {closing.summary}. The notice is scheduled; "
                "you can change or cancel it until it starts.",
                "success",
            )
            return redirect(url_for("outcomes.notice", notice_id=notice.id))
    status = 422 if request.method == "POST" else 200
    return render_template("outcomes/close.html", case=case, form=form, people=people), status


def _attach_outcome_error(form: CloseWithNoticeForm, error: ServiceError) -> None:
    # Errors name a row's field as "outcomes-<index>-<name>", as WTForms does.
    parts = (error.field or "").split("-")
    if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(form.outcomes):
        field = getattr(form.outcomes[int(parts[1])], parts[2], None)
        if field is not None:
            field.errors = [*field.errors, error.message]
            return
    attach_error(form, error)


@bp.route("/cases/<int:case_id>/replies", methods=["GET", "POST"])
@requires("campaigner")
def new_reply(case_id: int):
    case = cases.get_case(case_id)
    form = ReplyForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(services.MAX_REPLY_FILE + 1) if upload and upload.filename else None
        try:
            services.log_reply(
                current_user, case, received_on=form.received_on.data, sender=form.sender.data,
                text=form.text.data or "", filename=upload.filename if data else "",
                content_type=upload.mimetype if data else "", data=data,
            )  # fmt: skip
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash("Reply logged.", "success")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="timeline"))
    status = 422 if request.method == "POST" else 200
    return render_template("outcomes/reply_form.html", case=case, form=form), status


@bp.get("/cases/<int:case_id>/replies/<int:reply_id>/file")
@requires("viewer")
def reply_file(case_id: int, reply_id: int):
    case = cases.get_case(case_id)
    reply = services.get_reply(case, reply_id)
    if not reply.data:
        abort(404)
    # Always a download: a staff-uploaded file is never rendered by our origin.
    return Response(
        reply.data,
        mimetype="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{reply.filename}"'},
    )


@bp.app_template_global()
def case_story(case):
    """The outcomes panel and timeline of a case, for the staff case page."""
    return {
        "closing": services.latest_closing(case),
        "timeline": services.timeline(case),
        "replies": services.replies_of(case),
        "notices": lifecycle.notices_of(case),
    }


@bp.get("/reports/")
@requires("viewer")
def reports():
    tables = [build() for build in reports_module.REPORTS.values()]
    return render_template("outcomes/reports.html", tables=tables)


@bp.get("/reports/<slug>.csv")
@requires("viewer")
def report_csv(slug: str):
    build = reports_module.REPORTS.get(slug) or abort(404)
    table = build()
    return Response(
        to_csv(table.header, table.rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="ua-report-{slug}.csv"'},
    )


@bp.route("/notices/<int:notice_id>", methods=["GET", "POST"])
@requires("coordinator")
def notice(notice_id: int):
    item = db.get_or_404(OutcomeNotice, notice_id)
    case = cases.get_case(item.case_id)
    form = NoticeForm(obj=item)
    if request.method == "GET" and item.timing == NoticeTiming.ORG_TIME:
        form.send_at.data = item.send_at.astimezone(ZoneInfo(current_app.config["ORG_TIMEZONE"]))
    if form.validate_on_submit():
        texts = {"subject": form.subject.data, "body": form.body.data,
                 "thanks_body": form.thanks_body.data}  # fmt: skip
        try:
            lifecycle.edit_notice(
                current_user, item, timing=form.timing.data, at=form.send_at.data,
                local_date=form.local_date.data, texts=texts,
            )  # fmt: skip
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash("Notice saved.", "success")
            return redirect(url_for("outcomes.notice", notice_id=item.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "outcomes/notice.html", notice=item, case=case, form=form, confirm=ConfirmForm()
    ), status


@bp.post("/notices/<int:notice_id>/cancel")
@requires("coordinator")
def cancel_notice(notice_id: int):
    item = db.get_or_404(OutcomeNotice, notice_id)
    if not confirmed("The notice was not cancelled"):
        return redirect(url_for("outcomes.notice", notice_id=item.id))
    try:
        lifecycle.cancel_notice(current_user, item)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash("The outcome notice is cancelled.", "success")
    return redirect(url_for("outcomes.notice", notice_id=item.id))
