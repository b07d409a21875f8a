"""`flask supporters ...`: importing supporter files from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from campaign.core.errors import ServiceError
from campaign.extensions import db
from campaign.supporters import imports, services
from campaign.supporters.imports.files import ENCODINGS

supporters = AppGroup("supporters", help="Supporters: import files.")


@supporters.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--list", "list_name", default=None, help="Also put everyone on this list.")
@click.option("--consent-source", default=None, help="Where they consented (consent log).")
@click.option("--dry-run", is_flag=True, help="Check and count; write nothing.")
@click.option(
    "--policy",
    type=click.Choice(["keep", "update"]),
    default="keep",
    show_default=True,
    help="Duplicates: keep existing data, or update fields from the file.",
)
@click.option("--encoding", type=click.Choice([e for e in ENCODINGS if e]), default=None)
def import_file(file, list_name, consent_source, dry_run, policy, encoding) -> None:
    """Import supporters from a CSV FILE; prints created, updated, unchanged, rejected."""
    try:
        job = imports.from_path(None, file, encoding)
        list_id = None
        if list_name:
            found = services.list_by_name(list_name) or services.save_list(None, None, list_name)
            list_id = found.id
        imports.configure(
            None,
            job,
            mapping=job.mapping,
            consent_source=consent_source or job.consent_source,
            list_id=list_id,
            policy=policy,
            dry_run=dry_run,
        )
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    with click.progressbar(length=job.size, label="Importing", file=sys.stderr) as bar:
        done = [0]

        def progress(position: int) -> None:
            bar.update(position - done[0])
            done[0] = position

        counts = imports.execute(job, progress)
    if counts is None:
        click.echo(f"Error: {job.error}", err=True)
        sys.exit(1)
    for warning in job.warnings:
        click.echo(f"Warning: {warning}", err=True)
    verb = "would be " if dry_run else ""
    click.echo(
        f"{counts.rows} rows: {counts.created} {verb}created, {counts.updated} {verb}updated, "
        f"{counts.unchanged} unchanged, {counts.duplicates} duplicates merged, "
        f"{counts.rejected} rejected."
    )
    if counts.rejected:
        # The report is kept in the database; this command's user reads it here.
        folder = Path(current_app.instance_path) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        report = folder / f"{job.id}-rejected.csv"
        with open(report, "wb") as out:
            out.writelines(imports.report_chunks(job) or ())
        click.echo(f"Rejected rows (row, column, reason): {report}")
