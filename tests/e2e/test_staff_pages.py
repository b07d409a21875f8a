"""Every main staff page, in the browser, at desktop and phone width.

One sweep visits the list pages while the database is empty (their empty
states must say what to do next), loads the demo data, then visits every main
staff page. On each: axe-core with no serious or critical violation, at phone
width no sideways scrolling and no button smaller than a finger (44 px), and
with --screenshots, screenshots at 1280 and 390 px (test-artifacts/screenshots/).
"""

from __future__ import annotations

import mailbox
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.e2e.conftest import WIDTHS, log_in

pytestmark = pytest.mark.e2e

# At phone width: what scrolls the page sideways, and which controls are too small to tap.
PHONE_PROBLEMS = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    const wide = [...document.querySelectorAll('main *, header *')]
      .filter(e => e.getBoundingClientRect().right > root.clientWidth + 1
                   && !e.closest('nav, table'))
      .slice(-3).map(e => e.tagName.toLowerCase() + '.' + e.className);
    problems.push(`page scrolls sideways: ${root.scrollWidth}px (${wide.join(', ')})`);
  }
  for (const e of document.querySelectorAll(
      'button, .button, summary, input[type=submit], .topbar a, select')) {
    const box = e.getBoundingClientRect();
    if (box.width === 0 || e.closest('[hidden], details:not([open]) > :not(summary)')) continue;
    if (box.height < 44) problems.push(`too small to tap (${Math.round(box.height)}px): `
                                       + (e.textContent || e.name || '').trim().slice(0, 40));
  }
  return problems;
}"""


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "MAILBOX_PATH": str(tmp_path / "caught")}


class Sweep:
    def __init__(self, visit):
        self.visit = visit
        self.problems: dict[str, list] = {}

    def check(self, label: str, path: str | None = None) -> None:
        tab, page = self.visit, self.visit.page
        if path is not None:
            response = tab.go(path)
            assert response.status == 200, f"{path}: {response.status}"
        # axe runs once, at phone width: its rules read the DOM, which is the same at both
        # widths, and the few that depend on layout (scrolling regions) matter there.
        page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["phone"], strict=True)))
        found = page.evaluate(PHONE_PROBLEMS)
        found += [f"axe {v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for v in tab.axe()]
        tab.shoot(label)  # back at desktop width afterwards
        if found:
            self.problems[f"{label} {page.url}"] = found


def _demo(db, app, admin):
    """The demo data, plus what it lacks: an unissued UA, mailings, a message in the mailbox."""
    from campaign.cases import services as cases
    from campaign.demo import load
    from campaign.letters import services as letters
    from campaign.mailings import services as mailings

    load(supporters=40)
    draft = cases.create_case(admin, {"title": "Journalist detained in Baku", "summary": "Held."})
    letter = {"language": "en", "subject": "Release him", "body": "{{ salutation }},\n\nFree him.",
              "is_default": True}  # fmt: skip
    letters.save_letter(admin, draft, None, letter)
    ready = mailings.create_mailing(
        admin, kind="free", subject="Write to the minister today",
        body="Please write.", everyone=True,
    )  # fmt: skip
    mailings.approve(admin, ready)
    sent = mailings.create_mailing(
        admin, kind="free", subject="Thank you for your letters", body="Thanks.", everyone=True
    )
    mailings.approve(admin, sent)
    mailings.send(admin, sent, expected=None)
    box = mailbox.Maildir(app.config["MAILBOX_PATH"], create=True)
    box.add(
        b"From: Urgent Action Network <ua@example.org>\r\nTo: anna@example.net\r\n"
        b"Subject: Please write today\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Dear Anna,\r\n\r\nPlease write to the Prosecutor General.\r\n"
    )
    db.session.commit()
    return draft, ready, sent


def test_every_staff_page_at_desktop_and_phone_width(visit, make_user, db, app):
    from campaign.auth.models import User
    from campaign.cases.models import Case, Person, Target
    from campaign.letters.models import LetterTemplate
    from campaign.supporters.models import Segment, Supporter

    admin = make_user("admin", "admin@example.org")
    make_user("coordinator", "coordinator@example.org")
    sweep = Sweep(visit)
    page = visit.page
    page.set_default_timeout(10_000)
    log_in(visit, "admin@example.org", PASSWORD)

    # Empty: every list says what to do next.
    for label, path in (
        ("empty-dashboard", "/"), ("empty-cases", "/cases/"), ("empty-people", "/people/"),
        ("empty-supporters", "/supporters/"), ("empty-lists", "/supporters/lists"),
        ("empty-segments", "/supporters/segments"), ("empty-mailings", "/mailings/"),
        ("empty-mailing-form", "/mailings/new"), ("empty-reports", "/reports/"),
        ("empty-mailbox", "/mailbox/"),
    ):  # fmt: skip
        sweep.check(label, path)
        assert page.locator("main .empty, main .empty-state, main .hint a").count() > 0, label
    page.goto(visit.base_url + "/mailings/new")
    assert page.locator("main a:has-text('Create a list')").count() == 1
    assert page.locator("main a:has-text('Create a segment')").count() == 1

    draft, ready, sent = _demo(db, app, admin)
    ua = db.session.scalar(select(Case).where(Case.number == 205))
    kuku = db.session.scalar(select(Case).where(Case.title.contains("upheld")))
    person = ua.people[0]
    target_id = db.session.scalar(select(Target.id).where(Target.case_id == kuku.id))
    letter_id = db.session.scalar(
        select(LetterTemplate.id).where(LetterTemplate.case_id == kuku.id)
    )
    draft_letter = db.session.scalar(
        select(LetterTemplate.id).where(LetterTemplate.case_id == draft.id)
    )
    supporter_id = db.session.scalar(
        select(Supporter.id).where(Supporter.state == "subscribed").order_by(Supporter.id)
    )
    segment_id = db.session.scalar(select(Segment.id))
    coordinator_id = db.session.scalar(select(User.id).where(User.role == "coordinator"))
    person_id = db.session.scalar(select(Person.id).where(Person.name == person.name))
    ids = {"ua": ua.id, "kuku": kuku.id, "draft": draft.id, "ready": ready.id, "sent": sent.id}
    # SQLite: the browser's requests need the write lock, so end this transaction and
    # touch no ORM object afterwards (a lazy load would begin another).
    db.session.commit()
    ua, kuku, draft, ready, sent = (SimpleNamespace(id=ids[k]) for k in ids)

    pages = [
        ("dashboard", "/"),
        ("cases", "/cases/"),
        ("case-new", "/cases/new"),
        ("case-205", f"/cases/{ua.id}"),
        ("case-kuku", f"/cases/{kuku.id}"),
        ("case-draft", f"/cases/{draft.id}"),
        ("case-edit", f"/cases/{kuku.id}/edit"),
        ("update-new", f"/cases/{kuku.id}/updates/new"),
        ("target-edit", f"/cases/{kuku.id}/targets/{target_id}/edit"),
        ("case-close", f"/cases/{kuku.id}/close"),
        ("reply-new", f"/cases/{kuku.id}/replies"),
        ("letters", f"/cases/{kuku.id}/letters/"),
        ("letter", f"/cases/{kuku.id}/letters/{letter_id}"),
        ("letter-edit", f"/cases/{kuku.id}/letters/{letter_id}/edit"),
        ("letters-draft-ua", f"/cases/{draft.id}/letters/"),
        ("letter-draft-ua", f"/cases/{draft.id}/letters/{draft_letter}"),
        ("print-pack", f"/cases/{kuku.id}/print"),
        ("casesheet-import", "/casesheets/import"),
        ("people", "/people/"),
        ("person", f"/people/{person_id}"),
        ("person-new", "/people/new"),
        ("supporters", "/supporters/"),
        ("supporter", f"/supporters/{supporter_id}"),
        ("supporter-new", "/supporters/new"),
        ("supporter-edit", f"/supporters/{supporter_id}/edit"),
        ("imports", "/supporters/imports"),
        ("lists", "/supporters/lists"),
        ("segments", "/supporters/segments"),
        ("segment", f"/supporters/segments/{segment_id}"),
        ("reports", "/reports/"),
        ("mailings", "/mailings/"),
        ("mailing-new", "/mailings/new"),
        ("mailing-ready", f"/mailings/{ready.id}"),
        ("mailing-sending", f"/mailings/{sent.id}"),
        ("mailing-edit", f"/mailings/{ready.id}/edit"),
        ("mailbox", "/mailbox/"),
        ("audit", "/admin/audit"),
        ("system", "/admin/system"),
        ("users", "/admin/users"),
        ("user-edit", f"/admin/users/{coordinator_id}"),
        ("account", "/account"),
        ("account-2fa", "/account/2fa"),
    ]
    for label, path in pages:
        sweep.check(label, path)
    page.goto(visit.base_url + "/mailbox/")
    with page.expect_navigation():  # measured once loaded, stylesheet included
        page.click("main table a")
    sweep.check("mailbox-message")

    # The small bugs: an unissued UA is named as such, never "Draft".
    page.goto(visit.base_url + f"/cases/{draft.id}/letters/")
    heading = page.locator("h1").inner_text()
    assert heading == "Letters of “Journalist detained in Baku” (not yet issued)"
    assert sweep.problems == {}, "\n".join(f"{k}: {v}" for k, v in sweep.problems.items())


def test_keyboard_reaches_and_shows_every_control(visit, make_user, db):
    """Tab through the dashboard and a mailing page: each stop is visibly focused."""
    make_user("admin", "admin@example.org")
    log_in(visit, "admin@example.org", PASSWORD)
    page = visit.page
    for path in ("/", "/supporters/lists"):
        visit.go(path)
        seen = []
        for _ in range(25):
            page.keyboard.press("Tab")
            stop = page.evaluate(
                """() => { const e = document.activeElement; const s = getComputedStyle(e);
                   return [e.tagName + ' ' + (e.textContent || e.name || '').trim().slice(0, 30),
                           s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2]; }"""
            )
            if stop[0].startswith("BODY"):
                break
            seen.append(stop)
        assert seen, path
        assert [name for name, visible in seen if not visible] == [], path


def test_a_mass_send_needs_the_count_typed_in_the_browser(visit, make_user, db, app):
    """From the threshold on, the count must be typed; a wrong one sends nothing."""
    from campaign.mailings import services
    from campaign.mailings.models import Delivery, Mailing
    from campaign.supporters.models import Supporter

    app.config["MAILING_TYPED_CONFIRM_THRESHOLD"] = 3
    coordinator = make_user("coordinator", "coordinator@example.org")
    db.session.add_all(
        Supporter(email=f"s{n}@example.net", language="en", state="subscribed") for n in range(3)
    )
    mailing = services.create_mailing(
        coordinator, kind="free", subject="Write today", body="Please.", everyone=True
    )
    services.approve(coordinator, mailing)
    mailing_id = mailing.id
    db.session.commit()  # and touch no ORM object: on SQLite a lazy load would hold the lock
    log_in(visit, "coordinator@example.org", PASSWORD)
    page = visit.page
    page.set_default_timeout(10_000)
    visit.go(f"/mailings/{mailing_id}")
    assert page.locator("main form #confirm").count() == 0
    page.fill("text=Type 3 to send", "30")
    page.click("main button:has-text('Send to 3 people')")
    page.wait_for_selector("#typed-error")
    assert "type 3 to confirm" in page.locator("#typed-error").inner_text()
    visit.shoot("typed-count-refused")
    assert visit.axe() == []
    db.session.expire_all()
    assert db.session.get(Mailing, mailing_id).state == "draft"
    assert db.session.scalar(select(Delivery.id)) is None
    db.session.commit()
    # Keyboard only: the field, then the button.
    page.focus("#typed")
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(".badge >> text=sending")
    # Cancelling opens a question first; the tick is required (the browser and the server).
    page.focus("summary:has-text('Cancel mailing')")
    page.keyboard.press("Enter")
    visit.shoot("cancel-question")
    page.click("form.confirm-box button:has-text('Cancel mailing')")
    box = page.locator("form.confirm-box input[name=confirm]")
    assert box.evaluate("e => e.validity.valueMissing")  # the browser held the form back
    assert page.locator(".alert-error").count() == 0
    assert page.locator(".badge >> text=sending").count() == 1
    page.check("form.confirm-box input[name=confirm]")
    page.click("form.confirm-box button:has-text('Cancel mailing')")
    page.wait_for_selector(".badge >> text=cancelled")
