"""The case-sheet review page in Chromium: a wrapped PDF's proposal beside its joined paragraphs.

With --screenshots, screenshots go to test-artifacts/screenshots/ (desktop and phone width).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

# The live server is a thread that must see what the test committed.
pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CORPUS = Path(__file__).parent.parent / "casesheets" / "corpus"
SHEET = CORPUS / "ua_34_21_two_columns" / "sheet.pdf"


def test_review_of_a_two_column_pdf_links_each_field_to_its_paragraph(visit, make_user):
    make_user("campaigner", "campaigner@example.org")
    log_in(visit, "campaigner@example.org", PASSWORD)
    visit.go("/casesheets/import")
    visit.page.set_input_files("input[type=file]", str(SHEET))
    visit.page.click("main button[type=submit]")
    visit.page.wait_for_url("**/review")
    page = visit.page
    assert page.locator("h1").inner_text() == "An original case sheet: UA 34/21"
    # The headline wrapped in the PDF column is one line in the source pane.
    title = "DEATH ROW PRISONERS DENIED MEDICAL CARE AFTER TORTURE"
    assert page.locator("#src-title").inner_text() == title
    assert page.input_value("#title") == title
    assert page.input_value("#issued_on") == "2021-03-08"
    assert page.input_value("#people-0-on") == "2014-02-18"
    # Following a field's link brings its passage into view in the source pane.
    page.click("a[href='#src-issue_date']")
    assert page.locator("#src-issue_date").is_visible()
    page.click("a[href='#src-target-1']")
    assert (
        page.locator("#src-target-1")
        .inner_text()
        .startswith("Ambassador Sheikh Fawaz bin Mohammed Al Khalifa\n")
    )
    # What staff see after following a link: the passage beside the form.
    visit.shoot_as_is("00-review-source-at-target-1")
    visit.shoot("review-two-column-pdf")
