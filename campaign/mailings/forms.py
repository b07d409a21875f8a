"""Forms of the mailing pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from campaign.cases.forms import OrgDateTimeField
from campaign.core.forms import choices
from campaign.mailings.models import KINDS


class MailingForm(FlaskForm):
    kind = SelectField("Kind", choices=choices(KINDS.items()))
    case_id = SelectField("UA", validate_choice=False)
    update_id = SelectField("Update (for an update mailing)", validate_choice=False)
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(
        "Text",
        description="The whole text of a free-form mailing; an introduction otherwise.",
        validators=[Length(max=20000)],
    )
    # Tick boxes, not a multiple select: no Ctrl-click to learn, and they work on phones.
    list_ids = SelectMultipleField(
        "Lists", validate_choice=False, coerce=int, widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )  # fmt: skip
    segment_ids = SelectMultipleField(
        "Segments", validate_choice=False, coerce=int, widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )  # fmt: skip
    case_audience = BooleanField("Everyone who received an earlier mailing of this UA")
    everyone = BooleanField("Every subscribed supporter")


class TestSendForm(FlaskForm):
    address = EmailField("Staff address", validators=[DataRequired(), Length(max=320)])
    language = SelectField("Language", validate_choice=False)


class SendForm(FlaskForm):
    send_at = OrgDateTimeField("Send at (empty: now)", validators=[Optional()])
    expected = HiddenField()
    # Below the typed-confirmation threshold the tick is enough; from it on, the
    # count must be typed. The service decides which one applies to this audience.
    confirm = BooleanField("Yes, send it")
    typed = StringField("Type the number of people to send", validators=[Length(max=40)])
