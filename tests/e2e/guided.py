"""Browser steps of the guided lifecycle, shared by the e2e journeys."""

from __future__ import annotations


def issue_in_browser(page, reason: str = "Issued in a browser test") -> None:
    """From a draft's page: the readiness list, then issue (with a reason if items are missing)."""
    page.click("text=Check and issue")
    page.wait_for_selector("text=Before issuing")
    if page.locator("#reason").count():
        page.fill("#reason", reason)
    page.check("#confirm")
    page.click("main button:has-text('Issue as')")
    page.wait_for_selector("text=Issued as UA")
