"""Forms of the letters editor, the print pack and the public case page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from campaign.core.forms import choices
from campaign.letters.printing import MAX_COPIES
from campaign.supporters.models import CHANNELS

DEFAULT_BODY = """{{ salutation }},

I am writing to you about {{ people }} ({{ case_label }}).

…

Yours sincerely,

{{ supporter_name }}
{% if city %}{{ city }}, {% endif %}{{ country }}"""


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LetterForm(FlaskForm):
    update_id = SelectField("For", validate_choice=False)
    language = StringField(
        "Language", validators=[DataRequired(), Length(max=8)], description="ISO code: en, ru…"
    )
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField("Letter", validators=[DataRequired(), Length(max=20_000)])
    is_default = BooleanField("Default letter (for supporters whose language has none)")


class PrintForm(FlaskForm):
    """A GET form: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    language = SelectField("Language", validate_choice=False)
    copies = IntegerField(
        "Copies", default=10, validators=[DataRequired(), NumberRange(1, MAX_COPIES)]
    )
    country = SelectField("Embassy copies for supporters in", validate_choice=False)


class ActionForm(FlaskForm):
    """The public "I took action" form. Labels come from texts, in the page's language."""

    email = EmailField(validators=[DataRequired(), Email(), Length(max=320)], filters=[_strip])
    channel = SelectField(choices=choices(CHANNELS.items()))
    country = SelectField(validators=[Optional()], validate_choice=False)
    # A honeypot: hidden from people by CSS, filled in by bots.
    website = StringField(validators=[Length(max=200)])
    sign_up = BooleanField()
    first_name = StringField(validators=[Length(max=100)])
    last_name = StringField(validators=[Length(max=100)])


class ConfirmActionForm(FlaskForm):
    channel = SelectField(choices=choices(CHANNELS.items()))


class CaseTextForm(FlaskForm):
    """The UA's text in one more language (the case's own text is its main language's)."""

    title = StringField("Title", validators=[Optional(), Length(max=300)])
    summary = TextAreaField("Summary (what happened)")
    recommended_actions = TextAreaField(
        "Recommended actions", description="One action a line: each becomes a bullet."
    )
    background = TextAreaField("Background")
    closing_text = TextAreaField(
        "Closing text", description="What the outcome notice says when the UA closes."
    )
