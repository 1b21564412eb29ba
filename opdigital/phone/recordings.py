"""Recorded prompts: the fixed sentences of the line as WAV files, made with espeak-ng.

A city may record its own voice instead (the same file names in PHONE_AUDIO_DIR); espeak-ng's
are for the demo and for a line whose provider speaks Portuguese poorly. The voice adapter
plays `<name>.wav` (or `<name>.slow.wav` when the caller asked for slower speech) wherever
the folder has it, and has the provider speak every other sentence. Recordings are made from
the sentences as translated now: make them again after the translations change.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask_babel import force_locale

from opdigital.phone.prompts import VOICE, fixed_lines, recording_name, render

LANGUAGE = "pt_BR"
ESPEAK_VOICE = "pt-br"
NORMAL_SPEED, SLOW_SPEED = 150, 110  # words per minute
SLOW_SUFFIX = ".slow"

# The names a recording may have (without the slow suffix and ".wav").
RECORDING_NAMES = frozenset(name for line in fixed_lines() if (name := recording_name(line)))


class RecorderMissing(RuntimeError):
    """espeak-ng is not installed."""


@dataclass(frozen=True)
class Prompt:
    name: str  # the file's name without ".wav"
    text: str


def prompts(slow: bool = False) -> Iterator[Prompt]:
    """Every fixed sentence in Portuguese with its file name (and, with `slow`, the slow
    variant's too)."""
    with force_locale(LANGUAGE):
        for line in fixed_lines():
            name, text = recording_name(line), render(line, VOICE, LANGUAGE)
            if name is None or not text:
                continue
            yield Prompt(name, text)
            if slow:
                yield Prompt(name + SLOW_SUFFIX, text)


def record(out: Path, slow: bool = False) -> list[Path]:
    """Write the recordings into `out` (created if need be); the files written."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RecorderMissing(
            "espeak-ng is not installed (on Debian or Ubuntu: apt-get install espeak-ng)."
        )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for prompt in prompts(slow):
        path = out / f"{prompt.name}.wav"
        speed = SLOW_SPEED if prompt.name.endswith(SLOW_SUFFIX) else NORMAL_SPEED
        # The text on standard input: a sentence is never taken for an option.
        subprocess.run(  # noqa: S603 - espeak-ng, found on PATH, with our own arguments
            [espeak, "-v", ESPEAK_VOICE, "-s", str(speed), "-w", str(path), "--stdin"],
            input=prompt.text.encode(),
            check=True,
            capture_output=True,
            timeout=60,
        )
        written.append(path)
    return written
