"""The guided path from draft to close, in a browser, axe-core clean at each step
(and a screenshot at 1280 and 390 px, with --screenshots); and the public front
door a visitor finds at "/"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, log_out

pytestmark = pytest.mark.e2e


def checked(visit, label: str) -> None:
    visit.shoot(label)
    assert visit.axe() == [], label


def test_staff_are_guided_from_draft_to_close(visit, make_user, db):
    from campaign.cases import services as cases
    from campaign.letters import services as letters

    make_user("campaigner", "campaigner@example.org")
    make_user("coordinator", "coordinator@example.org")
    case = cases.create_case(None, {
        "title": "Crimean Tatar leaders jailed", "summary": "Two leaders are detained.",
        "recommended_actions": "Release them.", "languages": ["en"],
        "deadline": cases.org_today() + timedelta(days=30)})  # fmt: skip
    for name in ("Ilmi Umerov", "Akhtem Chiygoz"):
        cases.link_person(None, case, cases.save_person(None, None, {"name": name}))
    cases.save_target(None, case, None, {"title": "Prosecutor General",
                                         "salutation": "Dear Prosecutor General"})  # fmt: skip
    letters.save_letter(None, case, None, {"language": "en", "subject": "Release them",
                                           "body": "{{ salutation }}, release them."})  # fmt: skip
    case_url = f"/cases/{case.id}"
    issue_url = f"{case_url}/issue"
    db.session.commit()  # touch no ORM object from here: the browser needs the write lock
    page = visit.page
    page.set_default_timeout(15_000)

    # A campaigner sees what is missing and fixes it from the list.
    log_in(visit, "campaigner@example.org", PASSWORD)
    visit.go(case_url)
    assert "Complete the draft: 2 items missing" in page.inner_text("#next-step")
    checked(visit, "draft")
    page.click("#next-step a")
    page.wait_for_selector("text=Before issuing")
    assert "A coordinator issues the UA" in page.content()
    checked(visit, "readiness-incomplete")
    page.click("text=Choose the country")
    page.select_option("#country_code", "UA")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Saved.")
    visit.go(issue_url)
    assert "1 item missing" in page.content()
    log_out(visit)

    # A coordinator issues it with the reason for the missing index reference.
    log_in(visit, "coordinator@example.org", PASSWORD)
    visit.go(issue_url)
    page.check("#confirm")
    page.click("main button:has-text('Issue as')")
    page.wait_for_selector("#reason-error")
    checked(visit, "issue-needs-reason")
    page.fill("#reason", "The index reference comes tomorrow; the trial is today.")
    page.check("#confirm")
    page.click("main button:has-text('Issue as')")
    page.wait_for_selector("text=Issued as UA")
    assert page.inner_text("#next-step").strip().endswith("Send the appeal")
    checked(visit, "issued")

    # Send the appeal: a drafted mailing, subject from the label and title.
    page.click("#next-step a")
    page.wait_for_selector("text=Model letters")
    checked(visit, "appeal")
    page.click("main button:has-text('Draft the appeal mailing')")
    page.wait_for_url(re.compile(r".*/mailings/\d+$"))
    assert re.search(r"UA \d+/\d\d: Crimean Tatar leaders jailed", page.content())
    checked(visit, "appeal-mailing")

    # An update: its readiness list, then the next step is its mailing.
    visit.go(case_url)
    assert "Approve and send the appeal" in page.inner_text("#next-step")
    page.click("text=Issue an update")
    page.wait_for_selector("text=Before issuing")
    page.fill("#body", "Akhtem Chiygoz was sentenced to eight years.")
    page.fill("#reason", "The appeal mailing is approved separately.")
    page.check("#confirm")
    checked(visit, "update-form")
    page.click("main button:has-text('Issue the first update')")
    page.wait_for_selector("#update-1")
    # The unsent appeal still comes first (tests/outcomes covers the update mailing step).
    assert "Approve and send the appeal" in page.inner_text("#next-step")
    checked(visit, "updated")

    # Close: the readiness list, an outcome per person, the scheduled notice.
    page.click("text=Record outcome")
    page.wait_for_selector("text=Before recording the outcome")
    page.select_option("#outcomes-0-outcome", "released")
    page.select_option("#outcomes-1-outcome", "released")
    page.check("input[name=decision][value=no_further_action]")
    page.fill("#text", "No further action is requested. Many thanks to all who sent appeals.")
    page.check("#confirm")
    checked(visit, "close")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/notices/\d+$"))
    checked(visit, "notice")

    # Closed: read-only except reopening and replies; the next step is the notice.
    visit.go(case_url)
    content = page.content()
    assert "Issue an update" not in content and "Add a target" not in content
    assert "Outcome notice scheduled for" in page.inner_text("#next-step")
    checked(visit, "closed")
    page.click("main a:has-text('Reopen')")
    page.wait_for_selector("text=Why is the UA reopened?")
    checked(visit, "reopen")
    visit.go("/")
    assert "Outcome notice scheduled for" in page.inner_text("#next-steps")
    checked(visit, "dashboard")


def test_a_visitor_finds_the_front_door(visit, db):
    from campaign.cases import services as cases

    case = cases.create_case(None, {
        "title": "Crimean Tatar leaders jailed", "summary": "S", "recommended_actions": "A",
        "deadline": cases.org_today() + timedelta(days=30)})  # fmt: skip
    cases.issue_case(None, case)
    db.session.commit()  # and touch no ORM object: the browser needs the write lock
    page = visit.page
    visit.go("/")
    assert page.locator("h1").inner_text().startswith("Write for people at risk")
    assert page.locator("a:has-text('Crimean Tatar leaders jailed')").count() == 1
    checked(visit, "front-door")
    visit.go("/?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    checked(visit, "front-door-ar")
    page.click("a:has-text('Crimean Tatar leaders jailed')")
    page.wait_for_url(re.compile(r".*/ua/\d+\?lang=ar$"))
    checked(visit, "case-page-ar")
