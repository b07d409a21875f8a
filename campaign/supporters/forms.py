"""Forms of the supporter pages, public and staff."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from campaign.core.forms import choices
from campaign.i18n import NATIVE_NAMES
from campaign.supporters import vocabulary as vocab
from campaign.supporters.imports.files import ENCODINGS, FIELDS
from campaign.supporters.models import MERGE_POLICIES, STATES


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _interests_field(label="Interests") -> CheckboxesField:
    return CheckboxesField(label, choices=choices(vocab.interest_choices()), validate_choice=True)


class SignupForm(FlaskForm):
    """The public sign-up: labels in the page's language; interests' choices set by the view."""

    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=320)])
    first_name = StringField(_l("First name"), validators=[Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Length(max=100)])
    language = SelectField(_l("Language"), choices=choices(NATIVE_NAMES.items()))
    country = SelectField(_l("Country"), validate_choice=False)
    city = StringField(_l("City"), validators=[Length(max=100)])
    interests = _interests_field(_l("What you care about most (optional)"))
    consent = BooleanField(
        _l("I want to receive Urgent Action emails. I can unsubscribe at any time."),
        validators=[DataRequired()],
    )


class ConfirmSignupForm(FlaskForm):
    """Only a button: scanners that open links must not confirm anything."""


class PreferencesForm(FlaskForm):
    language = SelectField(_l("Language"), choices=choices(NATIVE_NAMES.items()))
    interests = _interests_field(_l("What you care about most (optional)"))


class SupporterForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=320)])
    first_name = StringField("First name", validators=[Length(max=100)])
    last_name = StringField("Last name", validators=[Length(max=100)])
    language = StringField("Language", validators=[Length(max=8)], description="ISO code: en, fr…")
    country = SelectField("Country", validate_choice=False)
    city = StringField("City", validators=[Length(max=100)])
    timezone = StringField(
        "Time zone", validators=[Length(max=64)], description="Empty: from country"
    )
    interests = _interests_field()


class ListForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = StringField("Description", validators=[Length(max=500)])


class AddToListForm(FlaskForm):
    list_id = SelectField("List", coerce=int, validate_choice=False)


class SegmentForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    description = StringField("Description", validators=[Length(max=500)])
    languages = StringField("Languages", description="ISO codes, separated by commas: en, fr")
    countries = StringField("Countries", description="ISO codes, separated by commas: GB, IE")
    interests = _interests_field("Interested in any of")
    states = CheckboxesField("Subscription state", choices=choices((s, s) for s in STATES))
    state_since = StringField("In that state since", description="YYYY-MM-DD")
    state_before = StringField("In that state before", description="YYYY-MM-DD")
    acted_on_case = SelectField("Acted on UA", validate_choice=False)
    no_action_months = IntegerField(
        "No action in the last N months", validators=[Optional(), NumberRange(1, 600)]
    )
    received_mailing = IntegerField("Received mailing (id)", validators=[Optional()])


class UploadForm(FlaskForm):
    file = FileField("Supporter file (CSV)", validators=[FileRequired()])
    encoding = SelectField(
        "Encoding",
        choices=choices(ENCODINGS.items()),
        description="Leave on Detect unless names look wrong in the preview.",
    )


class MappingForm(FlaskForm):
    consent_source = StringField(
        "Where did these people consent?",
        validators=[DataRequired(), Length(max=200)],
        description="Recorded in each new supporter's consent log, e.g. “petition, June 2025”.",
    )
    list_id = SelectField("Also put them on list", coerce=int, validate_choice=False)
    policy = SelectField(
        "Duplicates",
        choices=choices(MERGE_POLICIES.items()),
        description="Running the same file again changes nothing: what changed since "
        "its first run (a language a supporter chose, a correction) is kept.",
    )

    @classmethod
    def with_columns(cls, headers: list[str]):
        """A form class with one select per supporter field, offering the file's columns."""

        class Form(cls):
            pass

        options = choices([("", "— not in the file —"), *((h, h) for h in headers)])
        for name, label in FIELDS.items():
            field = SelectField(label, choices=options, default="", validate_choice=True)
            setattr(Form, f"map_{name}", field)
        return Form
