"""The source text of a proposal as HTML, each extracted field marked where it came from.

Every piece of the text is escaped on its own and only our ``<mark>`` tags are added
between pieces, so nothing in a document (``<script>``, quotes, entities) can reach
the page as markup. Spans of different fields may overlap (a name inside the summary
line): the text is cut at every span boundary and each piece is wrapped in the marks
that cover it, which always nests correctly. The first piece of each span carries
the id ``src-<field>`` (``src-<field>-<n>`` for its later spans), for links from the
form to the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup, escape

from campaign.casesheets.extract import Found, Proposal

# Fields whose spans are whole lines or blocks: drawn lighter, so the short values
# inside them (names, dates) stay visible.
BLOCK_FIELDS = {"summary", "background", "recommended_actions"}

LABELS = {
    "ua_number": "UA number",
    "year": "UA year",
    "kind": "Original, update or outcome",
    "update_number": "Update number",
    "further_action": "Further action",
    "index_reference": "Index reference",
    "title": "Title",
    "country": "Country",
    "issue_date": "Issued on",
    "outcome": "Outcome",
    "summary": "Summary",
    "background": "Background",
    "deadline": "Deadline",
    "languages": "Languages",
    "recommended_actions": "Recommended actions",
    "copy_to_embassies": "Copies to diplomatic representatives",
}


@dataclass(frozen=True)
class Mark:
    key: str  # the field, as in the id: "title", "person-0", "target-1"
    label: str
    kind: str  # "value", "block" or "person": a CSS class
    spans: tuple[tuple[int, int], ...]


def marks_of(proposal: Proposal) -> list[Mark]:
    marks = []
    for key, label in LABELS.items():
        found: Found = getattr(proposal, key)
        if found.spans and found.value is not None:
            kind = "block" if key in BLOCK_FIELDS else "value"
            marks.append(Mark(key, label, kind, tuple(found.spans)))
    for index, person in enumerate(proposal.people):
        marks.append(Mark(f"person-{index}", f"Person: {person.name}", "person", _t(person.spans)))
        for number, status in enumerate(person.statuses):
            label = f"{person.name}: {status.value}"
            marks.append(Mark(f"person-{index}-status-{number}", label, "value", _t(status.spans)))
        if person.status_on.found:
            label = f"{person.name}: {person.status.value} on {person.status_on.value}"
            marks.append(Mark(f"person-{index}-on", label, "value", _t(person.status_on.spans)))
    for index, target in enumerate(proposal.targets):
        marks.append(Mark(f"target-{index}", f"Target {index + 1}", "block", _t(target.spans)))
    return marks


def _t(spans) -> tuple[tuple[int, int], ...]:
    return tuple((int(s), int(e)) for s, e in spans)


@dataclass(frozen=True)
class _Interval:
    start: int
    end: int
    mark: Mark
    number: int  # which span of the mark

    @property
    def element_id(self) -> str:
        return f"src-{self.mark.key}" + (f"-{self.number + 1}" if self.number else "")


def highlight(text: str, marks: list[Mark]) -> Markup:
    """``text`` as escaped HTML with ``<mark>`` elements around every span."""
    intervals = []
    for mark in marks:
        for number, (start, end) in enumerate(mark.spans):
            start, end = max(0, start), min(len(text), end)
            if start < end:
                intervals.append(_Interval(start, end, mark, number))
    starts: dict[int, list[_Interval]] = {}
    for interval in intervals:
        starts.setdefault(interval.start, []).append(interval)
    cuts = sorted({0, len(text), *(i.start for i in intervals), *(i.end for i in intervals)})
    active: list[_Interval] = []
    html = [Markup("")]
    # One sweep over the cuts, so thousands of marks cost no more than sorting them.
    for lo, hi in pairwise(cuts):
        active = [i for i in active if i.end > lo] + starts.get(lo, [])
        active.sort(key=lambda i: (i.start, -i.end))
        html.extend(_open(i, first=i.start == lo) for i in active)
        html.append(escape(text[lo:hi]))
        html.append(Markup("</mark>") * len(active))
    return Markup("").join(html)


def _open(interval: _Interval, *, first: bool) -> Markup:
    mark = interval.mark
    element_id = Markup(' id="{}"').format(interval.element_id) if first else Markup("")
    return Markup('<mark class="hl hl-{}" title="{}"{}>').format(mark.kind, mark.label, element_id)
