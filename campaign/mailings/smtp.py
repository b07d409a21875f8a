"""SMTP connections for the outbox: reuse, recycling, and what each answer means.

A connection sends many messages (recycled after a configured number, and at
once after a 421); every failure is classified into what the outbox does next:
``temporary`` (4xx, a dropped connection: retry later with backoff),
``permanent`` (5xx to the recipient or its message: the delivery fails and the
address is bounced) or ``rejected`` (5xx to our own sender: the delivery fails,
the supporter is not to blame).
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

SENT, TEMPORARY, PERMANENT, REJECTED = "sent", "temporary", "permanent", "rejected"
# The relay refuses our session itself (AUTH, TLS certificate): our settings, not the
# message. The delivery goes back to the queue untouched; the mailing pauses for staff.
UNUSABLE = "unusable"
SCHEMES = {"smtp": "", "smtp+starttls": "starttls", "smtps": "tls"}


class RelaySettingError(ValueError):
    """An SMTP_URL the outbox refuses to use (said at worker start, not mid-mailing)."""


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    security: str = ""  # "", "starttls" or "tls"
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    ca_file: str = ""  # a CA bundle to trust instead of the system's (a private relay)

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0, ca_file: str = "") -> Relay:
        """smtp://host:port, smtp+starttls://user:pass@host:587, smtps://host:465.

        Refuses an unknown scheme (a typo such as ``smtp+tls`` must not quietly
        send in clear text) and a password over an unencrypted session to
        anything but loopback.
        """
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise RelaySettingError(
                f"SMTP_URL: unknown scheme {parts.scheme!r}; use smtp://, "
                "smtp+starttls:// or smtps://"
            )
        security = SCHEMES[parts.scheme]
        default_port = {"tls": 465, "starttls": 587}.get(security, 25)
        relay = cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or default_port,
            security=security,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            timeout=timeout,
            ca_file=ca_file,
        )
        if relay.password and not security and not relay.loopback:
            raise RelaySettingError(
                "SMTP_URL: a password would cross the network unencrypted; use "
                "smtp+starttls:// or smtps://"
            )
        return relay

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file or None)


@dataclass
class Outcome:
    status: str  # SENT, TEMPORARY, PERMANENT, REJECTED (the outbox: also "suppressed")
    code: int = 0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == SENT


def _text(reply) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return str(reply)


def classify(error: BaseException) -> tuple[Outcome, bool]:
    """(what happened, whether the connection must be dropped)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return _by_code(code, _text(reply), recipient=True), code == 421
    if isinstance(error, smtplib.SMTPSenderRefused):
        return _by_code(error.smtp_code, _text(error.smtp_error), recipient=False), True
    if isinstance(error, smtplib.SMTPResponseException):
        return _by_code(error.smtp_code, _text(error.smtp_error), recipient=True), True
    if isinstance(error, smtplib.SMTPServerDisconnected | OSError | smtplib.SMTPException):
        return Outcome(TEMPORARY, 0, f"connection lost: {error}"[:300]), True
    raise error


def opening_failed(error: BaseException) -> Outcome:
    """A session that could not open is never the recipient's fault (no bounce).

    A 5xx while opening (AUTH refused, no STARTTLS) and a certificate the relay
    cannot prove are our own settings: ``unusable``. Anything else (4xx, refused
    or dropped connections) passes: ``temporary``.
    """
    if isinstance(error, ssl.SSLCertVerificationError):
        return Outcome(UNUSABLE, 0, f"the relay's TLS certificate: {error}"[:300])
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return Outcome(UNUSABLE, 0, f"the relay cannot do it: {error}"[:300])
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500:
        return Outcome(
            UNUSABLE, error.smtp_code, f"{error.smtp_code} {_text(error.smtp_error)}"[:300]
        )
    return classify(error)[0]


