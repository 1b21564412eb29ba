"""What a text message means to the dialogue, and how a long reply is cut into messages (pure).

By text, voters send what they would key on the line: numbers ("1", "05031980", a título
written "1234 5678 0201" or "1234.5678.0201") or a few short words instead of the keys. The
table is small on purpose, and printed in the help the dialogue sends (prompts.py, "keys_help"):

    1  SIM, ESCOLHER, CONFIRMAR (YES, CHOOSE)
    2  NAO, PROXIMA, PROXIMO, MUDAR, ALTERAR (NO, NEXT)
    3  VOLTAR, ANTERIOR (BACK)
    9  PULAR (SKIP)
    0  REPETIR (REPEAT)
    #  RESUMO, FIM, ESCOLHAS (SUMMARY)

SAIR, PARAR, CANCELAR (STOP) end the conversation; VOTAR, OI, OLA (VOTE, HELLO) start a new
one (and so does anything sent when there is none). Anything else goes to the dialogue as it
is, which answers that it did not understand.

STOP and PARAR are also the carriers' and providers' opt-out words: the provider handles the
opt-out itself (it may block further messages to the number until the voter sends START);
all we do is end the conversation and forget its state.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_KEYS = {
    "1": ("sim", "escolher", "confirmar", "yes", "choose"),
    "2": ("nao", "proxima", "proximo", "mudar", "alterar", "next", "no"),
    "3": ("voltar", "anterior", "back"),
    "9": ("pular", "skip"),
    "0": ("repetir", "repeat"),
    "#": ("resumo", "fim", "escolhas", "summary"),
}
_WORD_KEYS = {word: key for key, words in _KEYS.items() for word in words}
_STOP_WORDS = frozenset({"sair", "parar", "cancelar", "stop"})
_START_WORDS = frozenset({"votar", "oi", "ola", "vote", "hello"})

# Digits as people write them: grouped by spaces, dots, dashes or slashes ("123.456.789-012",
# "05/03/1980", "0503 1980"), perhaps ending with the "#" a keypad would need.
_DIGITS = re.compile(r"[0-9][0-9 ./\-]*#?")
_SEPARATORS = re.compile(r"[ ./\-]")
# A date with a one-digit day or month ("5/3/1980"): padded, as the line wants DDMMAAAA.
_SHORT_DATE = re.compile(r"(\d{1,2})[./\-](\d{1,2})[./\-](\d{4})")
# Punctuation around a word ("Sim!", "voltar.") says nothing more.
_AROUND = " .,;:!?¡¿\"'()"

# SMS concatenation: a reply longer than this is sent as several messages.
MESSAGE_CHARS = 1000


@dataclass(frozen=True)
class Meaning:
    """What a message says: `keys` for the dialogue, or a request to stop or to start over."""

    keys: str = ""
    stop: bool = False
    start: bool = False


STOP = Meaning(stop=True)
START = Meaning(start=True)


def normalised(text: str) -> str:
    """Stripped, case-folded, without accents, spaces collapsed: "  Não " -> "nao"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def meaning(text: str) -> Meaning:
    """What the message `text` means (an empty `keys` for an empty message)."""
    said = normalised(text)
    if _DIGITS.fullmatch(said):
        return Meaning(keys=_digits(said.rstrip("#")))
    word = said.strip(_AROUND)
    if word in _STOP_WORDS:
        return STOP
    if word in _START_WORDS:
        return START
    if word in ("#", "*"):
        return Meaning(keys=word)
    return Meaning(keys=_WORD_KEYS.get(word, said))


def _digits(said: str) -> str:
    date = _SHORT_DATE.fullmatch(said)
    if date:
        day, month, year = date.groups()
        return f"{int(day):02d}{int(month):02d}{year}"
    return _SEPARATORS.sub("", said)


def messages(sentences: Iterable[str], limit: int = MESSAGE_CHARS) -> list[str]:
    """The sentences, one per line, cut into messages of at most `limit` characters: between
    sentences where possible, between words where one sentence alone is too long."""
    pieces = [part for sentence in sentences for part in _cut(sentence, limit)]
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + 1 + len(piece) <= limit:
            out[-1] += "\n" + piece
        else:
            out.append(piece)
    return out


def _cut(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    parts: list[str] = []
    line = ""
    for word in sentence.split():
        while len(word) > limit:  # no space to cut at: cut the word itself
            if line:
                parts.append(line)
                line = ""
            parts.append(word[:limit])
            word = word[limit:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= limit:
            line += " " + word
        else:
            parts.append(line)
            line = word
    if line:
        parts.append(line)
    return parts
