"""Property-based tests: the import parser, UA labels and letter rendering hold for any input."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign.cases.labels import case_label, ordinal, parse_label
from campaign.core.errors import ValidationError
from campaign.letters import rendering

# The app fixture is per test, not per example; every example cleans up after itself.
FIXTURE_OK = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

CSV_TEXT = st.lists(
    st.lists(st.text(max_size=30), min_size=1, max_size=6).map(",".join), max_size=8
).map("\n".join)
ENCODINGS = st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1251", "utf-8-sig"])


@st.composite
def csv_bytes(draw):
    kind = draw(st.sampled_from(["raw", "encoded", "with-header", "with-addresses"]))
    if kind == "raw":
        return draw(st.binary(max_size=400))
    text = draw(CSV_TEXT)
    if kind == "with-addresses":
        # Valid addresses, so that the other cells are read too: rows shorter
        # or longer than the header, with unmapped coded fields (language...).
        lines = text.split("\n") if text else []
        text = "\n".join(f"p{i}@example.org,{line}" for i, line in enumerate(lines))
    if kind in ("with-header", "with-addresses"):
        text = "Email,First name,City\n" + text
    return text.encode(draw(ENCODINGS), errors="replace")


@pytest.mark.commits  # the importer writes on a thread and connection of its own
@FIXTURE_OK
@given(content=csv_bytes())
def test_import_parser_never_crashes_and_accounts_for_every_row(app, db, tmp_path, content):
    from campaign.supporters import imports

    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    path.write_bytes(content)
    try:
        job = imports.from_path(None, path)
        imports.configure(
            None, job, mapping=job.mapping, consent_source="property test", list_id=None,
            policy="keep", dry_run=True,
        )  # fmt: skip
    except ValidationError as refusal:
        # A refusal names what is wrong, at a field the page can show.
        assert refusal.message and refusal.field
        db.session.rollback()
        return
    counts = imports.execute(job)
    db.session.rollback()
    if counts is None:
        assert job.state == "failed" and job.error
        return
    assert counts.rows == (
        counts.created + counts.updated + counts.unchanged + counts.duplicates + counts.rejected
    )


@given(number=st.integers(1, 9999), year=st.integers(1973, 2099))
def test_labels_round_trip(number, year):
    assert parse_label(f"UA {number}/{year}") == (number, year)
    assert parse_label(f" {number} / {year} ") == (number, year)
    # A two-digit year is read against a pivot (next year): with the pivot of a
    # time when the label was written, it comes back whole.
    pivot = year % 100 if year >= 2000 else year % 100 - 1
    assert parse_label(case_label(number, year), pivot=pivot) == (number, year)
    assert parse_label(case_label(number, year).lower().replace(" ", ""), pivot=pivot) == (
        number,
        year,
    )


@given(text=st.text(max_size=60))
def test_parse_label_never_raises(text):
    parsed = parse_label(text)
    assert parsed is None or (parsed[0] >= 1 and 1900 <= parsed[1] <= 9999)


@given(n=st.integers(1, 100_000))
def test_ordinals_are_distinct_and_well_formed(n):
    word = ordinal(n)
    assert word != ordinal(n + 1)
    if n > 10:
        assert word[:-2] == str(n) and word[-2:] in {"st", "nd", "rd", "th"}
        assert (word[-2:] == "th") == (n % 100 in (11, 12, 13) or n % 10 not in (1, 2, 3))


def test_ordinal_refuses_zero_and_negatives():
    for n in (0, -1):
        with pytest.raises(ValueError):
            ordinal(n)


SAMPLE = {name: f"<b>{name}</b>" for name in rendering.PLACEHOLDERS}
PIECES = st.sampled_from(
    [
        "{{ first_name }}",
        "{{ city | upper }}",
        "{% if country %}x{% endif %}",
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ config }}",
        "{{ self }}",
        "{{ lipsum() }}",
        "{% for x in range(10) %}{% endfor %}",
        "{{ 1/0 }}",
        "{{ first_name|attr('__class__') }}",
        "{% set x = 1 %}",
        "{{",
        "}}",
        "{%",
        "<script>alert(1)</script>",
        "\n\n",
    ]
)
TEMPLATES = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=6).map("".join)


@settings(max_examples=150, deadline=None)
@given(source=TEMPLATES)
def test_letter_rendering_refuses_or_renders_safely(source):
    try:
        rendering.check(source, "body", SAMPLE)
    except ValidationError as refusal:
        assert refusal.field == "body" and refusal.message
        return
    text = rendering.render_text(source, SAMPLE)
    page = str(rendering.render_html(source, SAMPLE))
    # Nothing reached Python: no class, module, config or function leaks into the output.
    for leak in ("<class", "<module", "<function", "<bound", "<Template", "Config", "__"):
        if leak not in source:
            assert leak not in text and leak not in page
    assert "<script>" not in page and "<b>" not in page
