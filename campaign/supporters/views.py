"""Supporter pages: the public sign-up, confirmation, preferences and one-click
unsubscribe; the staff pages for supporters, lists, segments and imports."""

from __future__ import annotations

import tempfile

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user

from campaign import i18n
from campaign.cases.models import Case
from campaign.core import storage
from campaign.core.db import MAX_PAGE
from campaign.core.errors import ServiceError
from campaign.core.forms import ConfirmForm, attach_error, choices, confirmed
from campaign.core.roles import has_role, public, requires
from campaign.core.tokens import TokenRefused
from campaign.extensions import csrf, db
from campaign.i18n import N_, NATIVE_NAMES
from campaign.supporters import imports, limits, segments, services, tasks, tokens, vocabulary
from campaign.supporters.forms import (
    AddToListForm,
    ConfirmSignupForm,
    ListForm,
    MappingForm,
    PreferencesForm,
    SegmentForm,
    SignupForm,
    SupporterForm,
    UploadForm,
)
from campaign.supporters.imports.files import FIELDS
from campaign.supporters.models import (
    STATES,
    Action,
    ImportJob,
    ImportState,
    ListMember,
    SupporterList,
    SupporterState,
)

bp = Blueprint("supporters", __name__)
# Templates compare states with these members, never with bare strings.
for _states in (SupporterState, ImportState):
    bp.add_app_template_global(_states, _states.__name__)


# --- public ---------------------------------------------------------------
# The language: campaign.i18n.select_locale (?lang= or the form's language,
# then the supporter a signed link names, then Accept-Language).


def _public(template: str, status: int = 200, **context):
    return render_template(template, **context), status


def signup_key(email: str | None) -> str | None:
    """The identity an address is counted under (None when it is not an address)."""
    try:
        return services.normalise_email(email)
    except ServiceError:
        return None


def too_many_signups():
    """The friendly 429 of /join and of the public action form's sign-up box."""
    return _public("public/too_many.html", 429)


@bp.app_template_filter("interest")
def interest_label(code: str) -> str:
    """ "europe" → "Europe and Central Asia": staff read words, not the stored codes."""
    return vocabulary.INTERESTS.get(code, code)


def _interest_choices():
    return choices((key, gettext(label)) for key, label in vocabulary.interest_choices())


@bp.route("/join", methods=["GET", "POST"])
@i18n.supporter_page
@public
def signup():
    form = SignupForm(language=i18n.current_language())
    form.country.choices = choices([("", "—"), *i18n.countries(i18n.current_language())])
    form.interests.choices = _interest_choices()
    valid = form.validate_on_submit()
    if form.is_submitted() and not valid:
        _check_email(form)
    if valid:
        data = {k: getattr(form, k).data for k in services.PROFILE_FIELDS if hasattr(form, k)}
        data["email"] = form.email.data
        key = signup_key(form.email.data)
        if not limits.allowed(key, request.remote_addr):
            return too_many_signups()
        try:
            supporter = services.sign_up(data, ip=request.remote_addr)
        except ServiceError as error:
            if error.field == "email":
                error.message = gettext(EMAIL_INVALID)
            attach_error(form, error)
        else:
            limits.count(key, request.remote_addr)
            if supporter is not None:
                tasks.send_confirmation_after_commit(supporter.id)
            days = current_app.config["CONFIRM_MAX_AGE_DAYS"]
            return _public("public/signup_sent.html", days=days)
    if form.consent.errors:
        form.consent.errors = [gettext("Tick the box to agree to receive our emails.")]
    status = 422 if request.method == "POST" else 200
    return _public("public/signup.html", status, form=form, native_names=i18n.NATIVE_NAMES)


@bp.get("/welcome")
@i18n.supporter_page
@public
def front():
    """The public front door (also at "/" for visitors): the open UAs and the sign-up form."""
    form = SignupForm(language=i18n.current_language(), formdata=None)
    form.country.choices = choices([("", "—"), *i18n.countries(i18n.current_language())])
    form.interests.choices = _interest_choices()
    return _public("public/home.html", form=form, native_names=NATIVE_NAMES)


EMAIL_INVALID = N_("Enter a valid email address, like name@example.org.")


def _check_email(form: SignupForm) -> None:
    # Report a bad address even when another field also failed.
    try:
        services.normalise_email(form.email.data)
    except ServiceError:
        form.email.errors = [gettext(EMAIL_INVALID)]


