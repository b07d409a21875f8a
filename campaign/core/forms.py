"""Helpers shared by form-handling views."""

from __future__ import annotations

from flask import abort, flash
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.fields.choices import SelectChoice

from campaign.core.errors import ServiceError


def attach_error(form: FlaskForm, error: ServiceError) -> None:
    """Show a service's refusal at the field it names, else above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


class ConfirmForm(FlaskForm):
    """An empty form: just the CSRF token, for POST-only buttons."""


class DangerForm(FlaskForm):
    """A destructive or mass action: the CSRF token and a tick that says "yes, really".

    Rendered by the ``confirm_button`` macro of templates/_macros.html.
    """

    confirm = BooleanField("Yes")


def confirmed(what: str = "Nothing was changed") -> bool:
    """True when a destructive action's form was ticked; else flash why and return False.

    A bad or missing CSRF token is a 400, as for any other POST-only button.
    """
    form = DangerForm()
    if not form.validate_on_submit():
        abort(400)
    if not form.confirm.data:
        flash(f"{what}: tick the box to confirm.", "error")
        return False
    return True


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]
