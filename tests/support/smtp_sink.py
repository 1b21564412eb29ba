"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, keeping what it receives.

The sender talks to it exactly as to the city's server (the same SMTP conversation, the same
bytes), so tests check the messages as a mail client would read them. It can refuse chosen
recipients with 550 and be stopped and started again on the same port, to test retries.
"""

from __future__ import annotations

import email
import email.policy
import logging
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.live import free_port

# aiosmtpd logs every envelope address at INFO: the tests that scan logs for a person's address
# must find only what the app wrote.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class _Handler:
    """aiosmtpd's hooks: refuse the chosen recipients, keep every message accepted."""

    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.sink.refused:
            return "550 5.1.1 Mailbox unavailable"
        if address.lower() in self.sink.deferred:
            return "451 4.7.1 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.sink.received(parsed, list(envelope.rcpt_tos), envelope.mail_from)
        return "250 Message accepted for delivery"


class SmtpSink:
    """The server, its port for the whole session, and what it has received."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None):
        self.host = host
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TO) per message
        self.refused: set[str] = set()
        self.deferred: set[str] = set()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # --- the server ---

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            # A new controller each time: aiosmtpd's cannot be started again once stopped.
            controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        """Stop listening: connections are refused until `start()`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    # --- what it received ---

    def received(self, message: EmailMessage, recipients: list[str], sender: str) -> None:
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((sender, recipients))

    @property
    def recipients(self) -> list[str]:
        """Every envelope recipient of every message, in order."""
        with self._lock:
            return [address for _sender, addresses in self.envelopes for address in addresses]

    def refuse(self, address: str) -> None:
        """Answer RCPT TO `address` with 550 (for good) from now on."""
        self.refused.add(address.lower())

    def defer(self, address: str) -> None:
        """Answer RCPT TO `address` with 451 (try again later), as a greylisting server does."""
        self.deferred.add(address.lower())

    def clear(self) -> None:
        """Forget the messages, refusals and deferrals; listen again if stopped."""
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()
        self.refused.clear()
        self.deferred.clear()
        self.start()
