"""Forms of the staff accounts pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from campaign.core.forms import choices
from campaign.core.roles import ROLE_LABELS


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired(), Length(max=1000)])
    confirm = PasswordField(
        "New password again", validators=[EqualTo("password", message="The two do not match.")]
    )


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=100)])


class UserCreateForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False)])
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=choices(ROLE_LABELS.items()))
    password = PasswordField("Initial password", validators=[DataRequired(), Length(max=1000)])


class UserEditForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=choices(ROLE_LABELS.items()))
    active = BooleanField("Active")


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired(), Length(max=20)],
        description="The 6 digits your authenticator app shows, or a recovery code.",
    )