def _by_code(code: int, text: str, recipient: bool) -> Outcome:
    detail = f"{code} {text}"[:300]
    if 400 <= code < 500 or code < 200:
        return Outcome(TEMPORARY, code, detail)
    return Outcome(PERMANENT if recipient else REJECTED, code, detail)


_LEADING_DOT = re.compile(rb"(?m)^\.")
# What an address may not hold to be written as <address> without smtplib's parsing.
_UNUSUAL = re.compile(r'[\s<>()",;:\\\[\]]')


def _quote(address: str) -> str:
    """``<address>`` as smtplib.quoteaddr writes it, parsing only an unusual address."""
    if "@" in address and not _UNUSUAL.search(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _commands(sender: str, recipient: str, extra: str) -> tuple[bytes, bytes, bytes]:
    """MAIL, RCPT and DATA, encoded as smtplib sends commands (ASCII): raises, if at
    all, before anything is sent."""
    return (
        f"MAIL FROM:{_quote(sender)}{extra}\r\n".encode("ascii"),
        f"RCPT TO:{_quote(recipient)}\r\n".encode("ascii"),
        b"DATA\r\n",
    )


def _data(message: bytes) -> bytes:
    """A message text as it goes after DATA: dot-stuffed (RFC 5321 4.5.2), then the end."""
    if message[:1] == b"." or b"\n." in message:
        message = _LEADING_DOT.sub(b"..", message)
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return message + b".\r\n"


class Connection:
    """One reused SMTP session; ``send`` never raises for SMTP or network trouble.

    When the relay announces PIPELINING (RFC 2920), MAIL, RCPT and DATA go in one
    write and their three replies are read together: two round trips a message
    instead of four, and one when the outbox sends the next message's commands with
    this one's text (``send_held``). ``pipelining`` forces it on or off (None: as
    announced). After the relay's answer to a message's text the session goes on,
    unless the answer is 421 or the session has carried its ``max_messages``.
    """

    def __init__(self, relay: Relay, max_messages: int, pipelining: bool | None = None):
        self.relay = relay
        self.max_messages = max_messages
        self.smtp: smtplib.SMTP | None = None
        self.sent_on_this = 0
        self.force_pipelining = pipelining
        self.pipelining = False
        # (tag, message) whose DATA the relay answered 354 and whose text goes with
        # the next message's MAIL, RCPT and DATA (``send_held``); None otherwise.
        self.held: tuple[Any, bytes] | None = None

    @property
    def eight_bit(self) -> bool:
        """Whether the live session's relay announced 8BITMIME (RFC 6152); False when closed.

        Read from the session itself, never remembered: a recycled connection may
        reach a relay that answers EHLO differently.
        """
        return self.smtp is not None and bool(self.smtp.has_extn("8bitmime"))

    def _open(self) -> smtplib.SMTP:
        relay = self.relay
        smtp: smtplib.SMTP
        if relay.security == "tls":
            smtp = smtplib.SMTP_SSL(
                relay.host, relay.port, timeout=relay.timeout, context=relay.tls_context()
            )
        else:
            smtp = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout)
        try:
            smtp.ehlo_or_helo_if_needed()
            if relay.security == "starttls":
                smtp.starttls(context=relay.tls_context())
                smtp.ehlo()
            if relay.username:
                smtp.login(relay.username, relay.password)
        except BaseException:
            # A session refused after connecting (certificate, STARTTLS, AUTH) is
            # closed here: nobody else holds it, and its socket must not linger.
            smtp.close()
            raise
        self.sent_on_this = 0
        self.pipelining = (
            smtp.has_extn("pipelining") if self.force_pipelining is None else self.force_pipelining
        )
        return smtp

    @property
    def holding(self) -> bool:
        """Whether a message's text waits to go with the next message (``send_held``)."""
        return self.held is not None

    def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        return self.send_built(lambda _eight_bit: (sender, recipient, message))

    def send_built(self, build) -> Outcome:
        """Open the session if need be, then send what ``build(eight_bit)`` returns, whole.

        ``build`` gets whether this live session announced 8BITMIME and returns
        (envelope sender, recipient, message bytes); whatever it raises goes to
        the caller (a message that cannot be built is no SMTP trouble).
        """
        assert self.held is None, "finish() the held message first"
        [(_tag, outcome)] = self.send_held(build, None) + self.finish()
        return outcome

    def send_held(self, build, tag) -> list[tuple[Any, Outcome]]:
        """Send what ``build(eight_bit)`` returns, its text held back for the next message.

        Pipelining across messages (RFC 2920, section 3.1: the message text may be
        the first command of a group): once the relay has answered DATA with 354,
        the text waits (``held``) and goes in one write with the next message's
        MAIL, RCPT and DATA, whose replies are read with the text's own. One round
        trip a message instead of two. The next message's suppression check and
        composing (``build``) still come right before its MAIL: what changes is
        that its MAIL may wait at the relay while the relay takes the held text.

        Returns (tag, outcome) for every message this call ended: the held one's,
        and this one's unless it is now held. A message is held only when this
        session may carry one more after it, and only when the relay announced
        PIPELINING; otherwise its text goes at once. ``finish``
        sends a held text alone, ``abandon`` drops it unsent.
        """
        try:
            if self.smtp is None:
                self.smtp = self._open()
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            self.close()  # a closed session holds nothing
            return [(tag, opening_failed(error))]
        eight_bit = self.eight_bit
        sender, recipient, message = build(eight_bit)
        # An 8bit body is announced as such, and only to a relay that offers
        # 8BITMIME: to any other the composer sends quoted-printable.
        extra = " BODY=8BITMIME" if eight_bit and not message.isascii() else ""
        commands = _commands(sender, recipient, extra)
        ended: list[tuple[Any, Outcome]] = []
        held, self.held = self.held, None
        smtp = self.smtp
        try:
            if held is not None:
                smtp.send(_data(held[1]) + b"".join(commands))
                ended.append((held[0], self._text_reply()))
                if self.smtp is None:  # the relay closed the session (421) or it broke
                    return [*ended, (tag, Outcome(TEMPORARY, 0, "not sent: the relay "
                                                  "closed the session"))]  # fmt: skip
                replies = smtp.getreply(), smtp.getreply(), smtp.getreply()
            else:
                replies = self._envelope(commands, sender, recipient)
            self._check_envelope(sender, recipient, *replies)
            if self.pipelining and self.sent_on_this + 1 < self.max_messages:
                self.held = (tag, message)
                return ended
            smtp.send(_data(message))
            ended.append((tag, self._text_reply()))
        except smtplib.SMTPRecipientsRefused as error:
            outcome, drop = classify(error)
            self._reset(drop)
            ended.append((tag, outcome))
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            outcome, _drop = classify(error)
            self.close()
            if held is not None and len(ended) == 0:
                ended.append((held[0], outcome))  # its reply never came: not known to be sent
            ended.append((tag, outcome))
        except BaseException:
            # Not an SMTP answer (a bug): the session's state is unknown, so it goes
            # without a word; the relay drops whatever transaction was open.
            self.abandon()
            raise
        return ended

    def finish(self) -> list[tuple[Any, Outcome]]:
        """The held text sent alone (nothing follows it on this session): its (tag, outcome)."""
        held, self.held = self.held, None
        if held is None:
            return []
        try:
            assert self.smtp is not None  # a closed session holds nothing
            self.smtp.send(_data(held[1]))
            return [(held[0], self._text_reply())]
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            outcome, _drop = classify(error)
            self.close()
            return [(held[0], outcome)]

    def abandon(self) -> None:
        """The held text is not sent: the socket is dropped without a word (a QUIT now
        would be read as message text), so the relay discards the transaction."""
        self.held = None
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            smtp.close()

    def _text_reply(self) -> Outcome:
        """The relay's answer to a message text just sent; the session closes at its
        message limit, and at once when the relay says it is closing (421)."""
        assert self.smtp is not None
        code, reply = self.smtp.getreply()
        self.sent_on_this += 1
        if code == 250:
            outcome = Outcome(SENT)
        else:
            outcome, _drop = classify(smtplib.SMTPDataError(code, reply))
        if code == 421 or code == -1 or self.sent_on_this >= self.max_messages:
            self.close()
        return outcome

    def _envelope(self, commands: tuple[bytes, bytes, bytes], sender: str, recipient: str) -> tuple:
        """MAIL, RCPT and DATA and their replies: in one write and read together when
        the relay announced PIPELINING (RFC 2920), else one command at a time, as
        smtplib's sendmail, without its per-message work (re-parsing both addresses,
        a regular expression over every message text)."""
        smtp = self.smtp
        assert smtp is not None
        if self.pipelining:
            smtp.send(b"".join(commands))
            return smtp.getreply(), smtp.getreply(), smtp.getreply()
        mail = self._command(commands[0])
        if mail[0] != 250:
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], sender)
        rcpt = self._command(commands[1])
        if rcpt[0] not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: rcpt})
        return mail, rcpt, self._command(commands[2])

    def _command(self, line: bytes) -> tuple:
        assert self.smtp is not None
        self.smtp.send(line)
        return self.smtp.getreply()

    def _check_envelope(self, sender: str, recipient: str, mail, rcpt, data) -> None:
        """Raises as smtplib.sendmail does for a refused MAIL, RCPT or DATA."""
        if data[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
            # DATA accepted without a sender or recipient (RFC 2920 wants 503 or 554):
            # the relay now reads everything as message text, even a QUIT, and no
            # message may follow. Drop the socket without a word and report the
            # refusal itself, as the one-by-one path would.
            self.abandon()
        if mail[0] != 250:
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], sender)
        if rcpt[0] not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: rcpt})
        if data[0] != 354:
            raise smtplib.SMTPDataError(data[0], data[1])

    def _reset(self, drop: bool) -> None:
        if self.smtp is None:
            return  # already closed (a relay that took DATA after refusing RCPT)
        if drop:
            self.close()
            return
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self.held is not None:
            self.abandon()  # mid-DATA: a QUIT would be read as message text
            return
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def probe(relay: Relay) -> Outcome:
    """Whether the relay takes a session again (connect, TLS, AUTH, EHLO, NOOP): no mail sent."""
    connection = Connection(relay, 1)
    try:
        connection.smtp = connection._open()
        code, reply = connection.smtp.noop()
        if code != 250:
            return _by_code(code, _text(reply), recipient=False)
        return Outcome(SENT)
    except (TimeoutError, smtplib.SMTPException, OSError) as error:
        return opening_failed(error)
    finally:
        connection.close()


class Pool:
    """Idle SMTP sessions of this process, kept between batches, per relay.

    One per process (``POOL``); the worker closes it when the process shuts down
    (``worker_process_shutdown``, campaign/mailings/tasks.py), so the relay sees a
    QUIT rather than a dropped socket.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[Connection] = []

    def take(self, relay: Relay, max_messages: int) -> Connection:
        with self._lock:
            for i, connection in enumerate(self._idle):
                if connection.relay == relay:
                    connection.max_messages = max_messages
                    return self._idle.pop(i)
        return Connection(relay, max_messages)

    def give_back(self, connection: Connection) -> None:
        if connection.held is not None:
            connection.abandon()  # the batch ended without sending it (stopped)
        if connection.smtp is None:
            return  # closed (recycled or failed): nothing worth keeping
        with self._lock:
            self._idle.append(connection)

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)

    def close(self) -> None:
        with self._lock:
            connections, self._idle = self._idle, []
        for connection in connections:
            connection.close()


POOL = Pool()
