"""Building the email messages of a mailing, fast and without header injection.

Python's ``email`` package builds about 475 multipart messages a second here
(DESIGN.md §7), far too slow for the outbox. So a message is built in two
stages. Once per batch and language, Jinja renders the templates with a stand-in
supporter whose fields are markers (``[[ua:first_name]]``), CSS is inlined, and
the headers that never vary are encoded with the email package. Then, per
supporter, the markers are replaced by the escaped values, the parts are
quoted-printable encoded (C code in binascii) and joined to the fixed headers.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import html
import re
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from types import SimpleNamespace
from urllib.parse import quote

import css_inline
from flask import current_app, render_template

from campaign.mailings.wording import words

PERSONAL = ("first_name", "last_name", "name", "email", "city", "country", "language")
LINKS = ("unsubscribe_url", "action_url")
_MARKER = re.compile(r"\[\[ua:(\w+)\]\]")
# A marker inside a mailto: link of the appeal block arrives percent-encoded.
_QUOTED_MARKER = re.compile(r"%5B%5Bua%3A(\w+)%5D%5D")
_QUOTED_START = "%5B%5Bua%3A"
# Either kind, for splitting a template once into literal text and the markers between.
_ANY_MARKER = re.compile(r"\[\[ua:(\w+)\]\]|%5B%5Bua%3A(\w+)%5D%5D")
# RFC 5322 allows 998 characters a line; a part with longer lines is quoted-printable.
MAX_LINE = 998
# Kinds whose email carries the letters domain's appeal block (DESIGN.md: one appeal).
APPEAL_KINDS = ("appeal", "update", "reminder")
_SPACES = re.compile(r"\s+")
_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


class HeaderInjection(ValueError):
    """A header value carried a line break."""


def clean_header(value: str, what: str = "header") -> str:
    if "\r" in value or "\n" in value or "\0" in value:
        raise HeaderInjection(f"The {what} must be on one line.")
    return value


def address_header(value: str, what: str = "address") -> str:
    """``Name <address>`` as a header value: a name in other than ASCII goes RFC 2047 encoded."""
    name, address = parseaddr(clean_header(value, what))
    if not address or not address.isascii() or "@" not in address:
        raise HeaderInjection(f"The {what} is not an email address: {value!r}.")
    return formataddr((name, address), charset="utf-8")


def message_id(mailing_id: int, delivery_id: int, domain: str | None = None) -> str:
    """Deterministic: a repeated send of one delivery carries the same Message-ID."""
    return f"<ua.{mailing_id}.{delivery_id}@{domain or _domain()}>"


def _domain() -> str:
    address = parseaddr(current_app.config["MAIL_FROM"])[1]
    return address.rpartition("@")[2] or "localhost"


def _verp_signature(delivery_id: int, key: bytes | None = None) -> str:
    key = key or current_app.config["SECRET_KEY"].encode()
    return hmac.digest(key, f"verp:{delivery_id}".encode(), hashlib.sha256).hex()[:10]


def verp_address(delivery_id: int, key: bytes | None = None, domain: str | None = None) -> str:
    """The envelope sender of one delivery: a bounce to it names the delivery."""
    domain = domain or current_app.config["VERP_DOMAIN"]
    return f"bounces+{delivery_id}-{_verp_signature(delivery_id, key)}@{domain}"


_VERP = re.compile(r"^bounces\+(\d+)-([0-9a-f]{10})@", re.IGNORECASE)


def verp_delivery_id(address: str) -> int | None:
    """The delivery id a VERP address names, or None when forged or foreign."""
    match = _VERP.match(address.strip().strip("<>"))
    if not match:
        return None
    delivery_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2).lower(), _verp_signature(delivery_id)):
        return None
    return delivery_id


def placeholder_supporter(country: str | None = None, blanks: tuple = ()):
    """A supporter whose every field renders as its marker (stage one).

    The country is real: it picks the embassy among the targets and is named in
    the letter, so appeal messages are composed per language and country. The
    fields in ``blanks`` are empty, not markers: a letter may test them
    (``{% if city %}{{ city }}, {% endif %}``), and a marker would always pass
    the test, leaving a stray comma for a supporter without a city.
    """
    fields = {name: f"[[ua:{name}]]" for name in PERSONAL}
    fields.update(dict.fromkeys(blanks, ""))
    if "first_name" in blanks and "last_name" in blanks:
        fields["name"] = ""
    fields["country"] = country
    return SimpleNamespace(id=0, state="subscribed", **fields)


# The personal fields a letter may test; messages are composed once per
# combination of them that is empty (appeal kinds only, see ``blank_fields``).
TESTABLE = ("first_name", "last_name", "city")


def composer_key(recipient, by_country: bool) -> tuple:
    """(language, country, blank fields): one composer each. Country and blanks
    matter only where the appeal block and its letter are in the message."""
    if not by_country:
        return (recipient.language, None, ())
    blanks = tuple(name for name in TESTABLE if not getattr(recipient, name, None))
    return (recipient.language, recipient.country, blanks)


@dataclass
class Recipient:
    """What a message needs to know about its supporter (a row, not an ORM object)."""

    delivery_id: int
    supporter_id: int
    email: str
    first_name: str = ""
    last_name: str = ""
    language: str = "en"
    city: str = ""
    country: str | None = None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def id(self) -> int:  # for link helpers that take a supporter
        return self.supporter_id


@dataclass
class Content:
    """What a mailing says, independent of the supporter: templates and their context."""

    kind: str
    subject: str
    context: dict


def needs_country(content: Content) -> bool:
    """Whether messages differ by the supporter's country (the appeal block's do)."""
    return content.kind in APPEAL_KINDS and content.context.get("case") is not None


def _appeal_block(content: Content, language: str, supporter):
    """The letters domain's appeal block with markers where the personal links go."""
    case, update = content.context.get("case"), content.context.get("update")
    if content.kind not in APPEAL_KINDS or case is None:
        return None
    if update is not None and update.kind != "further_action":
        return None  # news without a new ask: the email names the UA only
    from campaign.letters.appeal import appeal_block

    block = appeal_block(case, supporter, language=language, update=update)
    # One signed link per supporter, substituted in stage two (also the print link's token).
    block.action_url = "[[ua:action_url]]"
    block.print_url = "[[ua:action_url]]/letters.pdf"
    return block


