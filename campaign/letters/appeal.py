"""The appeal block: what one supporter is asked to do for one case.

Built once here and rendered by ``templates/letters/_appeal_block.html`` and
``.txt`` for emails, the public case page and (its letters) the print pack, so
that every channel asks for the same thing: what happened, what to ask for,
the letter in the supporter's language, whom to write to (with the embassy in
the supporter's country), the deadline, and the "I sent my appeal" link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from markupsafe import Markup

from campaign.cases import texts as case_texts
from campaign.cases.models import Case, CaseStatus, CaseUpdate, Target
from campaign.cases.services import org_today
from campaign.letters import rendering, services, texts

# Mail clients and browsers truncate or refuse longer mailto: links (Outlook
# and older browsers stop near 2,000 characters), so bodies are shortened.
MAILTO_MAX = 2000


@dataclass
class RenderedLetter:
    language: str
    subject: str
    body: str  # plain text
    html: Markup  # the same, escaped, as paragraphs
    salutation: str = ""  # how the letter addresses its target, in the letter's language


@dataclass
class TargetAppeal:
    target: Target
    letter: RenderedLetter | None
    mailto: str | None = None
    mailto_shortened: bool = False


@dataclass
class AppealBlock:
    case_id: int
    label: str
    title: str
    summary: str
    recommended_actions: list[str]
    language: str  # of the case text shown (the reader's, or the main language)
    direction: str
    reader: str  # the reader's language: the block's own words are in it
    reader_direction: str
    fallback: bool  # the case has no text in the reader's language
    letter: RenderedLetter | None
    entries: list[TargetAppeal]
    deadline: date | None
    deadline_text: str
    deadline_passed: bool
    action_url: str
    public_url: str
    print_url: str | None
    closed: bool
    outcome: str
    t: dict = field(repr=False)

    @property
    def targets(self) -> list[Target]:
        return [entry.target for entry in self.entries]

    @property
    def main_entries(self) -> list[TargetAppeal]:
        return [entry for entry in self.entries if not entry.target.is_copy]

    @property
    def copy_entries(self) -> list[TargetAppeal]:
        return [entry for entry in self.entries if entry.target.is_copy]

    @property
    def mailto_links(self) -> dict[int, str]:
        return {entry.target.id: entry.mailto for entry in self.entries if entry.mailto}


def appeal_block(
    case: Case,
    supporter=None,
    *,
    language: str | None = None,
    today: date | None = None,
    update: CaseUpdate | None = None,
    blank: bool = False,
) -> AppealBlock:
    """The appeal for ``supporter`` (or a visitor of the public page when None)."""
    today = today or org_today()
    wanted = language or getattr(supporter, "language", None)
    template = services.choose_letter(case, wanted, update)
    reader = wanted or case_texts.main_language(case)
    text = case_texts.content(case, reader)
    language = template.language if template else text.language
    country = getattr(supporter, "country", None)
    entries = [
        _entry(case, template, target, supporter, language, today, blank)
        for target in case.targets
        if not target.is_copy or target.copy_country in (None, country)
    ]
    deadline = case.current_deadline
    passed = deadline is not None and today > deadline
    key = "deadline_passed" if passed else "deadline_before"
    has_link = supporter is not None and getattr(supporter, "id", None) is not None
    return AppealBlock(
        case_id=case.id,
        label=case.label,
        title=text.title,
        summary=text.summary,
        recommended_actions=_lines(text.recommended_actions),
        language=text.language,
        direction=texts.direction(text.language),
        reader=reader,
        reader_direction=texts.direction(reader),
        fallback=text.fallback,
        letter=_first_letter(case, template, supporter, language, today, blank, entries),
        entries=entries,
        deadline=deadline,
        deadline_text=texts.text(key, reader, date=texts.long_date(deadline, reader))
        if deadline
        else "",
        deadline_passed=passed,
        action_url=services.action_url(case, supporter)
        if has_link
        else services.public_url(case, language) + "#took-action",
        public_url=services.public_url(case, language),
        print_url=services.print_url(case, supporter) if has_link else None,
        closed=case.status == CaseStatus.CLOSED,
        outcome=outcome(case, reader),
        t=texts.strings(reader),
    )


def _entry(case, template, target, supporter, language, today, blank) -> TargetAppeal:
    letter = render_letter(
        case, template, supporter=supporter, target=target, today=today, blank=blank
    )
    entry = TargetAppeal(target=target, letter=letter)
    if letter is not None and target.email:
        entry.mailto, entry.mailto_shortened = mailto(target.email, letter.subject, letter.body)
    return entry


def _first_letter(case, template, supporter, language, today, blank, entries):
    """The letter shown once: as written to the first main target."""
    main = [e for e in entries if not e.target.is_copy]
    if main:
        return main[0].letter
    return render_letter(case, template, supporter=supporter, target=None, today=today, blank=blank)


def render_letter(
    case: Case,
    template,
    *,
    supporter=None,
    target=None,
    today: date | None = None,
    blank: bool = False,
) -> RenderedLetter | None:
    if template is None:
        return None
    values = services.letter_values(
        case, template.language, supporter=supporter, target=target, today=today, blank=blank
    )
    return RenderedLetter(
        language=template.language,
        subject=rendering.render_text(template.subject, values),
        body=rendering.render_text(template.body, values),
        html=rendering.render_html(template.body, values),
        salutation=values["salutation"],
    )


def outcome(case: Case, language: str) -> str:
    """What the public page says once a UA is closed: the closing text, else the
    last update's news, else the standard thanks."""
    if case.status != CaseStatus.CLOSED:
        return ""
    closing = latest_closing(case)
    if closing is not None and closing.text.strip():
        return closing.text.strip()
    last = case.updates[-1] if case.updates else None
    if last is None:
        return texts.text("closed", language)
    return "\n\n".join(part for part in (last.title, last.body) if part)


