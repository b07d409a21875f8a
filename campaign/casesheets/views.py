"""Staff pages of the case-sheet import: upload or paste, review, save; download originals."""

from __future__ import annotations

import re
from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from campaign import i18n
from campaign.cases import services as cases
from campaign.cases.labels import update_label
from campaign.cases.models import UpdateKind
from campaign.casesheets import services
from campaign.casesheets.forms import ImportForm, ReviewForm
from campaign.casesheets.highlight import LABELS, highlight, marks_of
from campaign.core import storage
from campaign.core.errors import NotFound, ServiceError
from campaign.core.forms import ConfirmForm, attach_error, choices
from campaign.core.roles import requires
from campaign.extensions import db

bp = Blueprint("casesheets", __name__)

FURTHER_ACTION = {True: UpdateKind.FURTHER_ACTION, False: UpdateKind.NO_FURTHER_ACTION}


@bp.errorhandler(413)
def too_large(_error):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    text = (
        f"The upload is larger than {limit / 1024 / 1024:.0f} MB, the most this form accepts, "
        "and nothing was saved. A case sheet is far smaller: save it as PDF or .docx without "
        "large images, or paste its text instead."
    )
    return render_template("errors/error.html", code=413, title="File too large", text=text), 413


@bp.app_template_global("case_documents")
def case_documents(case):
    """For the case page's "Documents" section."""
    return services.documents_of(case)


@bp.route("/casesheets/import", methods=["GET", "POST"])
@requires("campaigner")
def upload():
    form = ImportForm()
    if form.validate_on_submit():
        try:
            document = _store(form)
        except ServiceError as error:
            attach_error(form, error)
        else:
            return redirect(url_for("casesheets.review", document_id=document.id))
    status = 422 if request.method == "POST" else 200
    return render_template("casesheets/upload.html", form=form), status


def _store(form: ImportForm):
    upload = form.file.data
    # Only the login has been read so far: end that transaction before parsing. On SQLite
    # a transaction holds the write lock from its start (BEGIN IMMEDIATE), and reading a
    # large PDF or .docx takes long enough to stall every other writer meanwhile.
    db.session.rollback()
    if upload is not None and upload.filename:
        return services.store_upload(current_user, upload.read(), upload.filename)
    return services.store_paste(current_user, form.text.data or "")


@bp.route("/casesheets/<int:document_id>/review", methods=["GET", "POST"])
@requires("campaigner")
def review(document_id: int):
    document = _document_or_404(document_id)
    if not document.is_pending:
        flash(f"This document was already saved with {document.case.label}.", "info")
        return redirect(url_for("cases.show", case_id=document.case_id))
    proposal_review = services.propose(document)
    if request.method == "POST":
        form = ReviewForm()
    else:
        form = ReviewForm(data=initial_data(proposal_review))
    _set_choices(form, proposal_review)
    refused = None
    if form.validate_on_submit():
        try:
            case, update = services.save_review(current_user, document.id, reviewed(form))
        except ServiceError as error:
            attach_nested_error(form, error)
            refused = error.message
        else:
            return _saved(case, update)
    elif request.method == "POST":
        refused = "Some fields need correcting: see the messages next to them."
    marks = marks_of(proposal_review.proposal)
    return render_template(
        "casesheets/review.html",
        form=form,
        review=proposal_review,
        proposal=proposal_review.proposal,
        source=highlight(proposal_review.text, marks),
        marked={mark.key for mark in marks},
        refused=refused,
        description=describe(proposal_review),
        missing_labels=[_missing_label(key) for key in proposal_review.proposal.missing],
        confirm=ConfirmForm(formdata=None),
    ), (422 if request.method == "POST" else 200)


MISSING_LABELS = {
    **LABELS,
    "further_action": "whether further action is requested",
    "people": "people at risk",
    "targets": "targets",
}


def _missing_label(key: str) -> str:
    label = MISSING_LABELS.get(key, key.replace("_", " "))
    return label if label.startswith("UA") else label[0].lower() + label[1:]


