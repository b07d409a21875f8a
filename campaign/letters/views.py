"""Pages of letters and actions: the staff letters editor with previews, print
packs, the public case page with its "I took action" form, and the pages
behind the signed "I sent my appeal" links.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

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
from flask_babel import format_date, gettext
from flask_login import current_user
from flask_wtf import FlaskForm

from campaign import i18n
from campaign.cases import services as cases
from campaign.cases import texts as case_texts
from campaign.cases.models import TRANSLATED_FIELDS, Case, CaseStatus
from campaign.core.errors import NotFound, ServiceError
from campaign.core.forms import ConfirmForm, attach_error, choices
from campaign.core.roles import public, requires
from campaign.core.tokens import TokenRefused
from campaign.extensions import db, limiter
from campaign.i18n import N_, language_name
from campaign.letters import printing, rendering, services
from campaign.letters.appeal import appeal_block, latest_closing, render_letter
from campaign.letters.forms import (
    DEFAULT_BODY,
    ActionForm,
    CaseTextForm,
    ConfirmActionForm,
    LetterForm,
    PrintForm,
)
from campaign.letters.tasks import send_action_claim_after_commit
from campaign.supporters import limits
from campaign.supporters import services as supporters
from campaign.supporters.models import CHANNELS
from campaign.supporters.tasks import send_confirmation_after_commit
from campaign.supporters.views import signup_key

bp = Blueprint("letters", __name__)
log = logging.getLogger(__name__)


def _public_limit() -> str:
    return current_app.config["RATELIMIT_PUBLIC_FORMS"]


def _case_or_404(case_id: int) -> Case:
    try:
        return cases.get_case(case_id)
    except NotFound:
        abort(404)


def _letter_or_404(case: Case, letter_id: int):
    try:
        return services.get_letter(case, letter_id)
    except NotFound:
        abort(404)


@bp.app_template_global()
def active_uas(exclude_id: int | None = None) -> list[dict]:
    """The active UAs for a public page's "act on these next" list, in the page's language."""
    language = i18n.current_language()
    return [
        {
            "case": case,
            "url": url_for("letters.public_page", case_id=case.id, lang=language),
            "deadline": format_date(case.current_deadline, format="long")
            if case.current_deadline
            else "",
        }
        for case in services.active_public_cases(exclude_id)
    ]


@bp.app_template_filter("channel")
def channel_label(code: str) -> str:
    """ "fax" → "Fax": staff read words, not the stored codes."""
    return CHANNELS.get(code, code)


@bp.app_template_global()
def letters_section(case: Case) -> dict:
    """What the staff case page shows of letters and actions."""
    return {"letters": services.list_letters(case), "stats": services.action_stats(case)}


# --- the staff editor -------------------------------------------------------


@bp.get("/cases/<int:case_id>/letters/")
@requires("viewer")
def index(case_id: int):
    case = _case_or_404(case_id)
    return render_template(
        "letters/index.html",
        case=case,
        texts=case_texts.translations(case),
        text_languages=[x for x in case.languages or [] if x != case_texts.main_language(case)],
        letters=services.list_letters(case),
        placeholders=rendering.PLACEHOLDERS,
        confirm=ConfirmForm(),
    )


@bp.route("/cases/<int:case_id>/letters/new", methods=["GET", "POST"])
@bp.route("/cases/<int:case_id>/letters/<int:letter_id>/edit", methods=["GET", "POST"])
@requires("campaigner")
def edit(case_id: int, letter_id: int | None = None):
    case = _case_or_404(case_id)
    letter = _letter_or_404(case, letter_id) if letter_id is not None else None
    form = LetterForm(obj=letter)
    form.update_id.choices = choices(
        [
            ("", f"The appeal of {case.label}" if case.number else "The appeal (not an update)"),
            *((str(u.id), u.full_label) for u in case.updates),
        ]
    )
    if request.method == "GET":
        form.update_id.data = str(letter.update_id or "") if letter else ""
        if letter is None:
            form.language.data = (case.languages or ["en"])[0]
            form.body.data = DEFAULT_BODY
    previews, status = [], 200
    if form.validate_on_submit():
        data = _letter_data(form)
        if request.form.get("action") == "preview":
            previews = _previews(case, data, form)
        else:
            try:
                letter = services.save_letter(current_user, case, letter, data)
            except ServiceError as error:
                attach_error(form, error)
            else:
                flash(f"Saved the {i18n.language_name(letter.language)} letter.", "success")
                return redirect(url_for("letters.show", case_id=case.id, letter_id=letter.id))
    if request.method == "POST" and (form.errors or form.form_errors):
        status = 422
    return render_template(
        "letters/form.html",
        case=case,
        letter=letter,
        form=form,
        previews=previews,
        placeholders=rendering.PLACEHOLDERS,
    ), status


@bp.route("/cases/<int:case_id>/texts/<string:language>", methods=["GET", "POST"])
@requires("campaigner")
def case_text(case_id: int, language: str):
    """The small per-language editor of the UA's text (title, summary, actions...)."""
    case = _case_or_404(case_id)
    row = case_texts.translations(case).get(language)
    form = CaseTextForm(obj=row)
    status = 200
    if form.validate_on_submit():
        data = {name: getattr(form, name).data or "" for name in TRANSLATED_FIELDS}
        try:
            saved = case_texts.set_case_text(current_user, case, language, data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            what = "Saved" if saved is not None else "Removed"
            flash(f"{what} the {language_name(language)} text.", "success")
            return redirect(url_for("letters.index", case_id=case.id))
    if request.method == "POST":
        status = 422
    return render_template(
        "letters/case_text.html", case=case, form=form, language=language, row=row
    ), status


def _letter_data(form: LetterForm) -> dict:
    update_id = form.update_id.data
    return {
        "language": form.language.data,
        "subject": form.subject.data,
        "body": form.body.data,
        "update_id": int(update_id) if update_id and update_id.isdigit() else None,
        "is_default": form.is_default.data,
    }


def _previews(case: Case, data: dict, form: LetterForm) -> list:
    """Render unsaved text for the sample supporter; refusals go to their field."""
    language = (data["language"] or "en").strip().lower()
    values = services.sample_values(case, language)
    try:
        for field in ("subject", "body"):
            rendering.check(data[field], field, values)
    except ServiceError as error:
        attach_error(form, error)
        return []
    draft = SimpleNamespace(language=language, subject=data["subject"], body=data["body"])
    return _render_for_targets(case, draft)


def _render_for_targets(case: Case, letter) -> list:
    supporter = services.sample_supporter(letter.language)
    targets = list(case.targets) or [None]
    return [
        (target, render_letter(case, letter, supporter=supporter, target=target))
        for target in targets
    ]


@bp.get("/cases/<int:case_id>/letters/<int:letter_id>")
@requires("viewer")
def show(case_id: int, letter_id: int):
    case = _case_or_404(case_id)
    letter = _letter_or_404(case, letter_id)
    try:
        previews = _render_for_targets(case, letter)
    except ServiceError as error:
        previews, message = [], error.message
    else:
        message = None
    return render_template(
        "letters/show.html",
        case=case,
        letter=letter,
        previews=previews,
        error=message,
        supporter=services.sample_supporter(letter.language),
        confirm=ConfirmForm(),
    )


@bp.post("/cases/<int:case_id>/letters/<int:letter_id>/delete")
@requires("campaigner")
def delete(case_id: int, letter_id: int):
    case = _case_or_404(case_id)
    letter = _letter_or_404(case, letter_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_letter(current_user, case, letter)
    flash("Letter removed.", "success")
    return redirect(url_for("letters.index", case_id=case.id))


# --- print packs --------------------------------------------------------------


@bp.get("/cases/<int:case_id>/print")
@requires("viewer")
def print_pack(case_id: int):
    """The form for a group's pack; with ``copies`` given, the PDF itself."""
    case = _case_or_404(case_id)
    form = PrintForm(request.args)
    languages = sorted({x.language for x in services.list_letters(case)})
    form.language.choices = choices((code, i18n.language_name(code)) for code in languages)
    form.country.choices = choices([("", "No embassy copies"), *i18n.country_choices()])
    if "copies" in request.args and form.validate():
        try:
            html = printing.pack_html(
                case,
                language=form.language.data or None,
                copies=form.copies.data,
                country=form.country.data or None,
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            return _pdf(html, f"{case.label} letters x{form.copies.data}")
    status = 422 if "copies" in request.args else 200
    return render_template("letters/print.html", case=case, form=form), status


def _pdf(html: str, name: str) -> Response:
    # A GET that wrote nothing: end the transaction before the slow rendering,
    # so SQLite's write lock (transactions begin IMMEDIATE) is not held.
    db.session.rollback()
    filename = "".join(c if c.isalnum() else "-" for c in name).strip("-") + ".pdf"
    return Response(
        printing.to_pdf(html),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


# --- the public case page -------------------------------------------------------


# The public pages speak the language Flask-Babel selected (campaign.i18n); the
# appeal block speaks the language of the letter closest to it.
CHANNEL_LABELS = {
    "letter": N_("Letter"),
    "email": N_("Email"),
    "fax": N_("Fax"),
    "social": N_("Social media"),
    "phone": N_("Phone call"),
}
# Outcome labels shown to the public (the outcomes domain's keys).
OUTCOME_LABELS = {
    "released": N_("Released"),
    "released_on_bail": N_("Released on bail"),
    "charges_dropped": N_("Charges dropped"),
    "acquitted": N_("Acquitted"),
    "sentence_reduced": N_("Sentence reduced"),
    "conviction_upheld": N_("Conviction upheld"),
    "death_sentence_commuted": N_("Death sentence commuted"),
    "executed": N_("Executed"),
    "died_in_custody": N_("Died in custody"),
    "transferred": N_("Transferred"),
    "other": N_("Other"),
}


def _channel_choices():
    return choices(
        (key, gettext(CHANNEL_LABELS.get(key, label))) for key, label in CHANNELS.items()
    )


def _language(case: Case) -> str | None:
    available = _languages(case)
    for asked in (request.args.get("lang", ""), i18n.current_language()):
        if asked in available:
            return asked
    return request.accept_languages.best_match(available) if available else None


def _person_outcomes(case: Case) -> list[dict]:
    """Each named person's outcome from the latest closing, labels and dates in the
    page's language (people who did not consent to be named are left out)."""
    if case.status != CaseStatus.CLOSED:
        return []
    closing = latest_closing(case)
    if closing is None:
        return []
    return [
        {
            "name": item.person.name,
            "outcome": item.outcome,
            "label": gettext(OUTCOME_LABELS.get(item.outcome, OUTCOME_LABELS["other"])),
            "on": format_date(item.on, format="long") if item.on else "",
            "note": item.note,
        }
        for item in closing.outcomes
        if item.person is not None and item.person.consent_to_name
    ]


def _languages(case: Case) -> list[str]:
    letters = sorted({x.language for x in services.list_letters(case)})
    return list(dict.fromkeys([*(case.languages or []), *letters]))


@bp.get("/ua/<int:case_id>")
@i18n.supporter_page
@public
def public_page(case_id: int):
    case = _public_or_404(case_id)
    return _render_public(case, ActionForm(formdata=None))


CLOSED = N_("No further action is requested. Many thanks to all who sent appeals.")


def _public_or_404(case_id: int) -> Case:
    try:
        return services.public_case(case_id)
    except NotFound:
        abort(404)


def _render_public(case: Case, form: ActionForm, status: int = 200):
    block = appeal_block(case, language=_language(case))
    form.channel.choices = _channel_choices()
    form.country.choices = choices([("", "—"), *i18n.countries(i18n.current_language())])
    return render_template(
        "public/case.html",
        case=case,
        block=block,
        form=form,
        languages=[x for x in _languages(case) if x != block.language],
        people=[p for p in case.people if p.consent_to_name],
        outcomes=_person_outcomes(case),
    ), status


@bp.post("/ua/<int:case_id>/actions")
@i18n.supporter_page
@public
@limiter.limit(_public_limit, methods=["POST"])
def took_action(case_id: int):
    case = _public_or_404(case_id)
    form = ActionForm()
    lang = request.args.get("lang") or None
    if case.status == CaseStatus.CLOSED:
        flash(gettext(CLOSED), "info")
        return redirect(url_for("letters.public_page", case_id=case.id, lang=lang))
    if not form.validate_on_submit():
        return _render_public(case, form, 422)
    # The same limits as /join: accepted sign-ups per address and per network.
    signing_up = form.sign_up.data and not form.website.data
    if signing_up and not limits.allowed(signup_key(form.email.data), request.remote_addr):
        return render_template("public/too_many.html"), 429
    # Bots fill the hidden field; they get the same answer and change nothing.
    if not form.website.data:
        try:
            _record_public_action(case, form)
        except ServiceError as error:
            attach_error(form, error)
            return _render_public(case, form, 422)
    flash(gettext("Thank you! Your action has been counted."), "success")
    if form.sign_up.data:
        flash(gettext("If you asked for Urgent Actions, check your inbox to confirm."), "info")
    return redirect(url_for("letters.public_page", case_id=case.id, lang=lang))


def _record_public_action(case: Case, form: ActionForm) -> None:
    recorded = services.record_action(
        case,
        channel=form.channel.data,
        source="public page",
        country=form.country.data or None,
        email=form.email.data,
    )
    # Counted, but not theirs until the supporter with that address says so
    # through the signed link this sends (the page answers the same either way).
    claim = services.claimable(case, form.email.data) if recorded else None
    if claim is not None:
        send_action_claim_after_commit(claim[0], claim[1].id)
    if form.sign_up.data:
        _sign_up(case, form)


def _sign_up(case: Case, form: ActionForm) -> None:
    """Double opt-in through the supporters domain; answers nothing about the address."""
    data = {
        "email": form.email.data,
        "first_name": form.first_name.data,
        "last_name": form.last_name.data,
        "language": i18n.current_language(),
    }
    if form.country.data:
        data["country"] = form.country.data
    supporter = supporters.sign_up(
        data, ip=request.remote_addr, source=f"public page of {case.label}"
    )
    limits.count(signup_key(form.email.data), request.remote_addr)
    if supporter is not None:
        _send_confirmation_after_commit(supporter.id)


def _send_confirmation_after_commit(supporter_id: int) -> None:
    send_confirmation_after_commit(supporter_id)


# --- the signed "I sent my appeal" links ------------------------------------------


def _read_link(token: str):
    try:
        return services.read_action_token(token)
    except TokenRefused as error:
        abort(Response(render_template("public/link_refused.html", message=error.message), 400))


def _act_page(token: str):
    case, supporter, channel = _read_link(token)
    i18n.use_supporter_language(getattr(supporter, "language", None))
    return case, supporter, channel, appeal_block(case, supporter)


@bp.get("/act/<token>")
@i18n.supporter_page
@public
def act(token: str):
    case, _supporter, channel, block = _act_page(token)
    form = ConfirmActionForm(formdata=None, channel=channel or "letter")
    form.channel.choices = _channel_choices()
    return render_template("public/act.html", case=case, block=block, form=form)


@bp.post("/act/<token>")
@i18n.supporter_page
@public
@limiter.limit(_public_limit, methods=["POST"])
def act_record(token: str):
    case, supporter, _channel, block = _act_page(token)
    form = ConfirmActionForm()
    form.channel.choices = _channel_choices()
    if not form.validate_on_submit():
        return render_template("public/act.html", case=case, block=block, form=form), 422
    services.record_action(
        case, supporter=supporter, channel=form.channel.data, source="email link"
    )
    return render_template("public/act_done.html", case=case, block=block)


class ClaimForm(FlaskForm):
    """Only a button: a link scanner opening the email's link must not link anything."""


def _claim_or_refuse(token: str):
    try:
        action, supporter = services.read_claim(token)
    except TokenRefused as error:
        abort(Response(render_template("public/link_refused.html", message=error.message), 400))
    i18n.use_supporter_language(supporter.language)
    return action, supporter, db.session.get(Case, action.case_id)


@bp.get("/ua/claim/<token>")
@i18n.supporter_page
@public
def claim(token: str):
    action, supporter, case = _claim_or_refuse(token)
    done = action.supporter_id == supporter.id
    return render_template("public/claim.html", case=case, form=ClaimForm(), done=done)


@bp.post("/ua/claim/<token>")
@i18n.supporter_page
@public
@limiter.limit(_public_limit, methods=["POST"])
def claim_confirm(token: str):
    action, supporter, case = _claim_or_refuse(token)
    if not ClaimForm().validate_on_submit():
        abort(400)
    try:
        services.claim_action(action, supporter)
    except TokenRefused as error:
        return render_template("public/link_refused.html", message=error.message), 400
    return render_template("public/claim.html", case=case, form=None, done=True)


NOTHING_TO_PRINT = N_("There are no letters to print for this appeal yet. Try again later.")


def _pdf_limit() -> str:
    return current_app.config["RATELIMIT_LETTER_PDF"]


@bp.get("/act/<token>/letters.pdf")
@limiter.limit(_pdf_limit)  # anonymous, and about a second of CPU per PDF
@i18n.supporter_page
@public
def supporter_pack(token: str):
    case, supporter, _channel = _read_link(token)
    i18n.use_supporter_language(getattr(supporter, "language", None))
    try:
        html = printing.pack_html(case, supporter)
    except ServiceError:
        # The staff's reason ("write a letter…") is not for supporters.
        return render_template("public/link_refused.html", message=NOTHING_TO_PRINT), 404
    return _pdf(html, f"{case.label} letters")
