"""Field accuracy of the case-sheet import over the corpus: fields right ÷ fields expected.

Each sheet's ``expected.yaml`` lists the fields a careful reader finds in it; only
the fields it lists are scored (a field written as ``null`` must not be proposed).
A sheet goes through the same path as an upload: ``read_document`` on the file's
bytes, then ``extract`` on the text, with no database.

What counts as one field:
- each top-level field (``ua_number``, ``title``, ``country``, ``languages``
  as a set, ...);
- for each expected person: the name (the proposed name, not an alias), and the
  status and its date where listed;
- for each expected target: the name, the salutation, the email and fax where
  listed, and whether it is a copy. A target is matched to the proposed target
  with the same email, fax or name; an expected target nobody proposed loses all
  its fields.
Proposed people and targets the sheet does not expect are counted as ``extra``
(reported, not in the ratio). Text is compared with runs of spaces collapsed and
trailing ``,:;.`` removed; case matters.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from campaign.casesheets.extract import extract
from campaign.casesheets.readers import read_document

CORPUS = Path(__file__).parent
FORMATS = ("txt", "html", "docx", "pdf")
# The date sheets are read on: far after every sheet, so no year is read as future.
TODAY = date(2026, 12, 1)


def sheets() -> list[Path]:
    return sorted(p.parent for p in CORPUS.glob("*/expected.yaml"))


def expected_of(folder: Path) -> dict:
    return yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))


@dataclass
class Result:
    sheet: str
    format: str
    seconds: float
    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    wrong: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.total[name] += 1
        if ok:
            self.right[name] += 1
        else:
            self.wrong.append(f"{self.sheet}.{self.format} {name}: {detail}")


def clean(value):
    if isinstance(value, str):
        return re.sub(r"\s+", " ", value).strip().rstrip(",:;.").strip()
    return value


def score(folder: Path, fmt: str) -> Result:
    data = (folder / f"sheet.{fmt}").read_bytes()
    started = time.perf_counter()
    read = read_document(data, f"sheet.{fmt}")
    proposal = extract(read.text, today=TODAY)
    result = Result(folder.name, fmt, time.perf_counter() - started)
    expected = expected_of(folder)
    got = {
        "ua_number": proposal.ua_number.value,
        "year": proposal.year.value,
        "kind": proposal.kind.value,
        "update_number": proposal.update_number.value,
        "further_action": proposal.further_action.value,
        "index_reference": proposal.index_reference.value,
        "title": proposal.title.value,
        "country": proposal.country.value,
        "issue_date": proposal.issue_date.value,
        "deadline": proposal.deadline.value,
        "languages": proposal.languages.value,
    }
    for name, value in got.items():
        if name not in expected:
            continue
        want = expected[name]
        if name in ("issue_date", "deadline") and want is not None:
            want = want.isoformat()
        if name == "languages":
            ok = set(value or []) == set(want or [])
        else:
            ok = clean(value) == clean(want)
        result.check(name, ok, f"expected {want!r}, got {value!r}")
    _score_people(result, expected.get("people") or [], proposal)
    _score_targets(result, expected.get("targets") or [], proposal)
    return result


def _score_people(result: Result, expected: list[dict], proposal) -> None:
    from campaign.casesheets.extract import name_key

    used = set()
    for want in expected:
        key = name_key(want["name"])
        person = next(
            (
                p
                for p in proposal.people
                if key in {name_key(s) for s in [p.name, *p.aliases]} and id(p) not in used
            ),
            None,
        )
        if person is not None:
            used.add(id(person))
        result.check(
            "person_name",
            person is not None and clean(person.name) == clean(want["name"]),
            f"expected {want['name']!r}, got {person.name if person else None!r}",
        )
        if "status" in want:
            got = person.status_code if person else None
            result.check("person_status", got == want["status"], f"{want['name']}: {got!r}")
        if "status_on" in want:
            got = person.status_on.value if person else None
            result.check(
                "person_status_date",
                got == want["status_on"].isoformat(),
                f"{want['name']}: expected {want['status_on']}, got {got!r}",
            )
    for person in proposal.people:
        if id(person) not in used:
            result.extra.append(f"{result.sheet}.{result.format} person {person.name!r}")


def _score_targets(result: Result, expected: list[dict], proposal) -> None:
    remaining = list(proposal.targets)
    for want in expected:
        target = _match_target(want, remaining)
        if target is not None:
            remaining.remove(target)
        label = want.get("name") or want.get("email")
        for name in ("name", "salutation", "email", "fax", "is_copy"):
            if name not in want and name not in ("is_copy",):
                continue
            got = getattr(target, name) if target is not None else "(no target)"
            ok = target is not None and clean(got) == clean(want.get(name))
            if name == "name" and target is not None and want.get(name) is None:
                ok = not got
            result.check(f"target_{name}", ok, f"{label}: expected {want.get(name)!r}, got {got!r}")
    for target in remaining:
        result.extra.append(
            f"{result.sheet}.{result.format} target {target.name or target.title!r}"
        )


def _match_target(want: dict, targets: list):
    for key in ("email", "fax", "name"):
        value = clean(want.get(key))
        if not value:
            continue
        for target in targets:
            if clean(getattr(target, key)) == value:
                return target
    name = clean(want.get("name")) or ""
    for target in targets:  # a name cut or run on still finds its target
        got = clean(target.name) or ""
        if name and got and (name in got or got in name):
            return target
    return None


def run(formats=FORMATS) -> list[Result]:
    return [score(folder, fmt) for folder in sheets() for fmt in formats]


def summary(results: list[Result]) -> dict[str, dict[str, tuple[int, int]]]:
    """{format: {field: (right, total)}}, with "all" for every format and field."""
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in results:
        for name, total in r.total.items():
            for fmt in (r.format, "all"):
                for fld in (name, "all"):
                    table[fmt][fld][0] += r.right[name]
                    table[fmt][fld][1] += total
    return {fmt: {f: tuple(v) for f, v in fields.items()} for fmt, fields in table.items()}
