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
from campaign.cases.forms import UpdateForm
from campaign.cases.models import CaseStatus, UpdateKind
from campaign.core import storage
from campaign.core.csvexport import to_csv
from campaign.core.errors import ServiceError
from campaign.core.forms import ConfirmForm, attach_error, confirmed
from campaign.core.roles import requires
from campaign.extensions import db
from campaign.outcomes import guide, lifecycle, services
from campaign.outcomes import reports as reports_module
from campaign.outcomes.forms import (
    CloseWithNoticeForm,
    IssueForm,
    NoticeForm,
    ReopenForm,
    ReplyForm,
)
from campaign.outcomes.models import Decision, NoticeState, NoticeTiming, OutcomeNotice

bp = Blueprint("outcomes", __name__)
# Templates compare states with these members, never with bare strings.
for _states in (NoticeState, Decision):
    bp.add_app_template_global(_states, _states.__name__)


def _fix_urls(readiness: guide.Readiness) -> dict:
    return {item.key: url_for(item.fix[0], **item.fix[1]) for item in readiness.items if item.fix}


@bp.get("/cases/<int:case_id>/issue")
@requires("campaigner")
def issue(case_id: int):
    """The readiness list before issuing: campaigners see what is missing."""
    return _issue_page(cases.get_case(case_id), IssueForm(formdata=None))


@bp.post("/cases/<int:case_id>/issue")
@requires("coordinator")
def issue_confirm(case_id: int):
    """Coordinators issue; with items missing only with a reason."""
    case = cases.get_case(case_id)
    form = IssueForm()
    if form.validate_on_submit():
        try:
            guide.issue(current_user, case, reason=form.reason.data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(f"Issued as {case.label}. Next: send the appeal.", "success")
            return redirect(url_for("cases.show", case_id=case.id))
    return _issue_page(case, form, 422)


def _issue_page(case, form: IssueForm, status: int = 200):
    if case.status != CaseStatus.DRAFT:
        flash(f"{case.label} has already been issued.", "info")
        return redirect(url_for("cases.show", case_id=case.id))
    readiness = guide.issue_readiness(case)
    return render_template(
        "outcomes/issue.html",
        case=case,
        form=form,
        readiness=readiness,
        fix_urls=_fix_urls(readiness),
        next_label=guide.next_label(case),
    ), status


@bp.route("/cases/<int:case_id>/updates/new", methods=["GET", "POST"])
@requires("coordinator")
def new_update(case_id: int):
    """Campaigners draft the news (case sheets, letters); coordinators issue the update."""
    case = cases.get_case(case_id)
    if case.status == CaseStatus.DRAFT:
        flash("Issue the UA before adding updates to it.", "error")
        return redirect(url_for("cases.show", case_id=case.id))
    form = UpdateForm()
    if form.validate_on_submit():
        try:
            update = guide.issue_update(
                current_user,
                case,
                kind=form.kind.data,
                title=form.title.data or "",
                body=form.body.data,
                new_deadline=form.new_deadline.data,
                reason=form.reason.data,
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(f"Issued the {update.full_label}. Next: send the update mailing.", "success")
            return redirect(
                url_for("cases.show", case_id=case.id, _anchor=f"update-{update.sequence}")
            )
    status = 422 if request.method == "POST" else 200
    readiness = guide.update_readiness(
        case,
        kind=form.kind.data or UpdateKind.FURTHER_ACTION,
        body=form.body.data if request.method == "POST" else None,
        new_deadline=form.new_deadline.data,
    )
    return render_template(
        "cases/update_form.html",
        form=form,
        case=case,
        next_label=cases.update_label_for_next(case),
        readiness=readiness,
        fix_urls=_fix_urls(readiness),
    ), status


@bp.route("/cases/<int:case_id>/reopen", methods=["GET", "POST"])
@requires("coordinator")
def reopen(case_id: int):
    case = cases.get_case(case_id)
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            guide.reopen(current_user, case, reason=form.reason.data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(f"{case.label} is active again. Next: issue an update with the news.", "success")
            return redirect(url_for("cases.show", case_id=case.id))
    status = 422 if request.method == "POST" else 200
    return render_template("outcomes/reopen.html", case=case, form=form), status


@bp.route("/cases/<int:case_id>/appeal", methods=["GET", "POST"])
@requires("campaigner")
def guide_appeal(case_id: int):
    """ "Send the appeal": the drafted mailing, created on the first POST, then opened."""
    case = cases.get_case(case_id)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            mailing = guide.draft_appeal(current_user, case)
        except ServiceError as error:
            flash(f"No appeal drafted: {error.message}", "error")
            return redirect(url_for("outcomes.guide_appeal", case_id=case.id))
        flash("The appeal mailing is drafted: check it, then a coordinator approves and "
              "sends it.", "success")  # fmt: skip
        return redirect(url_for("mailings.show", mailing_id=mailing.id))
    letters = guide.letter_items(case)
    return render_template(
        "outcomes/appeal.html",
        case=case,
        form=form,
        letters=letters,
        mailing=guide.appeal_mailing(case),
    )


@bp.route("/cases/<int:case_id>/close", methods=["GET", "POST"])
@requires("coordinator")
def close(case_id: int):
    case = cases.get_case(case_id)
    if case.status != CaseStatus.ACTIVE:
        flash(f"{case.label} is {case.status}: only an active UA can be closed.", "error")
        return redirect(url_for("cases.show", case_id=case.id))
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
            closing = guide.close(
                current_user,
                case,
                decision=form.decision.data,
                outcomes=outcomes,
                text=form.text.data or "",
                reason=form.reason.data,
            )
            notice = lifecycle.schedule_notice(
                current_user,
                case,
                closing,
                timing=form.timing.data,
                at=form.send_at.data,
                local_date=form.local_date.data,
            )
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
    readiness = guide.close_readiness(case)
    return render_template(
        "outcomes/close.html",
        case=case,
        form=form,
        people=people,
        readiness=readiness,
        fix_urls=_fix_urls(readiness),
    ), status


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
        # The stream: read into the database chunk by chunk, never whole.
        data = upload.stream if upload and upload.filename else None
        try:
            services.log_reply(
                current_user,
                case,
                received_on=form.received_on.data,
                sender=form.sender.data,
                text=form.text.data or "",
                filename=upload.filename if data else "",
                content_type=upload.mimetype if data else "",
                data=data,
            )
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
    if reply.file_id is None:
        abort(404)
    # Always a download: a staff-uploaded file is never rendered by our origin.
    return storage.download(reply.file_id, reply.filename)


@bp.app_template_global()
def case_story(case):
    """The outcomes panel and timeline of a case, for the staff case page."""
    return {
        "next": guide.next_step(case),
        "closing": services.latest_closing(case),
        "timeline": services.timeline(case),
        "replies": services.replies_of(case),
        "notices": lifecycle.notices_of(case),
    }


@bp.app_template_global()
def case_standing(case) -> str:
    return guide.standing(case)


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
                current_user,
                item,
                timing=form.timing.data,
                at=form.send_at.data,
                local_date=form.local_date.data,
                texts=texts,
            )
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
