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
from datetime import date
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from types import SimpleNamespace
from urllib.parse import quote

import css_inline
from flask import current_app, render_template
from markupsafe import Markup

from campaign.cases import texts as case_texts
from campaign.cases.services import org_today
from campaign.core.errors import ValidationError
from campaign.letters import rendering
from campaign.letters.appeal import appeal_block
from campaign.letters.services import name_in, public_url
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
    fields: dict[str, str | None] = {name: f"[[ua:{name}]]" for name in PERSONAL}
    fields.update(dict.fromkeys(blanks, ""))
    if "first_name" in blanks and "last_name" in blanks:
        fields["name"] = ""
    fields["country"] = country
    return SimpleNamespace(id=0, state="subscribed", **fields)


# The personal fields a letter may test; messages are composed once per
# combination of them that is empty (appeal kinds only, see ``blank_fields``).
TESTABLE = ("first_name", "last_name", "city")


def composer_key(recipient, by_country: bool) -> tuple:
    """(language, country, blank fields): one composer each. The country matters
    only where the appeal block is in the message; blanks wherever a text may
    test a field (letters, and the staff's own text)."""
    blanks = tuple(name for name in TESTABLE if not getattr(recipient, name, None))
    return (recipient.language, recipient.country if by_country else None, blanks)


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


# The placeholders a mailing's own text may hold (letters have theirs, in
# campaign.letters.rendering); one syntax for both, checked when saved.
BODY_PLACEHOLDERS = {
    "first_name": "The supporter's first name",
    "last_name": "The supporter's last name",
    "name": "The supporter's full name",
    "city": "The supporter's town or city",
    "case_label": "The UA number, e.g. UA 205/16",
    "appeals": "The number of appeals sent for the UA (outcome notices)",
}


def check_text(source: str, field: str) -> None:
    """Refuse a mailing text whose placeholders are unknown, misspelt or in another syntax."""
    sample = dict.fromkeys(BODY_PLACEHOLDERS, "x")
    rendering.check(source or "", field, sample, BODY_PLACEHOLDERS)


def check_subject(subject: str, field: str = "subject") -> None:
    """A subject is a fixed header: no placeholders at all (they would go out as typed)."""
    if re.search(r"\{\{|\{%|\{#|\{\s*\w+\s*\}", subject or ""):
        raise ValidationError(
            "A subject cannot hold placeholders: it is the same for every supporter.", field
        )


# --- what each kind says (docs/MESSAGES.md keeps the table) --------------------

# Extra context per kind from a higher domain (the outcomes domain registers
# "outcome"): a function (case, content) -> dict, called once per composer.
_PROVIDERS: dict = {}


def provide(kind: str):
    """Register what a kind's messages need from a domain above mailings."""

    def register(function):
        _PROVIDERS[kind] = function
        return function

    return register


def asks_for_action(case, today: date | None = None) -> bool:
    """Whether the case still asks for appeals: active and its deadline not passed."""
    if case is None or case.status != "active":
        return False
    deadline = case.current_deadline
    return deadline is None or (today or org_today()) <= deadline


def stage(content: Content) -> str:
    """Which rule of docs/MESSAGES.md a message follows.

    appeal (the full appeal block), over (an appeal or reminder for a case that
    no longer asks: no block), update_action (what is new, then the appeal
    block), update_news (what is new, no ask, the case still open), stop (a
    stop-action update: no ask), outcome, thanks (the outcome for those who
    acted), free.
    """
    case, update = content.context.get("case"), content.context.get("update")
    kind = content.kind
    if case is None or kind == "free":
        return "free"
    if kind == "outcome":
        return "thanks" if content.context.get("acted") else "outcome"
    open_ = asks_for_action(case)
    if kind == "update":
        if update is not None and update.kind != "further_action":
            return "stop"
        return "update_action" if open_ else "update_news"
    return "appeal" if open_ else "over"


def _appeal_block(content: Content, language: str, supporter):
    """The letters domain's appeal block with markers where the personal links go."""
    if stage(content) not in ("appeal", "update_action"):
        return None
    case, update = content.context.get("case"), content.context.get("update")
    if case is None:  # stage() says "free" without a case: not reached
        return None
    block = appeal_block(case, supporter, language=language, update=update)
    # One signed link per supporter, substituted in stage two (also the print link's token).
    block.action_url = "[[ua:action_url]]"
    block.print_url = "[[ua:action_url]]/letters.pdf"
    return block


def _body(content: Content, supporter, extra: dict) -> tuple[str, Markup]:
    """The staff's own text with its placeholders filled (markers for the personal ones)."""
    source = content.context.get("body") or ""
    if not source.strip():
        return "", Markup("")
    case = content.context.get("case")
    values = {name: getattr(supporter, name) or "" for name in ("first_name", "last_name", "city")}
    values["name"] = supporter.name or ""
    values["case_label"] = case.label if case is not None else ""
    values["appeals"] = extra.get("appeals_text", "")
    return rendering.render_text(source, values), rendering.render_html(source, values)


