"""Flask commands for the UA registry: an admin's renumbering of an issued UA."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from campaign.cases import services
from campaign.cases.labels import parse_label
from campaign.core.errors import ServiceError
from campaign.extensions import db

cases = AppGroup("cases", help="Urgent Actions.")


def _label(text: str) -> tuple[int, int]:
    parsed = parse_label(text)
    if parsed is None:
        click.echo(f"Error: {text!r} is not a UA label such as 'UA 205/16'.", err=True)
        sys.exit(1)
    return parsed


@cases.command("renumber")
@click.argument("label")
@click.argument("new_label")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
def renumber(label: str, new_label: str, reason: str) -> None:
    """Correct the number of an issued UA, e.g. renumber "UA 205/16" "UA 206/16"."""
    case = services.find_case(*_label(label))
    if case is None:
        click.echo(f"Error: there is no {label}.", err=True)
        sys.exit(1)
    try:
        services.renumber(None, case, *_label(new_label), reason)
    except ServiceError as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Renumbered {label} as {case.label}.")
