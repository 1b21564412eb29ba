"""`opdigital phone prompts` (the recorded prompts) and `opdigital phone call` (the simulator).

Exit status: 0 done (a call that reached its end); 1 espeak-ng missing or failing, or the
server refused a request or could not be reached; 2 a usage error (no auth token, a bad option).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("phone")
def phone_group() -> None:
    """The voice line: recorded prompts and a simulated caller (docs/phone.md)."""


@phone_group.command("prompts")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write the WAV files to (PHONE_AUDIO_DIR then names it).",
)
@click.option("--slow", is_flag=True, help="Also record the slower variants (<name>.slow.wav).")
@with_appcontext
def prompts_command(out: Path, slow: bool) -> None:
    """Record the line's fixed sentences in Portuguese with espeak-ng, one WAV file each.

    The voice line plays them instead of the provider's speech once PHONE_AUDIO_DIR names the
    folder; sentences that change (a work's title, a receipt code) are always spoken.
    """
    import subprocess

    from opdigital.phone.recordings import RecorderMissing, record

    try:
        written = record(out, slow=slow)
    except RecorderMissing as e:
        raise click.ClickException(str(e)) from e
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        raise click.ClickException(f"espeak-ng failed: {e}") from e
    except OSError as e:
        raise click.ClickException(f"Could not write to {out}: {e.strerror}") from e
    click.echo(f"Recorded {len(written)} prompts in {out}.")


@phone_group.command("call")
@click.argument("cycle")
@click.option(
    "--url",
    "base_url",
    default=None,
    help="The server to call (default: PUBLIC_BASE_URL of these settings).",
)
@click.option(
    "--public-url",
    default=None,
    help=(
        "The address the server checks signatures against, its PUBLIC_BASE_URL, when it is "
        "reached at another one (default: PUBLIC_BASE_URL of these settings)."
    ),
)
@click.option("--from", "number", default=None, help="The caller's number (default: a test one).")
@click.option(
    "--keys",
    default=None,
    help='The keys to press, one token per question ("-": silence), e.g. '
    '"123456789012 17051980 1 2 # 1". Without it, asked for at each question.',
)
@click.option(
    "--token", default=None, help="The provider's auth token (default: PHONE_AUTH_TOKEN)."
)
@with_appcontext
def call_command(
    cycle: str,
    base_url: str | None,
    public_url: str | None,
    number: str | None,
    keys: str | None,
    token: str | None,
) -> None:
    """Call the voice line of CYCLE (its slug) as a voter would, through the real webhooks.

    Prints what the voter hears and takes the keys from --keys or the terminal (an empty line
    is silence; end of input hangs up). The requests are signed as the provider signs them.
    """
    import requests

    from opdigital.phone.simulator import DEFAULT_NUMBER, Call

    config = current_app.config
    token = token or config.get("PHONE_AUTH_TOKEN") or ""
    if not token:
        raise click.UsageError("No auth token: pass --token or set PHONE_AUTH_TOKEN.")
    public = public_url or config["PUBLIC_BASE_URL"]
    call = Call(base_url or public, token, cycle, number or DEFAULT_NUMBER, public_url=public)
    click.echo(f"Calling {call.base_url} for {cycle} from {call.number}.")
    answers = _keys_from(keys.split()) if keys is not None else _ask
    try:
        transcript = call.run(answers, on_step=_show)
    except requests.RequestException as e:
        raise click.ClickException(f"The server could not be reached: {e}") from e
    if transcript.error is not None:
        raise click.ClickException(f"The server answered {transcript.error}: the call failed.")
    click.echo("The line hung up." if transcript.ended else "You hung up.")
    if transcript.receipt:
        click.echo(f"Receipt code heard: {transcript.receipt}")


def _show(step) -> None:
    for said in step.heard:
        click.echo(f"  {said}")


def _keys_from(tokens: list[str]):
    """The keys for each question from --keys, shown as they are pressed; None (hang up) when
    they run out."""
    remaining = iter(tokens)

    def press(step) -> str | None:
        keyed = next(remaining, None)
        if keyed is not None:
            click.echo(f"> {keyed}")
        return keyed

    return press


def _ask(step) -> str | None:
    """The keys for a question, from the terminal; None (hang up) at the end of input."""
    click.echo(f"Keys ({step.question.describe()}; empty line: silence): ", nl=False)
    line = sys.stdin.readline()
    if not line:
        click.echo()
        return None
    return line.strip() or "-"
