"""Staff pages of the UA registry: list, case page, forms to create and issue."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from campaign import i18n
from campaign.cases import services
from campaign.cases.forms import (
    CaseForm,
    LinkPersonForm,
    PersonForm,
    PersonStatusForm,
    TargetForm,
)
from campaign.cases.models import CASE_STATUSES, CaseStatus, UpdateKind
from campaign.core.db import MAX_PAGE
from campaign.core.errors import NotFound, ServiceError
from campaign.core.forms import ConfirmForm, attach_error, choices
from campaign.core.roles import requires
from campaign.extensions import db

bp = Blueprint("cases", __name__)
# Templates compare states with these members, never with bare strings.
for _states in (CaseStatus, UpdateKind):
    bp.add_app_template_global(_states, _states.__name__)


def _case_or_404(case_id: int):
    try:
        return services.get_case(case_id)
    except NotFound:
        abort(404)


def _closed(case) -> bool:
    """A closed UA is read-only (its record is what supporters were told): say so."""
    if case.status != CaseStatus.CLOSED:
        return False
    flash(f"{case.label} is closed and read-only. Reopen it to change it.", "error")
    return True


def _person_or_404(person_id: int):
    try:
        return services.get_person(person_id)
    except NotFound:
        abort(404)


def _country_choices(blank: str = "—"):
    return choices([("", blank), *i18n.country_choices()])


@bp.get("/cases/")
@requires("viewer")
def index():
    args = request.args
    status = args.get("status") if args.get("status") in CASE_STATUSES else None
    year = args.get("year", type=int)
    query = services.list_cases(
        status=status, country=args.get("country") or None, year=year, q=args.get("q")
    )
    pagination = db.paginate(
        query, page=min(args.get("page", 1, type=int), MAX_PAGE), per_page=50, error_out=False
    )
    return render_template(
        "cases/index.html",
        cases=pagination,
        filters={
            "status": status or "",
            "country": args.get("country", ""),
            "year": year or "",
            "q": args.get("q", ""),
        },
        countries=[("", "Any country"), *i18n.country_choices()],
        statuses=CASE_STATUSES,
        today=services.org_today(),
    )


@bp.route("/cases/new", methods=["GET", "POST"])
@requires("campaigner")
def create():
    form = CaseForm()
    form.country_code.choices = _country_choices()
    if form.validate_on_submit():
        try:
            case = services.create_case(
                current_user, _case_data(form), number=form.number.data, year=form.year.data
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(
                f"Draft saved: {case.label} “{case.title}”. Add people and targets next.", "success"
            )
            _warn_past_deadline(case)
            return redirect(url_for("cases.show", case_id=case.id))
    status = 422 if request.method == "POST" else 200
    return render_template("cases/form.html", form=form, case=None), status


def _case_data(form: CaseForm) -> dict:
    return {field: getattr(form, field).data for field in services.CASE_FIELDS}


@bp.get("/cases/<int:case_id>")
@requires("viewer")
def show(case_id: int):
    case = _case_or_404(case_id)
    return render_template(
        "cases/show.html",
        case=case,
        days_left=services.days_left(case),
        confirm=ConfirmForm(),
        link_form=LinkPersonForm(formdata=None),
    )


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@requires("campaigner")
def edit(case_id: int):
    case = _case_or_404(case_id)
    if _closed(case):
        return redirect(url_for("cases.show", case_id=case.id))
    form = CaseForm(obj=case)
    form.country_code.choices = _country_choices()
    if request.method == "GET":
        form.languages.data = ", ".join(case.languages or [])
        form.themes.data = ", ".join(case.themes or [])
    if form.validate_on_submit():
        data = _case_data(form)
        if case.status == CaseStatus.DRAFT or form.number.data:
            data.update(number=form.number.data, year=form.year.data)
        try:
            services.update_case(current_user, case, data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash("Saved.", "success")
            _warn_past_deadline(case)
            return redirect(url_for("cases.show", case_id=case.id))
    status = 422 if request.method == "POST" else 200
    return render_template("cases/form.html", form=form, case=case), status


def _warn_past_deadline(case) -> None:
    """A past deadline is right for a historic UA, a typo for a new one: say so, keep it."""
    today = services.org_today()
    if case.deadline and case.deadline < today and case.status != CaseStatus.CLOSED:
        flash(
            f"The appeal deadline, {case.deadline:%-d %B %Y}, has passed. Issuing will ask "
            "for a later one unless this is a historic UA.",
            "warning",
        )


# Issuing, issuing an update, closing and reopening are lifecycle steps with a
# readiness check across domains: their pages live in campaign/outcomes/views.py.


# --- people ---------------------------------------------------------------


@bp.get("/people/")
@requires("viewer")
def people():
    q = request.args.get("q", "")
    return render_template("cases/people.html", people=services.search_people(q), q=q)


@bp.route("/people/new", methods=["GET", "POST"])
@requires("campaigner")
def new_person():
    form = PersonForm()
    if form.validate_on_submit():
        try:
            person = services.save_person(current_user, None, form.data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(f"Added {person.name}.", "success")
            return redirect(url_for("cases.person", person_id=person.id))
    status = 422 if request.method == "POST" else 200
    return render_template("cases/person_form.html", form=form, person=None), status


@bp.get("/people/<int:person_id>")
@requires("viewer")
def person(person_id: int):
    person = _person_or_404(person_id)
    return render_template(
        "cases/person.html",
        person=person,
        cases=services.cases_of(person),
        status_form=PersonStatusForm(formdata=None),
    )


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@requires("campaigner")
def edit_person(person_id: int):
    person = _person_or_404(person_id)
    form = PersonForm(obj=person)
    if request.method == "GET":
        form.aliases.data = "\n".join(person.spellings[1:])
    if form.validate_on_submit():
        try:
            services.save_person(current_user, person, form.data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash("Saved.", "success")
            return redirect(url_for("cases.person", person_id=person.id))
    status = 422 if request.method == "POST" else 200
    return render_template("cases/person_form.html", form=form, person=person), status


@bp.post("/people/<int:person_id>/statuses")
@requires("campaigner")
def add_status(person_id: int):
    person = _person_or_404(person_id)
    form = PersonStatusForm()
    if form.validate_on_submit():
        try:
            services.add_person_status(
                current_user, person, on=form.on.data, status=form.status.data, note=form.note.data
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash("Status added.", "success")
            return redirect(url_for("cases.person", person_id=person.id))
    return render_template(
        "cases/person.html", person=person, cases=services.cases_of(person), status_form=form
    ), 422


@bp.post("/cases/<int:case_id>/people")
@requires("campaigner")
def link_person(case_id: int):
    case = _case_or_404(case_id)
    if _closed(case):
        return redirect(url_for("cases.show", case_id=case.id))
    form = LinkPersonForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError("Choose a person or give a new name.", "name")
        if form.person_id.data:
            person = services.get_person(form.person_id.data)
        else:
            # Named publicly only once someone ticks it on the person's page.
            person = services.save_person(
                current_user, None, {"name": form.name.data, "consent_to_name": False}
            )
        services.link_person(current_user, case, person)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("cases.show", case_id=case.id, _anchor="people"))
    flash(f"{person.name} added to {case.label}.", "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="people"))


@bp.post("/cases/<int:case_id>/people/<int:person_id>/remove")
@requires("campaigner")
def unlink_person(case_id: int, person_id: int):
    case = _case_or_404(case_id)
    if _closed(case):
        return redirect(url_for("cases.show", case_id=case.id))
    person = _person_or_404(person_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.unlink_person(current_user, case, person)
    except NotFound:
        abort(404)  # a person of another UA: as if the address did not exist
    except ServiceError as error:
        flash(error.message, "error")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="people"))


# --- targets --------------------------------------------------------------


@bp.route("/cases/<int:case_id>/targets/new", methods=["GET", "POST"])
@bp.route("/cases/<int:case_id>/targets/<int:target_id>/edit", methods=["GET", "POST"])
@requires("campaigner")
def target_form(case_id: int, target_id: int | None = None):
    case = _case_or_404(case_id)
    if _closed(case):
        return redirect(url_for("cases.show", case_id=case.id))
    target = None
    if target_id is not None:
        try:
            target = services.get_target(case, target_id)
        except NotFound:
            abort(404)
    form = TargetForm(obj=target)
    form.copy_country.choices = _country_choices()
    if form.validate_on_submit():
        data = {field: getattr(form, field).data for field in services.TARGET_FIELDS}
        try:
            target = services.save_target(current_user, case, target, data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(f"Saved target {target.heading}.", "success")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="targets"))
    status = 422 if request.method == "POST" else 200
    return render_template("cases/target_form.html", form=form, case=case, target=target), status


@bp.post("/cases/<int:case_id>/targets/<int:target_id>/delete")
@requires("campaigner")
def delete_target(case_id: int, target_id: int):
    case = _case_or_404(case_id)
    if _closed(case):
        return redirect(url_for("cases.show", case_id=case.id))
    try:
        target = services.get_target(case, target_id)
    except NotFound:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_target(current_user, case, target)
    flash("Target removed.", "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="targets"))
