"""Command-line side of the tally: signing key, closing the vote, sealing, tallying, verifying.

    opdigital keys generate [--force]        create the Ed25519 signing key (mode 0600)
    opdigital board seal [CYCLE] [--watch N] seal pending ballots (a loop beside the app)
    opdigital cycle close CYCLE              end the vote, seal every ballot
    opdigital tally CYCLE --out FILE.zip     count, sign and store the tally package
    opdigital cycle publish CYCLE            make results and package public
    opdigital verify FILE.zip [--public-key KEY] [--head SEQ:HASH]

Commands act as "system" in the audit log (the operator's shell is the actor). Closing, tallying
and publishing go through `cycles.lifecycle.advance`, as the coordinator's control page does.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l

from opdigital.cycles.states import CycleState
from opdigital.errors import DomainError, IllegalTransition

# States in which the cycle has its package: `tally` writes the stored one again.
_TALLIED_STATES = (CycleState.TALLIED, CycleState.PUBLISHED, CycleState.MONITORING)


def _fail(error: DomainError) -> None:
    click.echo(f"Error: {error.message}", err=True)
    sys.exit(1)


def _cycle(slug: str):
    from opdigital.cycles.services import get_cycle

    try:
        return get_cycle(slug)
    except DomainError as e:
        _fail(e)


@contextlib.contextmanager
def _kept_after_commit():
    """The session's objects keep their values through the commits inside: the package just
    stored is written to --out as it is in memory (reading 57 MB a million ballots back from the
    database would only repeat the bytes the INSERT sent; 0.45 s of the tally)."""
    from opdigital.extensions import db

    session = db.session()
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield
    finally:
        session.expire_on_commit = expiring


@click.group("keys")
def keys_group() -> None:
    """The Ed25519 key that signs tally packages."""


@keys_group.command("generate")
@click.option("--force", is_flag=True, help="Replace an existing key (old packages stay valid).")
@with_appcontext
def generate_key_command(force: bool) -> None:
    """Create the signing key at SIGNING_KEY_PATH (private key file, mode 0600)."""
    from opdigital.ledger.keys import KeyFileError, generate_key_file

    path = current_app.config["SIGNING_KEY_PATH"]
    try:
        fingerprint = generate_key_file(path, overwrite=force)
    except (KeyFileError, FileExistsError) as e:
        click.echo(f"Error: {e} (use --force to replace it)", err=True)
        sys.exit(1)
    click.echo(f"Signing key written to {path} (mode 0600).")
    click.echo(f"Public key fingerprint (SHA-256): {fingerprint}")


@keys_group.command("show")
@with_appcontext
def show_key_command() -> None:
    """Print the public key (PEM) and its fingerprint."""
    from opdigital.ledger import keys
    from opdigital.tally.services import signing_key

    try:
        key = signing_key()
    except DomainError as e:
        _fail(e)
    click.echo(keys.public_key_pem(key), nl=False)
    click.echo(f"fingerprint {keys.fingerprint(keys.public_key_raw(key))}")


@click.group("board")
def board_group() -> None:
    """The ballot board."""


@board_group.command("seal")
@click.argument("cycle_slug", required=False)
@click.option("--watch", type=float, help="Keep sealing what is due every N seconds.")
@with_appcontext
def seal_command(cycle_slug: str | None, watch: float | None) -> None:
    """Seal the pending ballots that are due (of CYCLE, or of every cycle) onto the board.

    Due: a full batch, or the minimum batch once the oldest has waited the delay. Fewer are
    sealed only when the vote closes and before a tally, never by this command.
    """
    from opdigital.board import services as board
    from opdigital.extensions import db

    if cycle_slug:
        click.echo(f"{board.seal(_cycle(cycle_slug), only_if_due=True)} ballot(s) sealed.")
        return
    while True:
        sealed = board.seal_due_cycles()
        if sealed or not watch:
            click.echo(f"{sealed} ballot(s) sealed.")
        if not watch:
            return
        db.session.remove()
        time.sleep(watch)


@click.group("cycle")
def cycle_group() -> None:
    """A cycle's vote: close it, publish its results."""


@cycle_group.command("close")
@click.argument("cycle_slug")
@with_appcontext
def close_command(cycle_slug: str) -> None:
    """End the vote of CYCLE and seal every accepted ballot onto the board."""
    from opdigital.board.services import stored_head
    from opdigital.cycles.lifecycle import advance

    try:
        cycle = advance(_cycle(cycle_slug), CycleState.CLOSED, actor=None).cycle
    except DomainError as e:
        _fail(e)
    head = stored_head(cycle.id)
    click.echo(f"Voting closed in {cycle_slug}. Board: {head.seq} entries, head {head.hash}.")


@cycle_group.command("publish")
@click.argument("cycle_slug")
@with_appcontext
def publish_command(cycle_slug: str) -> None:
    """Publish the tallied results and package of CYCLE."""
    from opdigital.cycles.lifecycle import advance
    from opdigital.tally.services import tally_of

    cycle = _cycle(cycle_slug)
    try:
        tally_of(cycle)  # a cycle never tallied is told so, whatever its state
        record = advance(cycle, CycleState.PUBLISHED, actor=None).tally
    except DomainError as e:
        _fail(e)
    click.echo(f"Published {cycle_slug}: package SHA-256 {record.sha256}.")


@click.command("tally")
@click.argument("cycle_slug")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path)
)
@with_appcontext
def tally_command(cycle_slug: str, out: Path) -> None:
    """Count CYCLE (closed) into its signed tally package and write it to --out."""
    from opdigital.cycles.lifecycle import advance
    from opdigital.tally.services import tally_of

    cycle = _cycle(cycle_slug)
    try:
        if cycle.state in _TALLIED_STATES:  # written again, byte for byte as stored
            record = tally_of(cycle)
        elif cycle.state != CycleState.CLOSED:
            raise IllegalTransition(_l("Only a closed cycle can be tallied."))
        else:
            with _kept_after_commit():
                record = advance(cycle, CycleState.TALLIED, actor=None).tally
    except DomainError as e:
        _fail(e)
    out.write_bytes(record.package)
    result = record.result
    click.echo(
        f"{out}: {result['ballots']} ballots, {len(result['selected'])} proposals selected, "
        f"SHA-256 {record.sha256}, signed by {record.key_fingerprint}."
    )


@click.command("verify", context_settings={"ignore_unknown_options": True})
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def verify_command(arguments: tuple[str, ...]) -> None:
    """Verify a tally package (same as `python -m opdigital.ledger.verify`)."""
    from opdigital.ledger.verify import main

    sys.exit(main(list(arguments)))


COMMANDS = (keys_group, board_group, cycle_group, tally_command, verify_command)
