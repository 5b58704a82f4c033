"""A real SMTP server for the suite (aiosmtpd on a free local port) that keeps what it receives and can be
told to refuse messages, temporarily (451) or for good (550)."""
from __future__ import annotations

import email
import email.policy
import threading
from email.message import Message

from aiosmtpd.controller import Controller

from tools.local_services import free_port


class MailServer:
    """`received` holds every accepted message; `refuse(n, code)` refuses the next n messages."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self._refusals: list[str] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def refuse(self, count: int, reply: str = "451 4.3.0 try again later") -> None:
        """Refuse the next `count` messages with `reply`."""
        with self._lock:
            self._refusals += [reply] * count

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
            self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 2.0.0 OK"

    def start(self) -> "MailServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
