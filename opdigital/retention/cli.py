"""`opdigital retention run` (for cron) and `opdigital registry purge` (added to the registry
group): the retention rules from the command line. Exit status 0 done (or nothing to do), 1
refused (the roll is still needed), 2 unknown cycle."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("retention")
def retention_group() -> None:
    """Apply the retention rules (docs/data-model.md, "Retention")."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Show what is due; change nothing.")
@with_appcontext
def run_command(dry_run: bool) -> None:
    """Apply every retention rule that is due; safe to run again (for cron, e.g. daily).

    Purges the rolls of cycles tallied ROLL_RETENTION_DAYS_AFTER_TALLY days ago (the city's
    roll once every cycle using it is), keeping their eligible counts, and blanks proposers'
    contacts PROPOSER_CONTACT_RETENTION_DAYS days after their cycle's last phase ends, and
    the address and text of e-mails sent or given up OUTBOX_RETENTION_DAYS days ago, and
    deletes data-subject requests never confirmed (e-mail: after a day; phone: after
    SUBJECT_REQUEST_DEADLINE_DAYS days), and phone conversations idle for longer than
    PHONE_CONVERSATION_MINUTES.
    """
    from opdigital.retention import services

    report = services.run(dry_run=dry_run)
    verb = "Would purge" if dry_run else "Purged"
    for scope, entries in report.rolls:
        click.echo(f"{verb} roll {scope}: {entries} entries.")
    verb = "Would blank" if dry_run else "Blanked"
    for slug, contacts in report.contacts:
        click.echo(f"{verb} {contacts} proposer contacts of {slug}.")
    if report.outbox_erased:
        verb = "Would erase" if dry_run else "Erased"
        click.echo(f"{verb} the address and text of {report.outbox_erased} sent or failed e-mails.")
    if report.requests_deleted:
        verb = "Would delete" if dry_run else "Deleted"
        click.echo(f"{verb} {report.requests_deleted} data-subject requests never confirmed.")
    if report.phone_conversations_deleted:
        verb = "Would delete" if dry_run else "Deleted"
        click.echo(f"{verb} {report.phone_conversations_deleted} expired phone conversations.")
    counts = report.counts()
    prefix = "Dry run, nothing changed" if dry_run else "Done"
    click.echo(
        f"{prefix}: {counts['rolls_purged']} rolls ({counts['roll_entries_deleted']} entries), "
        f"{counts['contacts_expired']} proposer contacts."
    )


@click.command("purge")
@click.argument("cycle_slug", required=False)
@click.option("--city", is_flag=True, help="Purge the city's roll (no cycle may still use it).")
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; change nothing.")
@with_appcontext
def purge_command(cycle_slug: str | None, city: bool, dry_run: bool) -> None:
    """Delete CYCLE_SLUG's own roll and delegate roll (or with --city the city's roll) after
    the tally, keeping the eligible counts per region and school for the turnout page.

    \b
    Examples:
      opdigital registry purge op-digital-2026 --dry-run
      opdigital registry purge --city
    """
    import sqlalchemy as sa

    from opdigital.cycles.models import Cycle
    from opdigital.errors import DomainError
    from opdigital.extensions import db
    from opdigital.retention import services

    if city == (cycle_slug is not None):
        raise click.UsageError("Give CYCLE_SLUG or --city.")
    try:
        if city:
            report = services.purge_city_roll(dry_run=dry_run)
        else:
            cycle = db.session.scalar(sa.select(Cycle).where(Cycle.slug == cycle_slug))
            if cycle is None:
                click.echo(f"Error: there is no cycle {cycle_slug!r}.", err=True)
                click.get_current_context().exit(2)
            report = services.purge_cycle_roll(cycle, dry_run=dry_run)
    except DomainError as e:
        click.echo(f"Refused: {e.message} Nothing was deleted.", err=True)
        click.get_current_context().exit(1)
    verb = "would be deleted" if dry_run else "deleted"
    for scope, entries in report.scopes.items():
        click.echo(f"Roll {scope}: {entries} entries {verb}.")
    if dry_run:
        click.echo("Dry run: nothing changed.")
