"""A campaigner drafts a UA with a person and a target; a coordinator issues it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, log_out, submitted
from tests.e2e.guided import issue_in_browser

pytestmark = pytest.mark.e2e


def test_draft_and_issue_a_ua_in_the_browser(visit, make_user):
    make_user("campaigner", "campaigner@example.org")
    make_user("coordinator", "coordinator@example.org")
    page = visit.page

    visit.go("/login")
    visit.shoot("login")
    assert visit.axe() == []
    log_in(visit, "campaigner@example.org", PASSWORD)
    visit.shoot("dashboard")
    assert visit.axe() == []

    page.click("text=New UA")
    page.fill("#title", "Crimean Tatar leader at risk of torture")
    page.select_option("#country_code", "UA")
    page.fill("#languages", "ru, en")
    page.fill("#summary", "Ilmi Umerov has been forcibly placed in a psychiatric hospital.")
    page.fill("#recommended_actions", "Release him immediately.\nEnd the persecution.")
    page.fill("#index_reference", "nonsense")
    submitted(page)
    assert page.locator("#index_reference-error").is_visible()
    visit.shoot("field-error")
    page.fill("#index_reference", "EUR 50/4808/2016")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/\d+$"))
    assert "Draft saved" in page.content()

    page.fill("#name", "Ilmi Umerov")
    submitted(page, "#people button[type=submit]")
    page.click("text=Add a target")
    page.fill("#title", "Prosecutor General")
    page.fill("#salutation", "Dear Prosecutor General")
    page.fill("#address", "ul. B. Dmitrovka, d.15a\n125993 Moscow GSP-3\nRussian Federation")
    submitted(page)
    visit.shoot("draft")
    assert visit.axe() == []
    assert page.locator("text=Check and issue").count() == 0  # campaigners cannot issue
    log_out(visit)

    log_in(visit, "coordinator@example.org", PASSWORD)
    page.click("nav >> text=UAs")
    page.click("text=Crimean Tatar leader at risk of torture")
    issue_in_browser(page)
    page.wait_for_selector("text=Issued as UA 1/")
    visit.shoot("issued")
    heading = page.locator(".eyebrow").inner_text()
    assert re.match(r"UA 1/\d\d · EUR 50/4808/2016 · Ukraine", heading)
    assert visit.axe() == []

    page.keyboard.press("Tab")  # the skip link comes first for keyboard users
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
