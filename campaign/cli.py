"""Flask commands: users, tokens, demo data (DESIGN.md §6)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from campaign.auth import services as auth
from campaign.cases.cli import cases
from campaign.core.errors import ServiceError
from campaign.core.roles import ROLES
from campaign.demo import is_empty, load
from campaign.extensions import db
from campaign.gallery import build
from campaign.supporters.cli import supporters

users = AppGroup("users", help="Staff accounts.")
tokens = AppGroup("tokens", help="API tokens of staff accounts.")
mailings = AppGroup("mailings", help="Mailings: the gallery of every message.")


def register(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(tokens)
    app.cli.add_command(demo)
    app.cli.add_command(bootstrap)
    app.cli.add_command(mailings)

    app.cli.add_command(supporters)
    app.cli.add_command(cases)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="")
def create_user(email: str, role: str, name: str) -> None:
    """Create a staff account; the password comes from CAMPAIGN_PASSWORD or a prompt."""
    password = os.environ.get("CAMPAIGN_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        user = auth.create_user(None, email, role, password, name)
    except ServiceError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role}).")


@users.command("password")
@click.argument("email")
def set_password(email: str) -> None:
    """Reset a staff password (CAMPAIGN_PASSWORD or a prompt); other sessions end."""
    user = auth.user_by_email(email)
    if user is None:
        _fail(f"no staff account {email}")
    password = os.environ.get("CAMPAIGN_PASSWORD") or click.prompt(
        "New password", hide_input=True, confirmation_prompt=True
    )
    try:
        auth.set_password(None, user, password)
    except ServiceError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(f"Password changed for {user.email}.")


@users.command("list")
def list_users() -> None:
    """List staff accounts."""
    for user in auth.list_users():
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'inactive'}")


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="command line")
def create_token(email: str, name: str) -> None:
    """Print a new API token for EMAIL (shown once; only its hash is kept)."""
    user = auth.user_by_email(email)
    if user is None:
        _fail(f"no staff account {email}")
    _token, plain = auth.create_token(None, user, name)
    db.session.commit()
    click.echo(plain)


@click.command("demo")
@click.option("--supporters", default=300, show_default=True)
def demo(supporters: int) -> None:
    """Load the demo data (UA 205/16 and more) into an empty database."""
    try:
        summary = load(supporters=supporters)
    except ServiceError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(summary)


@click.command("bootstrap")
@click.option("--email", default=lambda: os.environ.get("ADMIN_EMAIL", "admin@example.org"))
@click.option("--with-demo/--no-demo", default=True)
def bootstrap(email: str, with_demo: bool) -> None:
    """First start: an admin account if there is none, demo data if empty."""
    if auth.count_users() == 0:
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        try:
            auth.create_user(None, email, "admin", password, "Administrator")
        except ServiceError as error:
            _fail(f"ADMIN_PASSWORD: {error.message}")
        db.session.commit()
        click.echo(f"Created admin {email} with password: {password}")
        click.echo("(shown once; change it under Account after logging in)")
    else:
        click.echo("Staff accounts exist already; log in with yours.")
    if with_demo and is_empty():
        click.echo(load(supporters=300))
        db.session.commit()


@mailings.command("gallery")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def gallery(folder: Path) -> None:
    """Render every kind of message × language × acted or not × with or without a
    city for the demo data into FOLDER (.eml, .html, .txt and index.html)."""
    try:
        entries = build(folder)
    except LookupError as error:
        _fail(str(error))
    sent = [e for e in entries if e.sent]
    click.echo(f"{len(sent)} messages in {folder / 'index.html'}")
