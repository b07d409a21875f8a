"""XSS: every field staff or supporters type is escaped wherever a page or email shows it."""

from __future__ import annotations

import email
from datetime import date
from email import policy

import pytest

from tests.security.conftest import RAW_SIGNS, escaped, hostile

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db

CASE = ("case_title", "case_summary", "case_background", "case_actions")
TARGET = tuple(f"target_{f}" for f in ("name", "title", "organisation", "address", "salutation"))
SUPPORTER = ("supporter_first", "supporter_last", "supporter_city")

# page (with {ids}) → the hostile fields it must show, escaped.
PAGES = {
    "/cases/": ("case_title", "person_name"),
    "/cases/{case}": CASE
    + TARGET
    + ("person_name", "person_alias", "update_body", "reply_sender", "reply_text"),
    "/cases/{case}/edit": CASE,
    "/cases/{case}/letters/": ("case_title", "letter_subject"),
    "/cases/{case}/letters/{letter}": ("letter_subject", "letter_body", "target_name"),
    "/cases/{case}/letters/{letter}/edit": ("letter_subject", "letter_body"),
    "/cases/{case}/targets/{target}/edit": TARGET,
    "/cases/{case}/close": ("case_title", "person_name"),
    "/people/": ("person_name", "person_alias"),
    "/people/{person}": ("person_name", "person_alias", "case_title"),
    "/people/{person}/edit": ("person_name", "person_alias"),
    "/supporters/": ("supporter_first", "supporter_last", "list_name"),
    "/supporters/{supporter}": (*SUPPORTER, "list_name"),
    "/supporters/{supporter}/edit": SUPPORTER,
    "/supporters/lists": ("list_name", "list_desc"),
    "/supporters/segments": ("segment_name",),
    "/supporters/segments/{segment}": ("segment_name", "segment_desc"),
    "/mailings/": ("mailing_subject",),
    "/mailings/{mailing}": ("mailing_subject",),
    "/mailings/{mailing}/edit": ("mailing_subject", "mailing_body", "list_name", "segment_name"),
    "/mailings/{mailing}/preview/en.html": ("mailing_subject", "mailing_body"),
    "/admin/audit": ("case_title", "person_name", "target_name", "reply_sender", "list_name"),
    "/": ("case_title",),
    # The public case page, seen by anyone.
    "/ua/{case}": (
        "case_title",
        "case_summary",
        "case_actions",
        "person_name",
        "letter_body",
        *TARGET,
    ),
}


def assert_escaped(body: str, markers) -> None:
    for sign in RAW_SIGNS:
        assert sign not in body, f"unescaped payload ({sign!r}) in the page"
    for marker in markers:
        assert escaped(marker) in body, f"{marker} is not shown (escaped) on the page"


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_show_hostile_fields_escaped(login, hostile_world, page):
    client = login("admin")
    response = client.get(page.format(**hostile_world))
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True), PAGES[page])


def test_public_page_is_escaped_for_anonymous_visitors(client, hostile_world):
    response = client.get(f"/ua/{hostile_world['case']}")
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True), PAGES["/ua/{case}"])


def test_supporter_names_are_escaped_in_their_letter_page(client, db, hostile_world):
    from campaign.cases.models import Case
    from campaign.letters import services as letters
    from campaign.supporters.models import Supporter

    case = db.session.get(Case, hostile_world["case"])
    supporter = db.session.get(Supporter, hostile_world["supporter"])
    url = letters.action_url(case, supporter)
    response = client.get(url[url.index("/act/") :])
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True), ("letter_body", *SUPPORTER))


def test_closing_text_is_escaped(login, db, hostile_world):
    from campaign.cases.models import Case
    from campaign.outcomes import services as outcomes

    case = db.session.get(Case, hostile_world["case"])
    outcomes.close_case(
        None, case, decision="no_further_action", text=hostile("closing_text"),
        outcomes=[{"person_id": hostile_world["person"], "outcome": "released",
                   "on": date.today(), "note": hostile("outcome_note")}],
    )  # fmt: skip
    db.session.commit()
    client = login("admin")
    body = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert_escaped(body, ("closing_text",))


def test_email_to_hostile_supporter_is_escaped(app, db, hostile_world):
    from campaign.mailings import services as mailings
    from campaign.mailings.compose import Recipient
    from campaign.mailings.models import Mailing

    mailing = db.session.get(Mailing, hostile_world["mailing"])
    composer = mailings.composer_for(mailing, "en")
    recipient = Recipient(
        delivery_id=1, supporter_id=hostile_world["supporter"], email="ann@example.org",
        first_name=hostile("supporter_first"), last_name=hostile("supporter_last"),
        city=hostile("supporter_city"),
    )  # fmt: skip
    _sender, _to, raw = composer.build(recipient)
    message = email.message_from_bytes(raw, policy=policy.default)
    page = message.get_body(("html",)).get_content()
    assert_escaped(page, ("mailing_body",))
    # The greeting uses the first name: shown, but as text.
    assert escaped("supporter_first") in page
    text = message.get_body(("plain",)).get_content()
    assert hostile("mailing_body") in text  # plain text is not HTML: kept as written
