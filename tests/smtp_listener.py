"""A real SMTP listener on 127.0.0.1 for tests of outgoing mail (aiosmtpd is not a dependency; Python 3.11's
`smtpd` is deprecated): enough of RFC 5321 for smtplib and Django's SMTP backend — EHLO/HELO, MAIL, RCPT, DATA
with dot-unstuffing, RSET, NOOP, QUIT. Messages are kept parsed (`email.message.Message`) with their envelope."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

PORTS = range(18540, 18560)  # this engineer's port range


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self.reply("220 127.0.0.1 test SMTP")
        sender, recipients = "", []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb == "EHLO":
                self.reply("250-127.0.0.1")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 127.0.0.1")
            elif verb == "MAIL":
                sender, recipients = line.split(":", 1)[1].strip().strip("<>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    chunks.append(data[1:] if data.startswith(b"..") else data)
                message = email.message_from_bytes(b"".join(chunks), policy=email.policy.default)
                with self.server.mailbox.lock:
                    self.server.mailbox.messages.append(Received(sender, recipients, message))  # type: ignore[arg-type]
                self.reply("250 OK queued")
            elif verb == "RSET":
                sender, recipients = "", []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    mailbox: Mailbox


class SmtpListener:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.server: _Server | None = None
        self.port = 0

    def start(self, port: int | None = None) -> SmtpListener:
        for candidate in [port] if port else PORTS:
            try:
                server = _Server(("127.0.0.1", candidate), _Handler)
            except OSError:
                continue
            server.mailbox = self.mailbox
            self.server, self.port = server, candidate
            threading.Thread(target=server.serve_forever, daemon=True).start()
            return self
        raise RuntimeError("no free port for the SMTP listener")

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def messages(self) -> list[Received]:
        with self.mailbox.lock:
            return list(self.mailbox.messages)

    def __enter__(self) -> SmtpListener:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