# Why a link is refused (raised by campaign.core.tokens and the services), so
# that the catalogue translates them; the page shows them through gettext.
LINK_ERRORS = (
    N_("This link has expired."),
    N_("This link is not valid. Check that it was copied whole."),
    N_("This confirmation link is no longer valid. Sign up again."),
    N_("This link is no longer valid: the subscription it was for is gone."),
    N_("This link is no longer valid."),
    N_("This link has expired: the appeal is over."),
)


def _token_error(error: TokenRefused):
    return _public("public/link_invalid.html", 400, message=error.message)


@bp.route("/join/confirm/<token>", methods=["GET", "POST"])
@i18n.supporter_page
@public
def confirm(token: str):
    max_age = current_app.config["CONFIRM_MAX_AGE_DAYS"] * 86400
    try:
        supporter, extra = tokens.supporter_for(tokens.CONFIRM, token, max_age=max_age)
    except TokenRefused as error:
        return _token_error(error)
    i18n.use_supporter_language(supporter.language)
    form = ConfirmSignupForm()
    if request.method == "GET":
        if supporter.state == SupporterState.SUBSCRIBED and supporter.confirm_nonce is None:
            return _public("public/confirmed.html", already=True)
        return _public("public/confirm.html", form=form, email=supporter.email)
    if not form.validate_on_submit():
        abort(400)
    try:
        done = services.confirm(supporter, extra[0] if extra else None, ip=request.remote_addr)
    except TokenRefused as error:
        return _token_error(error)
    return _public("public/confirmed.html", already=not done)


def _preferences_age() -> int:
    return current_app.config["PREFERENCES_MAX_AGE_DAYS"] * 86400


