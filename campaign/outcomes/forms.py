"""Forms for closing a case and logging replies."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from campaign.core.forms import choices
from campaign.outcomes.models import DECISIONS, NOTICE_TIMINGS, OUTCOMES, Decision, NoticeTiming


class OutcomeForm(Form):
    person_id = HiddenField()
    outcome = SelectField(
        "Outcome", choices=choices([("", "Choose…"), *OUTCOMES.items()]), validate_choice=False
    )
    on = DateField("Date", validators=[Optional()])
    note = StringField("Note", validators=[Length(max=500)])


class CloseForm(FlaskForm):
    outcomes = FieldList(FormField(OutcomeForm))
    decision = RadioField(
        "What now?", choices=choices(DECISIONS.items()), default=Decision.NO_FURTHER_ACTION
    )
    text = TextAreaField(
        "Closing text",
        description="What supporters will read, e.g. “No further action is requested. Many "
        "thanks to all who sent appeals.”",
    )


class NoticeTimingMixin:
    timing = RadioField(
        "Send the outcome notice",
        choices=choices(NOTICE_TIMINGS.items()),
        default=NoticeTiming.LOCAL_MORNING,
    )
    send_at = DateTimeLocalField(
        "Date and time (organisation's time zone)", validators=[Optional()], format="%Y-%m-%dT%H:%M"
    )
    local_date = DateField("Day (09:00 in each supporter's time zone)", validators=[Optional()])


class CloseWithNoticeForm(NoticeTimingMixin, CloseForm):
    reason = TextAreaField(
        "Reason to go ahead with items missing",
        validators=[Length(max=2000)],
        description="Only when something above is missing; it is kept on the case's timeline.",
    )
    """Closing, with when the notice goes to the case audience."""

    # Closing tells everyone who received the UA: a mass action, so it is confirmed.
    confirm = BooleanField(
        "Record these outcomes and schedule the notice",
        validators=[DataRequired("Tick to confirm: the notice goes to everyone who received it.")],
    )


class NoticeForm(NoticeTimingMixin, FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(
        "Your own words for those who did not report an action (optional)",
        description="The notice already gives each person's outcome, the closing text, the "
        "number of appeals and thanks, in each supporter's language.",
    )
    thanks_body = TextAreaField(
        "Your own words for those who acted (optional)",
        description="{{ appeals }} becomes the number of appeals when the notice starts.",
    )


class ReplyForm(FlaskForm):
    received_on = DateField("Received on", validators=[DataRequired()])
    sender = StringField(
        "From", validators=[DataRequired(), Length(max=300)], description="e.g. Prosecutor's Office"
    )
    text = TextAreaField("Text of the reply")
    file = FileField("Or attach the letter (PDF, image, up to 10 MB)")


class ReasonMixin:
    reason = TextAreaField(
        "Reason to go ahead with items missing",
        validators=[Length(max=2000)],
        description="Only when something above is missing; it is kept on the case's timeline.",
    )


class IssueForm(ReasonMixin, FlaskForm):
    confirm = BooleanField(
        "Issue this UA now",
        validators=[DataRequired("Tick to confirm: issuing gives the UA its number for good.")],
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        "Why is the UA reopened?",
        validators=[DataRequired("Say why the UA is reopened."), Length(max=2000)],
        description="e.g. “Re-arrested on 3 May”. It is kept on the case's timeline.",
    )
