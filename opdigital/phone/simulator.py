"""A caller on the voice line, for people and tests: `opdigital phone call CYCLE`.

It plays the provider's side of the TwiML protocol against a running server, through the real
webhooks: a new call id, each request signed with the auth token as the provider signs it
(`signatures.sign`, over the public URL and the form), the TwiML answers read in order (<Say>
is what the voter hears, <Play> a recording, <Gather> waits for keys, <Redirect> is followed
when nothing was keyed, <Hangup/> ends), and the status callback at the end of the call.

`Call(...).run(keys)` returns a `Transcript`; a `Keys` source is a list of tokens ("-" for
silence) or a function asked at each <Gather> (the terminal's prompt). `hang_up_after`
drops the call after so many answers without the status callback, as a lost connection does.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from opdigital.phone.prompts import unspelled_codes
from opdigital.phone.signatures import SIGNATURE_HEADER, sign

SILENCE = "-"  # a token for "nothing keyed": the <Gather> times out
DEFAULT_NUMBER = "+5531999990000"

# (url, form, headers) -> (status, body): how requests reach the server (HTTP by default; the
# tests' in-process client otherwise).
Post = Callable[[str, dict[str, str], dict[str, str]], tuple[int, str]]


def new_call_id() -> str:
    """A call id as the provider makes them: "CA" and 32 hex digits."""
    return "CA" + secrets.token_hex(16)


@dataclass(frozen=True)
class Question:
    """A <Gather>: how many digits it takes, the key that ends it ("" none), its timeout."""

    num_digits: int | None
    finish_on_key: str
    timeout: int | None

    def describe(self) -> str:
        if self.num_digits == 1:
            return "one key"
        ends = f", {self.finish_on_key} ends" if self.finish_on_key else ""
        return f"{self.num_digits} digits{ends}"


@dataclass
class Step:
    """One webhook's answer: what was heard, what was asked, what the caller keyed."""

    status: int
    heard: list[str] = field(default_factory=list)  # sentences; "[name]" for a recording
    recordings: list[str] = field(default_factory=list)
    slow: bool = False  # some speech was slowed down (SSML prosody)
    question: Question | None = None
    keyed: str | None = None  # the keys sent ("" silence); None: no answer given
    ended: bool = False  # <Hangup/>


@dataclass
class Transcript:
    call_id: str
    steps: list[Step] = field(default_factory=list)
    ended: bool = False  # the line hung up
    hung_up: bool = False  # the caller hung up (no keys left, or the call dropped)
    dropped: bool = False  # ... without the status callback
    error: int | None = None  # the server answered this status instead of TwiML

    @property
    def sentences(self) -> list[str]:
        return [said for step in self.steps for said in step.heard]

    @property
    def text(self) -> str:
        return "\n".join(self.sentences)

    @property
    def receipts(self) -> list[str]:
        """Every receipt code read out, in order (it is read twice)."""
        return [code for said in self.sentences for code in unspelled_codes(said)]

    @property
    def receipt(self) -> str | None:
        codes = self.receipts
        return codes[-1] if codes else None


Keys = Iterable[str] | Callable[[Step], str | None]