@bp.route("/preferences/<token>", methods=["GET", "POST"])
@i18n.supporter_page
@public
def preferences(token: str):
    try:
        supporter, _ = tokens.supporter_for(tokens.PREFERENCES, token, _preferences_age())
    except TokenRefused as error:
        return _token_error(error)
    i18n.use_supporter_language(supporter.language)
    form = PreferencesForm(obj=supporter)
    form.interests.choices = _interest_choices()
    if form.validate_on_submit():
        try:
            services.update_preferences(
                supporter,
                {"language": form.language.data, "interests": form.interests.data},
                ip=request.remote_addr,
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            i18n.use_supporter_language(supporter.language)
            flash(gettext("Your preferences are saved."), "success")
            return redirect(url_for("supporters.preferences", token=token))
    status = 422 if request.method == "POST" else 200
    return _public(
        "public/preferences.html",
        status,
        form=form,
        supporter=supporter,
        unsubscribe_url=url_for(
            "supporters.unsubscribe", token=tokens.unsubscribe_token(supporter)
        ),
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@i18n.supporter_page
@public
@csrf.exempt
def unsubscribe(token: str):
    """RFC 8058: a POST (``List-Unsubscribe=One-Click`` from a mail client, or
    the button of the page) unsubscribes at once, answers 200, no redirect,
    no cookie or CSRF token needed; a GET only asks, and offers the preferences."""
    try:
        supporter, _ = tokens.supporter_for(tokens.UNSUBSCRIBE, token)
    except TokenRefused as error:
        return _token_error(error)
    i18n.use_supporter_language(supporter.language)
    if request.method == "GET":
        return _public(
            "public/unsubscribe.html",
            email=supporter.email,
            done=False,
            preferences_url=None
            if supporter.is_suppressed
            else url_for("supporters.preferences", token=tokens.preferences_token(supporter)),
        )
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    services.unsubscribe(
        supporter,
        source="one-click unsubscribe" if one_click else "unsubscribe page",
        ip=request.remote_addr,
    )
    return _public("public/unsubscribe.html", email=supporter.email, done=True)


# --- staff: supporters ----------------------------------------------------


@bp.get("/supporters/")
@requires("viewer")
def index():
    args = request.args
    state = args.get("state") if args.get("state") in STATES else None
    list_id = args.get("list", type=int)
    query = services.search(args.get("q", ""), state, list_id)
    number = min(args.get("page", 1, type=int), MAX_PAGE)
    page = db.paginate(query, page=number, per_page=50, error_out=False)
    return render_template(
        "supporters/index.html",
        supporters=page,
        filters={"q": args.get("q", ""), "state": state or "", "list": list_id or ""},
        states=STATES,
        lists=services.all_lists(),
    )


def _supporter_form(form: SupporterForm) -> SupporterForm:
    form.country.choices = choices([("", "—"), *i18n.country_choices()])
    return form


def _profile(form: SupporterForm) -> dict:
    return {name: getattr(form, name).data for name in services.PROFILE_FIELDS}


@bp.route("/supporters/new", methods=["GET", "POST"])
@requires("campaigner")
def create():
    form = _supporter_form(SupporterForm())
    if form.validate_on_submit():
        try:
            supporter = services.create_supporter(
                current_user, {"email": form.email.data, **_profile(form)}
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            if supporter.confirm_nonce:
                tasks.send_confirmation_after_commit(supporter.id)
            flash("Added. They receive nothing until they confirm the email just sent.", "success")
            return redirect(url_for("supporters.show", supporter_id=supporter.id))
    status = 422 if request.method == "POST" else 200
    return render_template("supporters/form.html", form=form, supporter=None), status


@bp.get("/supporters/<int:supporter_id>")
@requires("viewer")
def show(supporter_id: int):
    supporter = services.get_supporter(supporter_id)
    add_form = AddToListForm(formdata=None)
    add_form.list_id.choices = choices((lst.id, lst.name) for lst in services.all_lists())
    actions = db.session.execute(
        db.select(Action, Case).join(Case, Case.id == Action.case_id)
        .where(Action.supporter_id == supporter.id).order_by(Action.id.desc()).limit(50)
    ).all()  # fmt: skip
    member_of = db.session.scalars(
        db.select(SupporterList)
        .join(ListMember, ListMember.list_id == SupporterList.id)
        .where(ListMember.supporter_id == supporter.id)
    ).all()
    return render_template(
        "supporters/show.html",
        supporter=supporter,
        events=list(reversed(supporter.consent_events)),
        actions=actions,
        member_of=member_of,
        add_form=add_form,
        confirm=ConfirmForm(),
    )


@bp.route("/supporters/<int:supporter_id>/edit", methods=["GET", "POST"])
@requires("campaigner")
def edit(supporter_id: int):
    supporter = services.get_supporter(supporter_id)
    form = _supporter_form(SupporterForm(obj=supporter))
    form.email.data = supporter.email  # the address itself is not edited here
    if form.validate_on_submit():
        try:
            services.update_supporter(current_user, supporter, _profile(form))
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash("Saved.", "success")
            return redirect(url_for("supporters.show", supporter_id=supporter.id))
    status = 422 if request.method == "POST" else 200
    return render_template("supporters/form.html", form=form, supporter=supporter), status


def _confirmed_post() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.post("/supporters/<int:supporter_id>/unsubscribe")
@requires("campaigner")
def staff_unsubscribe(supporter_id: int):
    supporter = services.get_supporter(supporter_id)
    _confirmed_post()
    services.unsubscribe(supporter, source="staff", staff=current_user)
    flash("Unsubscribed.", "success")
    return redirect(url_for("supporters.show", supporter_id=supporter.id))


@bp.post("/supporters/<int:supporter_id>/block")
@requires("coordinator")
def block(supporter_id: int):
    supporter = services.get_supporter(supporter_id)
    if not confirmed("Not blocked"):
        return redirect(url_for("supporters.show", supporter_id=supporter.id))
    services.suppress(supporter, SupporterState.BLOCKED, source="staff", staff=current_user)
    flash("Blocked: this address is never mailed again.", "success")
    return redirect(url_for("supporters.show", supporter_id=supporter.id))


@bp.post("/supporters/<int:supporter_id>/reconfirm")
@requires("campaigner")
def reconfirm(supporter_id: int):
    supporter = services.get_supporter(supporter_id)
    _confirmed_post()
    if services.open_confirmation(supporter):
        tasks.send_confirmation_after_commit(supporter.id)
        flash(
            "A confirmation email is on its way; they are subscribed once they confirm.", "success"
        )
    else:
        flash("No email sent: already subscribed, blocked, or one was sent recently.", "error")
    return redirect(url_for("supporters.show", supporter_id=supporter.id))


@bp.post("/supporters/<int:supporter_id>/lists")
@requires("campaigner")
def add_to_list(supporter_id: int):
    supporter = services.get_supporter(supporter_id)
    form = AddToListForm()
    if not form.validate_on_submit() or not form.list_id.data:
        abort(400)
    lst = services.get_list(form.list_id.data)
    services.add_to_list(current_user, lst, [supporter.id])
    flash(f"Added to {lst.name}.", "success")
    return redirect(url_for("supporters.show", supporter_id=supporter.id))


@bp.get("/supporters/<int:supporter_id>/data.json")
@requires("coordinator")
def personal_data(supporter_id: int):
    supporter = services.get_supporter(supporter_id)
    response = jsonify(services.personal_data(current_user, supporter))
    response.headers["Content-Disposition"] = f"attachment; filename=supporter-{supporter.id}.json"
    return response


@bp.post("/supporters/<int:supporter_id>/erase")
@requires("coordinator")
def erase(supporter_id: int):
    supporter = services.get_supporter(supporter_id)
    if not confirmed("Nothing was erased"):
        return redirect(url_for("supporters.show", supporter_id=supporter.id))
    services.erase(current_user, supporter)
    flash(
        "Erased. Their address is kept only as a keyed hash, so no import brings it back.",
        "success",
    )
    return redirect(url_for("supporters.index"))


# --- staff: lists ---------------------------------------------------------


@bp.route("/supporters/lists", methods=["GET", "POST"])
@requires("viewer")
def lists():
    form = ListForm()
    if request.method == "POST":
        if not _can("campaigner"):
            abort(403)
        if form.validate_on_submit():
            try:
                lst = services.save_list(current_user, None, form.name.data, form.description.data)
            except ServiceError as error:
                attach_error(form, error)
            else:
                flash(f"Created list {lst.name}.", "success")
                return redirect(url_for("supporters.lists"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "supporters/lists.html",
        lists=services.all_lists(),
        sizes=services.list_sizes(),
        form=form,
        confirm=ConfirmForm(),
    ), status


def _can(role: str) -> bool:
    return has_role(current_user, role)


@bp.post("/supporters/lists/<int:list_id>/delete")
@requires("coordinator")
def delete_list(list_id: int):
    lst = services.get_list(list_id)
    if not confirmed("The list was not deleted"):
        return redirect(url_for("supporters.lists"))
    services.delete_list(current_user, lst)
    flash("List deleted (its supporters are kept).", "success")
    return redirect(url_for("supporters.lists"))


def _csv_response(query, label: str, filename: str) -> Response:
    """Audited; written to a spooled file (memory up to 8 MB, then disk) and sent."""
    services.record_export(current_user, label)
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - send_file closes it
    for line in services.export_csv(query):
        spool.write(line.encode("utf-8"))
    spool.seek(0)
    return send_file(spool, mimetype="text/csv", as_attachment=True, download_name=filename)


@bp.get("/supporters/lists/<int:list_id>/export.csv")
@requires("coordinator")
def export_list(list_id: int):
    lst = services.get_list(list_id)
    members = db.select(ListMember.supporter_id.label("id")).where(ListMember.list_id == lst.id)
    return _csv_response(members, f"list {lst.name}", f"list-{lst.id}.csv")


# --- staff: segments ------------------------------------------------------


def _segment_form(form: SegmentForm) -> SegmentForm:
    cases = db.session.scalars(
        db.select(Case)
        .where(Case.number.is_not(None))
        .order_by(Case.year.desc(), Case.number.desc())
    )
    form.acted_on_case.choices = choices([("", "—"), *((str(c.id), c.label) for c in cases)])
    return form


def _filters(form: SegmentForm) -> dict:
    return {
        key: getattr(form, key).data
        for key in (*segments.LIST_KEYS, *segments.DATE_KEYS, *segments.ID_KEYS)
    }


@bp.get("/supporters/segments")
@requires("viewer")
def segment_list():
    items = [
        (s, segments.describe(s.filters), services.count(s.filters))
        for s in services.all_segments()
    ]
    return render_template("supporters/segments.html", items=items, confirm=ConfirmForm())


@bp.route("/supporters/segments/new", methods=["GET", "POST"])
@bp.route("/supporters/segments/<int:segment_id>", methods=["GET", "POST"])
@requires("viewer")
def segment(segment_id: int | None = None):
    item = services.get_segment(segment_id) if segment_id else None
    formdata = request.form if request.method == "POST" else (request.args or None)
    form = _segment_form(SegmentForm(formdata=formdata, obj=item))
    if item is not None and not formdata:
        for key, value in item.filters.items():
            field = getattr(form, key)
            field.data = ", ".join(value) if key in ("languages", "countries") else value
            if key == "acted_on_case":
                field.data = str(value)
    live_count, status = None, 200
    try:
        live_count = services.count(_filters(form))
    except ServiceError as error:
        attach_error(form, error)
        status = 422
    if request.method == "POST":
        if not _can("campaigner"):
            abort(403)
        if form.validate_on_submit() and status == 200:
            try:
                item = services.save_segment(
                    current_user, item, form.name.data or "", _filters(form), form.description.data
                )
            except ServiceError as error:
                attach_error(form, error)
            else:
                flash(f"Saved segment {item.name}.", "success")
                return redirect(url_for("supporters.segment", segment_id=item.id))
        status = 422
    return render_template(
        "supporters/segment.html", form=form, item=item, live_count=live_count
    ), status


@bp.get("/supporters/segments/count")
@requires("viewer")
def segment_count():
    form = _segment_form(SegmentForm(formdata=request.args, meta={"csrf": False}))
    try:
        return jsonify({"count": services.count(_filters(form))})
    except ServiceError as error:
        return jsonify({"message": error.message, "field": error.field}), 422


@bp.post("/supporters/segments/<int:segment_id>/delete")
@requires("coordinator")
def delete_segment(segment_id: int):
    item = services.get_segment(segment_id)
    if not confirmed("The segment was not deleted"):
        return redirect(url_for("supporters.segment_list"))
    services.delete_segment(current_user, item)
    flash("Segment deleted.", "success")
    return redirect(url_for("supporters.segment_list"))


@bp.get("/supporters/segments/<int:segment_id>/export.csv")
@requires("coordinator")
def export_segment(segment_id: int):
    item = services.get_segment(segment_id)
    query = services.segment_select(segments.clean_filters(item.filters))
    return _csv_response(query, f"segment {item.name}", f"segment-{item.id}.csv")


# --- staff: imports -------------------------------------------------------


@bp.route("/supporters/imports", methods=["GET", "POST"])
@requires("campaigner")
def import_upload():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = imports.receive(
                current_user, upload.stream, upload.filename, form.encoding.data or None
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            return redirect(url_for("supporters.import_job", job_id=job.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "supporters/import_upload.html", form=form, jobs=imports.recent_jobs()
    ), status


@bp.route("/supporters/imports/<int:job_id>", methods=["GET", "POST"])
@requires("campaigner")
def import_job(job_id: int):
    job = db.get_or_404(ImportJob, job_id)
    if job.state != ImportState.NEW:
        return render_template("supporters/import_job.html", job=job, confirm=ConfirmForm())
    try:
        headers = imports.headers(job)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("supporters.import_upload"))
    form_class = MappingForm.with_columns(headers)
    form = form_class(consent_source=job.consent_source, policy=job.policy)
    form.list_id.choices = choices(
        [(0, "— none —"), *((lst.id, lst.name) for lst in services.all_lists())]
    )
    if request.method == "GET":
        for name in FIELDS:
            getattr(form, f"map_{name}").data = job.mapping.get(name, "")
    if form.validate_on_submit():
        mapping = {name: getattr(form, f"map_{name}").data for name in FIELDS}
        try:
            imports.configure(
                current_user,
                job,
                mapping=mapping,
                consent_source=form.consent_source.data,
                list_id=form.list_id.data or None,
                policy=form.policy.data,
                dry_run=request.form.get("mode") != "import",
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            tasks.run_import_after_commit(job.id)
            return redirect(url_for("supporters.import_job", job_id=job.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "supporters/import_map.html", form=form, job=job, headers=headers, fields=FIELDS
    ), status


@bp.post("/supporters/imports/<int:job_id>/run")
@requires("campaigner")
def import_for_real(job_id: int):
    job = db.get_or_404(ImportJob, job_id)
    _confirmed_post()
    try:
        imports.run_again(current_user, job)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        tasks.run_import_after_commit(job.id)
    return redirect(url_for("supporters.import_job", job_id=job.id))


@bp.get("/supporters/imports/<int:job_id>/rejected.csv")
@requires("campaigner")
def import_rejections(job_id: int):
    job = db.get_or_404(ImportJob, job_id)
    file_id = imports.report_file(job)
    if file_id is None:
        abort(404)
    return storage.download(file_id, f"import-{job.id}-rejected.csv", "text/csv")
