"""Forms of the case-sheet import: the upload (or paste) and the review."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional

from campaign.cases.models import PERSON_STATUSES, UPDATE_KINDS
from campaign.core.forms import choices


class ImportForm(FlaskForm):
    file = FileField(
        "Case sheet",
        description="A .docx, .pdf, .txt or .html file of up to 10 MB.",
    )
    text = TextAreaField(
        "Or paste the text", description="From an email or a web page: paste the whole sheet."
    )


class PersonRow(Form):
    """One person named in the document (subform: the parent form carries the CSRF token)."""

    include = BooleanField("Save this person", default=True)
    person_id = SelectField("Who is this?", validate_choice=False)
    name = StringField("Name", validators=[Length(max=200)])
    aliases = TextAreaField(
        "Spellings in the document", description="One a line; new ones become aliases."
    )
    status = SelectField(
        "Status to record",
        choices=choices([("", "None"), *PERSON_STATUSES.items()]),
    )
    note = StringField("Status note", validators=[Length(max=500)])
    on = DateField("Status date", validators=[Optional()])


class TargetRow(Form):
    include = BooleanField("Save this target", default=True)
    title = StringField("Title", validators=[Length(max=200)])
    name = StringField("Name", validators=[Length(max=200)])
    organisation = StringField("Organisation", validators=[Length(max=300)])
    address = TextAreaField("Postal address")
    email = StringField("Email", validators=[Length(max=254)])
    fax = StringField("Fax", validators=[Length(max=50)])
    phone = StringField("Phone", validators=[Length(max=50)])
    social = StringField("Social media", validators=[Length(max=300)])
    salutation = StringField("Salutation", validators=[Length(max=200)])
    is_copy = BooleanField("Copy only (e.g. a diplomatic representative)")


class ReviewForm(FlaskForm):
    save_as = RadioField("Save as", validate_choice=False)
    ua_number = IntegerField("UA number", validators=[Optional(), NumberRange(min=1, max=9999)])
    ua_year = IntegerField("Year", validators=[Optional(), NumberRange(1961, 2100)])
    title = StringField("Title", validators=[Length(max=300)])
    # For an update: whether it asks for more appeals.
    update_kind = SelectField(
        "Further action (updates)",
        choices=choices([("", "Choose…"), *UPDATE_KINDS.items()]),
    )
    update_body = TextAreaField(
        "What has happened (updates)", description="The text of the update, as issued."
    )
    country_code = SelectField("Country", validate_choice=False)
    index_reference = StringField(
        "Index reference", validators=[Length(max=40)], description="e.g. EUR 50/7271/2017"
    )
    deadline = DateField("Appeal deadline", validators=[Optional()])
    issued_on = DateField(
        "Issued on",
        validators=[Optional()],
        description="The sheet's own date: statuses and deadlines are read against it.",
    )
    languages = StringField(
        "Appeal languages", validators=[Length(max=200)], description="ISO codes: en, ru"
    )
    summary = TextAreaField("Summary")
    recommended_actions = TextAreaField("Recommended actions", description="One a line.")
    background = TextAreaField("Background")
    people = FieldList(FormField(PersonRow))
    targets = FieldList(FormField(TargetRow))