# The outcomes domain (a layer above) records closings and registers how to
# find a case's latest with closing_finder; without one, updates tell the story.
_closing_finders: list[Callable] = []


def closing_finder(function: Callable) -> Callable:
    """Register ``function(case)``: the case's latest closing (with ``text`` and
    ``outcomes``), or None."""
    _closing_finders.append(function)
    return function


def latest_closing(case: Case):
    for find in _closing_finders:
        closing = find(case)
        if closing is not None:
            return closing
    return None


def _lines(text: str) -> list[str]:
    lines = (re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line) for line in text.splitlines())
    return [line.strip() for line in lines if line.strip()]


# --- mailto: ----------------------------------------------------------------


def mailto(address: str, subject: str, body: str, limit: int = MAILTO_MAX) -> tuple[str, bool]:
    """An RFC 6068 link that opens a draft; (link, whether the body was shortened).

    Everything is percent-encoded as UTF-8 and line breaks are CRLF, as the
    RFC asks; a body that would push the link past ``limit`` is cut at a word
    and marked with "…".
    """
    full = _mailto(address, subject, body)
    if len(full) <= limit:
        return full, False
    if len(_mailto(address, subject, "…")) > limit:
        return _mailto(address, _fit(subject, lambda s: _mailto(address, s, ""), limit), ""), True
    kept = _fit(body, lambda b: _mailto(address, subject, b), limit)
    return _mailto(address, subject, kept), True


def _mailto(address: str, subject: str, body: str) -> str:
    query = "subject=" + quote(subject, safe="")
    if body:
        query += "&body=" + quote(body.replace("\r\n", "\n").replace("\n", "\r\n"), safe="")
    return f"mailto:{quote(address, safe='@')}?{query}"


def _fit(text: str, build, limit: int) -> str:
    """The longest start of ``text``, cut at a space, whose link fits (binary search)."""
    words = re.split(r"(?<=\s)", text)
    low, high = 0, len(words)
    while low < high:
        middle = (low + high + 1) // 2
        if len(build("".join(words[:middle]).rstrip() + " …")) <= limit:
            low = middle
        else:
            high = middle - 1
    return "".join(words[:low]).rstrip() + " …"