class Call:
    """One call from `number` to the server at `base_url`, signed with `token`.

    `public_url`: the address the server signs against (its PUBLIC_BASE_URL), when the server
    is reached at another one (behind a proxy, or on a local port); default `base_url`.
    `cycle`: a number dedicated to that cycle (`?ciclo=`); None: the line's menu.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        cycle: str | None = None,
        number: str = DEFAULT_NUMBER,
        *,
        public_url: str | None = None,
        call_id: str | None = None,
        post: Post | None = None,
        timeout: float = 30,
    ):
        self.base_url = base_url.rstrip("/")
        self.public_url = (public_url or base_url).rstrip("/")
        self.token = token
        self.cycle = cycle
        self.number = number
        self.call_id = call_id or new_call_id()
        self.timeout = timeout
        self._post = post or self._http_post

    def run(
        self,
        keys: Keys,
        *,
        hang_up_after: int | None = None,
        on_step: Callable[[Step], None] | None = None,
    ) -> Transcript:
        """Call, answer each question from `keys`, and end as the provider does.

        `keys`: tokens in order (`SILENCE` for none) or a function of the step (None: hang up).
        When they run out the caller hangs up. `hang_up_after`: the call drops after that many
        answers, with no status callback (the provider never told us). `on_step`: called with
        each step once all of it was heard, before the caller answers."""
        ask = keys if callable(keys) else _from_list(keys)
        transcript = Transcript(self.call_id)
        query = {"ciclo": self.cycle} if self.cycle else {}
        url = self.public_url + "/telefone/voz" + (f"?{urlencode(query)}" if query else "")
        form = self._call_form()
        answers = 0
        while url is not None:
            status, body = self._send(url, form)
            step = Step(status)
            transcript.steps.append(step)
            if status != 200:
                transcript.error = status
                step.ended = True
                break
            url, form = self._play(body, step, ask, transcript, on_step or _nothing)
            if step.keyed is not None:
                answers += 1
                if hang_up_after is not None and answers >= hang_up_after:
                    transcript.hung_up = transcript.dropped = True
                    return transcript
        if not transcript.dropped:
            self.status_callback()
        return transcript

    def status_callback(self, status: str = "completed") -> int:
        """The provider's last word on the call."""
        form = self._call_form() | {"CallStatus": status, "CallDuration": "60"}
        return self._send(self.public_url + "/telefone/voz/fim", form)[0]

    # --- the protocol -------------------------------------------------------------------------

    def _play(self, body: str, step: Step, ask, transcript: Transcript, heard):
        """Go through a TwiML document as the provider does; the next request (url, form), or
        (None, None) when the call is over."""
        try:
            root = ElementTree.fromstring(body)  # noqa: S314 - our own server's answer
        except ElementTree.ParseError:
            transcript.error = step.status
            step.ended = True
            return None, None
        for verb in root:
            if verb.tag in ("Say", "Play"):
                _hear(verb, step)
            elif verb.tag == "Gather":
                for inner in verb:
                    _hear(inner, step)
                step.question = _question(verb)
                heard(step)
                keyed = ask(step)
                if keyed is None:
                    transcript.hung_up = True
                    return None, None
                digits = _as_provider_sends(keyed, step.question)
                step.keyed = digits
                if digits:
                    return verb.get("action"), self._call_form() | {"Digits": digits}
                # Nothing keyed: the provider goes on to the next verb (the <Redirect>).
            elif verb.tag == "Redirect":
                if step.question is None:
                    heard(step)
                return (verb.text or "").strip(), self._call_form()
            elif verb.tag == "Hangup":
                break
        # <Hangup/>, or a document without a next step: the provider ends the call.
        if step.question is None:
            heard(step)
        step.ended = transcript.ended = True
        return None, None

    def _call_form(self) -> dict[str, str]:
        return {
            "AccountSid": "AC" + "0" * 32,
            "ApiVersion": "2010-04-01",
            "CallSid": self.call_id,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "From": self.number,
            "To": "+5531800000000",
        }

    def _send(self, public: str, form: dict[str, str]) -> tuple[int, str]:
        """POST `form` where the provider would, signed for the public URL."""
        if public.startswith("/"):  # a relative URL in the TwiML: at the same address
            public = self.public_url + public
        headers = {SIGNATURE_HEADER: sign(public, form, self.token)}
        parts = urlsplit(public)
        local = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return self._post(local, form, headers)

    def _http_post(self, url: str, form: dict[str, str], headers: dict[str, str]):
        import requests

        response = requests.post(url, data=form, headers=headers, timeout=self.timeout)
        return response.status_code, response.text


def _nothing(_step: Step) -> None:
    pass


def _from_list(tokens: Iterable[str]):
    remaining = iter(tokens)

    def ask(_step: Step) -> str | None:
        return next(remaining, None)

    return ask


def _hear(verb: ElementTree.Element, step: Step) -> None:
    if verb.tag == "Say":
        step.heard.append("".join(verb.itertext()).strip())
        step.slow = step.slow or verb.find("prosody") is not None
    elif verb.tag == "Play":
        name = (verb.text or "").strip().rsplit("/", 1)[-1].removesuffix(".wav")
        step.recordings.append(name)
        step.heard.append(f"[{name}]")


def _question(gather: ElementTree.Element) -> Question:
    digits, timeout = gather.get("numDigits"), gather.get("timeout")
    return Question(
        int(digits) if digits else None,
        gather.get("finishOnKey", "#"),  # the provider's default
        int(timeout) if timeout else None,
    )


def _as_provider_sends(keyed: str, question: Question) -> str:
    """The Digits the provider would send: none for silence, at most `numDigits`, without the
    key that ended the input."""
    keyed = keyed.strip()
    if keyed == SILENCE:
        return ""
    if question.finish_on_key and question.finish_on_key in keyed:
        keyed = keyed.split(question.finish_on_key, 1)[0]
    if question.num_digits:
        keyed = keyed[: question.num_digits]
    return keyed