def describe(review: services.Review) -> str:
    """The headline of the review page: what kind of document this is."""
    p = review.proposal
    number = f" of UA {p.ua_number.value}/{str(p.year.value)[-2:]}" if p.ua_number.found else ""
    if p.kind.value == "update":
        which = update_label(p.update_number.value) if p.update_number.found else "An update"
        return f"{which[0].upper()}{which[1:]}{number}"
    if p.kind.value == "outcome":
        return f"A UA outcome{number}: {p.outcome.value}"
    if p.kind.value == "original":
        return f"An original case sheet{number.replace(' of', ':')}"
    return "A document of unknown kind"


def _saved(case, update):
    if update is not None:
        flash(f"Imported: issued the {update.full_label}.", "success")
        return redirect(url_for("cases.show", case_id=case.id, _anchor=f"update-{update.sequence}"))
    flash(f"Imported as a draft: “{case.title}”. Check it, then issue it.", "success")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.post("/casesheets/<int:document_id>/discard")
@requires("campaigner")
def discard(document_id: int):
    document = _document_or_404(document_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.discard(current_user, document)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("cases.show", case_id=document.case_id))
    flash("The document was discarded; nothing was saved.", "success")
    return redirect(url_for("casesheets.upload"))


@bp.get("/casesheets/documents/<int:document_id>")
@requires("viewer")
def download(document_id: int):
    document = _document_or_404(document_id)
    if document.is_pending:
        abort(404)  # not part of any case yet: only its review page shows it
    if document.file_id is None:
        abort(404)
    response = storage.download(document.file_id, document.filename, document.content_type)
    response.cache_control.max_age = 0
    return response


def _document_or_404(document_id: int):
    try:
        return services.get_document(document_id)
    except NotFound:
        abort(404)


# --- the review form ------------------------------------------------------


def initial_data(review: services.Review) -> dict:
    """The proposal as form data; what was not found stays empty, never guessed."""
    p = review.proposal
    deadline = p.deadline.value
    issued_on = date.fromisoformat(p.issue_date.value) if p.issue_date.found else None
    return {
        "save_as": _default_save_as(review),
        "ua_number": p.ua_number.value,
        "ua_year": p.year.value,
        "title": p.title.value or "",
        "update_kind": FURTHER_ACTION.get(p.further_action.value, ""),
        "update_body": services.update_body(review),
        "country_code": p.country.value or "",
        "index_reference": p.index_reference.value or "",
        "deadline": date.fromisoformat(deadline) if deadline else None,
        "issued_on": issued_on,
        "languages": ", ".join(p.languages.value or []),
        "summary": p.summary.value or "",
        "recommended_actions": "\n".join(p.recommended_actions.value or []),
        "background": p.background.value or "",
        "people": [_person_data(review, person, issued_on) for person in p.people]
        + [{"include": True}],
        "targets": [_target_data(_updated_case(review), target) for target in p.targets]
        + [{"include": True}],
    }


def _default_save_as(review: services.Review) -> str:
    if review.case is not None:
        return "update"
    if review.proposal.kind.value in ("update", "outcome") and review.suggestions:
        return f"case-{review.suggestions[0][0].id}"
    return "new"


def _updated_case(review: services.Review):
    """The case the proposal would update by default, if any."""
    save_as = _default_save_as(review)
    if save_as == "update":
        return review.case
    return review.suggestions[0][0] if save_as.startswith("case-") else None


def _person_data(review: services.Review, person, issued_on: date | None) -> dict:
    code = person.status_code or ""
    known = review.known.get(person.person_id)
    if known and known.current_status and known.current_status.status == code:
        code = ""  # already recorded: a second "released" row would say nothing new
    return {
        "include": True,
        "person_id": str(person.person_id or ""),
        "name": person.name,
        "aliases": "\n".join(person.aliases),
        "status": code,
        "note": person.status.value or "",
        # The date the text gives, else the sheet's: never the day of the import.
        "on": _status_day(person, issued_on),
    }


def _status_day(person, issued_on: date | None) -> date | None:
    if person.status_on.found:
        return date.fromisoformat(person.status_on.value)
    return issued_on or cases.org_today()