def _render_parts(
    content: Content, language: str, country: str | None = None, blanks: tuple = ()
) -> tuple[str, str, dict]:
    supporter = placeholder_supporter(country, blanks)
    w = words(language)
    case = content.context.get("case")
    kind_stage = stage(content)
    extra = _PROVIDERS[content.kind](case, content) if content.kind in _PROVIDERS and case else {}
    if "appeals" in extra:
        extra["appeals_text"] = w.number(extra["appeals"])
    text = (
        case_texts.content(case, language, extra.get("closing_text", ""))
        if case is not None
        else None
    )
    body_text, body_html = _body(content, supporter, extra)
    if "outcomes" in extra:
        extra["people_outcomes"] = [
            (name_in(o.person, language), o.outcome, o.note) for o in extra["outcomes"]
        ]
    context = {
        **content.context,
        **extra,
        "subject": subject_in(content, w, {**content.context, **extra}),
        "stage": kind_stage,
        "text": text,
        "body_text": body_text,
        "body_html": body_html,
        "public_url": public_url(case, language) if case is not None else "",
        "block": _appeal_block(content, language, supporter),
        "supporter": supporter,
        "w": w,
        "language": language,
        "greeting": "[[ua:greeting]]",
        "unsubscribe_url": "[[ua:unsubscribe_url]]",
        "action_url": "[[ua:action_url]]",
    }
    page = render_template(f"emails/{content.kind}.html", **context)
    plain = render_template(f"emails/{content.kind}.txt", **context)
    return _INLINER.inline(page), _clean_text(plain), context


_BLANK_RUNS = re.compile(r"\n{3,}")


def _clean_text(text: str) -> str:
    # Templates leave blank lines where a section was skipped: at most one between paragraphs.
    return _BLANK_RUNS.sub("\n\n", text.strip("\n")) + "\n"


_REMINDER_SUBJECT = re.compile(
    r"^(?P<label>.+): (?:(?P<days>\d+) days? left|last day) to send your appeal$"
)


def subject_in(content: Content, w, context: dict | None = None) -> str:
    """The subject in the reader's language when it is the one the system wrote
    (update, reminder, outcome notice); a subject staff wrote stays as written."""
    if w.language == "en":
        return content.subject
    case, update = content.context.get("case"), content.context.get("update")
    if case is None:
        return content.subject
    if (
        content.kind == "update"
        and update is not None
        and content.subject == f"{case.label}: {update.label}"
    ):
        return w.update_label(update)
    if content.kind == "reminder":
        match = _REMINDER_SUBJECT.match(content.subject)
        if match and match.group("label") == case.label:
            return w.days_left(case.label, int(match.group("days") or 0))
    default = (context or content.context).get("default_subject")
    if content.kind == "outcome" and content.subject == default:
        return w.outcome_subject.format(label=case.label)
    return content.subject


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
        page, text, context = _render_parts(content, language, country, blanks)
        self.html, self.text = _crlf(page), _crlf(text)
        self.subject = context["subject"]
        self.text_template = _Template(self.text, html_part=False)
        self.html_template = _Template(self.html, html_part=True)
        self.boundary = f"=_ua_{uuid.uuid4().hex}"
        self.verp_key = config["SECRET_KEY"].encode()
        self.verp_domain = config["VERP_DOMAIN"]
        subject = clean_header(self.subject, "subject")
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
        if config["MAIL_REPLY_TO"]:
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
        # The name is the supporter's own text: isolated in a right-to-left message,
        # so a Latin name does not carry the comma to the wrong end of the greeting.
        rtl = first and self.words.direction == "rtl"
        first_shown = f"\u2068{first}\u2069" if rtl else first
        greeting = self.words["dear"].format(name=first_shown) if first else self.words["friend"]
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
        text_part, text_plain = self.text_template.fill(values)
        page_part, page_plain = self.html_template.fill(values)
        text_encoding, text = _transfer_encode(text_part.encode("utf-8"), text_plain, eight_bit)
        page_encoding, page = _transfer_encode(page_part.encode("utf-8"), page_plain, eight_bit)
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


class ComposerSet:
    """The composers of one mailing, made as its recipients need them.

    Messages differ by language and, where the appeal block is in them, by the
    supporter's country (the embassy among the targets) and by which personal
    fields are empty (a letter's ``{% if city %}``): one composer per such key.
    """

    def __init__(self, mailing_id: int, content: Content, links):
        self.mailing_id = mailing_id
        self.content = content
        self.links = links
        self.by_country = needs_country(content)
        self.composers: dict[tuple, Composer] = {}

    def key(self, recipient) -> tuple:
        return composer_key(recipient, self.by_country)

    def add(self, recipients) -> None:
        for key in {self.key(r) for r in recipients} - self.composers.keys():
            language, country, blanks = key
            self.composers[key] = Composer(
                self.mailing_id, self.content, language, self.links, country, blanks
            )

    def for_recipient(self, recipient) -> Composer:
        self.add([recipient])
        return self.composers[self.key(recipient)]

    def get(self, recipient) -> Composer:
        """The composer ``add`` made for this recipient (reads only: safe in sender threads)."""
        return self.composers[composer_key(recipient, self.by_country)]

    def build(self, recipient, eight_bit: bool = False) -> tuple[str, str, bytes]:
        return self.for_recipient(recipient).build(recipient, eight_bit=eight_bit)

    def __len__(self) -> int:
        return len(self.composers)


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
    if value and value.isprintable() and "  " not in value:
        # No whitespace but single ASCII spaces (isprintable() is False for every
        # other space and line break): only the ends can change.
        return value.strip()
    return _SPACES.sub(" ", value or "").strip()
