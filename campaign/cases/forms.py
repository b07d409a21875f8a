"""Forms of the UA registry pages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from campaign.cases.models import PERSON_STATUSES, UPDATE_KINDS
from campaign.core.forms import choices


class OrgDateTimeField(DateTimeLocalField):
    """A date and time typed and shown in the organisation's time zone, kept in UTC."""

    def process_data(self, value):
        if isinstance(value, datetime) and value.tzinfo is not None:
            zone = ZoneInfo(current_app.config["ORG_TIMEZONE"])
            value = value.astimezone(zone).replace(tzinfo=None)
        super().process_data(value)


class CaseForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    country_code = SelectField("Country", validate_choice=False)
    index_reference = StringField(
        "Index reference",
        validators=[Optional(), Length(max=40)],
        description="e.g. EUR 50/7271/2017",
    )
    deadline = DateField("Appeal deadline", validators=[Optional()])
    embargo_until = OrgDateTimeField(
        "Embargo until",
        validators=[Optional()],
        description="Not public (case page, links) before this time. Leave empty if none.",
    )
    languages = StringField(
        "Appeal languages",
        validators=[Length(max=200)],
        description="ISO codes, separated by commas: en, ru",
    )
    themes = StringField("Themes", validators=[Length(max=500)], description="Separated by commas")
    summary = TextAreaField("Summary", description="What happened, in a few sentences.")
    recommended_actions = TextAreaField(
        "Recommended actions", description="What supporters should ask for, one point a line."
    )
    background = TextAreaField("Background")
    number = IntegerField(
        "UA number (historic UAs only)",
        validators=[Optional(), NumberRange(min=1, max=9999)],
        description="Leave empty: issuing assigns the next number of the year.",
    )
    year = IntegerField(
        "Year (historic UAs only)", validators=[Optional(), NumberRange(1961, 2100)]
    )


class UpdateForm(FlaskForm):
    kind = SelectField("Kind", choices=choices(UPDATE_KINDS.items()))
    title = StringField("Headline", validators=[Length(max=300)])
    body = TextAreaField("What has happened", validators=[DataRequired()])
    new_deadline = DateField("New appeal deadline", validators=[Optional()])
    reason = TextAreaField(
        "Reason to go ahead with items missing",
        validators=[Length(max=2000)],
        description="Only when something in the list is missing; it is kept on the timeline.",
    )
    confirm = BooleanField(
        "Issue this update now",
        validators=[
            DataRequired("Tick to confirm: the update is numbered and drafted for mailing at once.")
        ],
    )


class PersonForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    aliases = TextAreaField(
        "Other spellings", description="One a line, e.g. transliterations: Chyigoz, Чийгоз"
    )
    gender = StringField("Gender", validators=[Length(max=30)])
    pronoun = StringField("Pronoun", validators=[Length(max=30)], description="e.g. he/him")
    # An explicit choice each time: naming a person who did not consent can endanger them.
    consent_to_name = BooleanField("Consented to be named publicly", default=False)
    notes = TextAreaField("Notes")


class PersonStatusForm(FlaskForm):
    on = DateField("Date", validators=[DataRequired()])
    status = SelectField("Status", choices=choices(PERSON_STATUSES.items()))
    note = StringField(
        "Note", validators=[Length(max=500)], description="e.g. sentenced to 8 years"
    )


class LinkPersonForm(FlaskForm):
    person_id = IntegerField("Existing person", validators=[Optional()])
    name = StringField("Or a new person's name", validators=[Length(max=200)])


class TargetForm(FlaskForm):
    title = StringField(
        "Title", validators=[Length(max=200)], description="e.g. Prosecutor General"
    )
    name = StringField("Name", validators=[Length(max=200)])
    organisation = StringField("Organisation", validators=[Length(max=300)])
    address = TextAreaField("Postal address")
    email = EmailField("Email", validators=[Length(max=254)])
    fax = StringField("Fax", validators=[Length(max=50)])
    phone = StringField("Phone", validators=[Length(max=50)])
    social = StringField("Social media", validators=[Length(max=300)], description="e.g. @handle")
    salutation = StringField(
        "Salutation", validators=[Length(max=200)], description="e.g. Dear Prosecutor General"
    )
    language = StringField(
        "Preferred language", validators=[Length(max=8)], description="ISO code, e.g. ru"
    )
    is_copy = BooleanField("Send a copy only (e.g. a diplomatic representative)")
    copy_country = SelectField("For supporters in (embassies)", validate_choice=False)