def _render_parts(
    content: Content, language: str, country: str | None = None, blanks: tuple = ()
) -> tuple[str, str]:
    supporter = placeholder_supporter(country, blanks)
    context = {
        **content.context,
        "block": _appeal_block(content, language, supporter),
        "supporter": supporter,
        "w": words(language),
        "language": language,
        "greeting": "[[ua:greeting]]",
        "unsubscribe_url": "[[ua:unsubscribe_url]]",
        "action_url": "[[ua:action_url]]",
    }
    page = render_template(f"emails/{content.kind}.html", **context)
    text = render_template(f"emails/{content.kind}.txt", **context)
    return _INLINER.inline(page), text


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


class Composer:
    """Builds the messages of one mailing in one language (stage one done in __init__)."""

    def __init__(
        self,
        mailing_id: int,
        content: Content,
        language: str,
        links,
        country: str | None = None,
        blanks: tuple = (),
    ):
        config = current_app.config
        self.mailing_id = mailing_id
        self.language = language
        self.country = country
        self.links = links  # recipient → {"unsubscribe_url": ..., "action_url": ...}
        self.domain = _domain()
        self.words = words(language)
        page, text = _render_parts(content, language, country, blanks)
        self.html, self.text = _crlf(page), _crlf(text)
        self.text_template = _Template(self.text, html_part=False)
        self.html_template = _Template(self.html, html_part=True)
        self.boundary = f"=_ua_{uuid.uuid4().hex}"
        self.verp_key = config["SECRET_KEY"].encode()
        self.verp_domain = config["VERP_DOMAIN"]
        subject = clean_header(content.subject, "subject")
        fixed = [
            ("From", address_header(config["MAIL_FROM"], "sender")),
            ("Subject", Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")),
            ("Date", formatdate(localtime=False)),
            ("MIME-Version", "1.0"),
            ("Content-Language", clean_header(language, "language")),
            ("List-Id", clean_header(config["LIST_ID"], "List-Id")),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk"),
            ("Content-Type", f'multipart/alternative; boundary="{self.boundary}"'),
        ]
        if config.get("MAIL_REPLY_TO"):
            fixed.insert(1, ("Reply-To", address_header(config["MAIL_REPLY_TO"], "Reply-To")))
        self.fixed_headers = "".join(f"{k}: {v}\r\n" for k, v in fixed)
        self.part_heads = {
            (subtype, encoding): (
                f"--{self.boundary}\r\nContent-Type: text/{subtype}; charset=utf-8\r\n"
                f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
            ).encode()
            for subtype in ("plain", "html")
            for encoding in ("7bit", "8bit", "quoted-printable")
        }
        self.closing = f"\r\n--{self.boundary}--\r\n".encode()

    def values(self, recipient: Recipient) -> dict:
        links = self.links(recipient)
        first = _one_line(recipient.first_name)
        greeting = self.words["dear"].format(name=first) if first else self.words["friend"]
        return {
            "first_name": first,
            "last_name": _one_line(recipient.last_name),
            "name": _one_line(recipient.name),
            "email": recipient.email,
            "city": _one_line(recipient.city or ""),
            "country": recipient.country or "",
            "language": recipient.language or "",
            "greeting": greeting,
            **links,
        }

    def build(self, recipient: Recipient, eight_bit: bool = False) -> tuple[str, str, bytes]:
        """(envelope sender, recipient address, message bytes) for one delivery.

        A part that is all ASCII with lines of at most 998 characters goes as it is
        (7bit); one with other characters goes as UTF-8 (8bit) when ``eight_bit``
        (the relay announced 8BITMIME), else, like any part with a longer line,
        quoted-printable.
        """
        values = self.values(recipient)
        address = clean_header(recipient.email, "email address")
        if not address or "@" not in address or any(c in address for c in ' <>,"'):
            raise HeaderInjection("The email address is not valid.")
        unsubscribe = clean_header(values.get("unsubscribe_url", ""), "unsubscribe link")
        headers = (
            f"To: {formataddr((values['name'], address), charset='utf-8')}\r\n"
            f"Message-ID: {message_id(self.mailing_id, recipient.delivery_id, self.domain)}\r\n"
            f"List-Unsubscribe: <{unsubscribe}>\r\n"
        )
        text, text_plain = self.text_template.fill(values)
        page, page_plain = self.html_template.fill(values)
        text_encoding, text = _transfer_encode(text.encode("utf-8"), text_plain, eight_bit)
        page_encoding, page = _transfer_encode(page.encode("utf-8"), page_plain, eight_bit)
        body = b"".join(
            (
                (self.fixed_headers + headers + "\r\n").encode("utf-8"),
                self.part_heads["plain", text_encoding],
                text,
                b"\r\n",
                self.part_heads["html", page_encoding],
                page,
                self.closing,
            )
        )
        sender = verp_address(recipient.delivery_id, self.verp_key, self.verp_domain)
        return sender, address, body


RAW, ESCAPED, QUOTED = 0, 1, 2


class _Template:
    """A rendered part split once into literal text and the markers between (stage two).

    In the HTML part a marker is replaced by the HTML-escaped value, and a
    percent-encoded marker (inside a mailto: link) by the percent-encoded value;
    in the text part by the value as it is. What makes a part safe to send as it
    is (no bare CR or LF, no NUL, no line over 998 octets) is checked here once
    for the literal text, and per message only for the values put in.
    """

    def __init__(self, source: str, html_part: bool):
        pattern = _ANY_MARKER if html_part else _MARKER
        pieces = pattern.split(source)
        step = 3 if html_part else 2
        self.literals = pieces[0::step]
        self.markers = []
        for i in range(1, len(pieces), step):
            if not html_part:
                self.markers.append((pieces[i], RAW))
            elif pieces[i] is not None:
                self.markers.append((pieces[i], ESCAPED))
            else:
                self.markers.append((pieces[i + 1], QUOTED))
        self.escaped = {name for name, how in self.markers if how == ESCAPED}
        self.quoted = {name for name, how in self.markers if how == QUOTED}
        data = source.encode("utf-8")
        self.ascii = data.isascii()
        crlf = data.count(b"\r\n")
        self.clean = data.count(b"\n") == data.count(b"\r") == crlf and b"\0" not in data
        # Each line with markers: its literal octets and which markers it holds.
        self.static_max, self.marker_lines, index = 0, [], 0
        for line in source.split("\r\n"):
            found = len(pattern.findall(line))
            literal = len(pattern.sub("", line).encode("utf-8"))
            if found:
                self.marker_lines.append((literal, range(index, index + found)))
            else:
                self.static_max = max(self.static_max, literal)
            index += found

    def fill(self, values: dict) -> tuple[str, bool]:
        """(the part for these values, whether it may go without quoted-printable)."""
        ways = (
            values,
            {k: html.escape(values.get(k, "")) for k in self.escaped},
            {k: quote(values.get(k, ""), safe="") for k in self.quoted},
        )
        used = [ways[how].get(name, "") for name, how in self.markers]
        out = [self.literals[0]]
        for value, literal in zip(used, self.literals[1:], strict=True):
            out.append(value)
            out.append(literal)
        joined = "".join(used)
        plain = self.clean and not ("\r" in joined or "\n" in joined or "\0" in joined)
        if plain and self.static_max <= MAX_LINE:
            octets = [len(v) if v.isascii() else len(v.encode("utf-8")) for v in used]
            for literal, held in self.marker_lines:
                if literal + sum(octets[i] for i in held) > MAX_LINE:
                    plain = False
                    break
        else:
            plain = False
        return "".join(out), plain


def _transfer_encode(data: bytes, plain: bool, eight_bit: bool) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, body) of one part: as it is when that is safe."""
    if plain:
        if data.isascii():
            return "7bit", data
        if eight_bit:
            return "8bit", data
    return "quoted-printable", binascii.b2a_qp(data, istext=True)


def _one_line(value: str) -> str:
    # A name is the supporter's own text: fold any line break into a space so it
    # can never start a header of its own.
    return _SPACES.sub(" ", value or "").strip()