def _target_data(case, target) -> dict:
    return {
        "include": not _case_has_target(case, target),
        "title": target.title or "",
        "name": target.name or "",
        "organisation": target.organisation or "",
        "address": "\n".join(target.address),
        "email": target.email or "",
        "fax": target.fax or "",
        "phone": target.phone or "",
        "social": "; ".join(target.social),
        "salutation": target.salutation or "",
        "is_copy": target.is_copy,
    }


def _case_has_target(case, target) -> bool:
    if case is None:
        return False
    key = ((target.name or "").casefold(), (target.title or "").casefold())
    return any((t.name.casefold(), t.title.casefold()) == key for t in case.targets)


def _set_choices(form: ReviewForm, review: services.Review) -> None:
    form.save_as.choices = choices(_save_as_choices(review))
    form.country_code.choices = choices([("", "—"), *i18n.country_choices()])
    people = review.proposal.people
    for index, row in enumerate(form.people):
        options = [("", "A new person")]
        if index < len(people):
            for pid in services.candidate_ids(people[index]):
                if pid in review.known:
                    options.append((str(pid), _known_label(review.known[pid])))
        row.form.person_id.choices = choices(options)


def _save_as_choices(review: services.Review) -> list[tuple[str, str]]:
    options = [("new", "A new draft UA (with the number above, if any)")]
    if review.case is not None:
        case = review.case
        label = f"An update of {case.label}: {case.title} (the number in the document)"
    else:
        label = "An update of the UA with the number above"
    options.append(("update", label))
    for case, count in review.suggestions:
        people = "person" if count == 1 else "people"
        options.append(
            (
                f"case-{case.id}",
                f"An update of {case.label}: {case.title} "
                f"(suggested: {count} of the {people} named are on it)",
            )
        )
    return options


def _known_label(person) -> str:
    others = person.spellings[1:]
    return f"Known: {person.name}" + (f" (also {', '.join(others)})" if others else "")


def reviewed(form: ReviewForm) -> services.Reviewed:
    case_data = {
        name: getattr(form, name).data
        for name in (
            "title",
            "country_code",
            "index_reference",
            "deadline",
            "languages",
            "summary",
            "recommended_actions",
            "background",
        )
    }
    return services.Reviewed(
        save_as=form.save_as.data or "",
        ua_number=form.ua_number.data,
        ua_year=form.ua_year.data,
        case=case_data,
        update_kind=form.update_kind.data or "",
        update_title=form.title.data or "",
        update_body=form.update_body.data or "",
        new_deadline=form.deadline.data,
        issued_on=form.issued_on.data,
        update_index_reference=form.index_reference.data or "",
        people=[_person_entry(row.form) for row in form.people],
        targets=[_target_entry(row.form) for row in form.targets],
    )


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _person_entry(row) -> services.PersonEntry | None:
    person_id = row.person_id.data or ""
    if not row.include.data or not ((row.name.data or "").strip() or person_id):
        return None
    return services.PersonEntry(
        name=" ".join((row.name.data or "").split()),
        person_id=int(person_id) if str(person_id).isdigit() else None,
        aliases=_lines(row.aliases.data),
        status=row.status.data or "",
        note=row.note.data or "",
        on=row.on.data,
    )


_TARGET_TEXT = ("title", "name", "organisation", "address", "email", "fax", "phone", "social")


def _target_entry(row) -> dict | None:
    data = {name: (getattr(row, name).data or "").strip() for name in _TARGET_TEXT}
    data["salutation"] = (row.salutation.data or "").strip()
    data["is_copy"] = bool(row.is_copy.data)
    useful = any(data[name] for name in ("title", "name", "organisation", "address", "email"))
    return data if row.include.data and useful else None


_NESTED = re.compile(r"(people|targets)-(\d+)-(\w+)")


def attach_nested_error(form: ReviewForm, error: ServiceError) -> None:
    """Like attach_error, and for "people-0-name" at that row's field."""
    match = _NESTED.fullmatch(error.field or "")
    if match:
        rows = getattr(form, match.group(1)).entries
        index = int(match.group(2))
        field = getattr(rows[index].form, match.group(3), None) if index < len(rows) else None
        if field is not None:
            field.errors = [*field.errors, error.message]
            return
    attach_error(form, error)
