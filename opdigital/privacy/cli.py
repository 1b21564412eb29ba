"""`opdigital privacy export`: the record of processing for the encarregado (LGPD art. 37)."""

from __future__ import annotations

import csv
import io
import json

import click
from flask import current_app
from flask.cli import with_appcontext

from opdigital.privacy import record

CSV_COLUMNS = (
    "key",
    "name",
    "data",
    "subjects",
    "purpose",
    "legal_basis",
    "retention",
    "retention_settings",
    "shared_with",
    "tables",
    "stores",
)


def as_csv(activities: list[dict]) -> str:
    """One row per activity; lists joined with " | "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for activity in activities:
        row = []
        for column in CSV_COLUMNS:
            value = activity[column]
            row.append(" | ".join(value) if isinstance(value, list) else value)
        writer.writerow(row)
    return out.getvalue()


@click.group("privacy")
def privacy_group() -> None:
    """The privacy notice's record of processing."""


@privacy_group.command("export")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="JSON: the whole record with the controller and encarregado; CSV: one row per activity.",
)
@with_appcontext
def export_command(output_format: str) -> None:
    """Print the record of processing (what /privacidade.json serves) on standard output."""
    document = record.document(current_app.config)
    if output_format == "csv":
        click.echo(as_csv(document["activities"]), nl=False)
    else:
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
