"""The three journeys of a UA in the browser: the appeal, the third update, the outcome.

Mail really travels: the app's own SMTP catcher runs in-process on a free
port and keeps what it receives in a Maildir; the mailing batch task runs in
this process in place of a worker.
"""

from __future__ import annotations

import email
import mailbox
import re
import time
from datetime import timedelta
from email import policy
from zoneinfo import ZoneInfo

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, log_out, submitted
from tests.e2e.guided import issue_in_browser
from tests.services import free_port

pytestmark = pytest.mark.e2e

TITLE = "Crimean Tatar leader at risk of torture"


@pytest.fixture
def app_config(app_config, tmp_path, redis_server):
    port = free_port()
    redis_server.empty()
    app_config["CELERY"] = {**app_config.get("CELERY", {}), "broker_url": redis_server.url}
    return {
        **app_config,
        "REDIS_URL": redis_server.url,
        "SMTP_URL": f"smtp://127.0.0.1:{port}",
        "CATCHER_PORT": port,
        "MAILBOX_PATH": str(tmp_path / "caught"),
        "MAILING_RETRY_SECONDS": 0.0,
        "MAIL_FROM": "Urgent Action Network <ua@example.org>",
    }


@pytest.fixture
def catcher(app):
    from campaign.mailbox import catcher as smtp_catcher

    controller = smtp_catcher.start(
        "127.0.0.1", app.config["CATCHER_PORT"], app.config["MAILBOX_PATH"]
    )
    yield Caught(app.config["MAILBOX_PATH"])
    from campaign.mailings import smtp

    smtp.POOL.close()  # the batches keep SMTP connections for the next one
    controller.stop()
    # Wake-ups went to Redis through Celery's pooled connections: close them
    # before the test's redis-server goes away.
    app.extensions["celery"].pool.force_close_all()


class Caught:
    """The catcher's Maildir, read as a mail client would."""

    def __init__(self, path: str):
        self.path = path

    def messages(self) -> list[email.message.EmailMessage]:
        box = mailbox.Maildir(self.path, factory=None, create=False)
        return [
            email.message_from_bytes(message.as_bytes(), policy=policy.default) for message in box
        ]

    def recipients(self, subject_part: str) -> list[str]:
        return sorted(m["To"].addresses[0].addr_spec for m in self.to_subject(subject_part))

    def to_subject(self, subject_part: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages() if subject_part in str(m["Subject"])]

    def html_for(self, address: str, subject_part: str) -> str:
        (message,) = [
            m for m in self.to_subject(subject_part) if m["To"].addresses[0].addr_spec == address
        ]
        return message.get_body(("html",)).get_content()

    def text_for(self, address: str, subject_part: str) -> str:
        (message,) = [
            m for m in self.to_subject(subject_part) if m["To"].addresses[0].addr_spec == address
        ]
        return message.get_body(("plain",)).get_content()


@pytest.fixture
def supporters(db):
    from campaign.supporters.models import Supporter

    rows = [
        Supporter(email="anna@example.net", first_name="Anna", last_name="Smith", language="en",
                  state="subscribed"),
        Supporter(email="boris@example.net", first_name="Борис", last_name="Иванов",
                  language="ru", state="subscribed"),
    ]  # fmt: skip
    db.session.add_all(rows)
    db.session.commit()
    return {row.language: row.email for row in rows}


def deliver(db) -> int:
    """Run every mailing's batch task here until nothing is left; how many were claimed."""
    from campaign.mailings.models import Mailing
    from campaign.mailings.tasks import send_batch

    mailing_ids = db.session.scalars(select(Mailing.id).where(Mailing.state == "sending")).all()
    db.session.commit()  # SQLite: a reader left open would block the batch's write
    claimed = 0
    for mailing_id in mailing_ids:
        for _ in range(20):
            done = send_batch(mailing_id)
            db.session.commit()
            claimed += done
            if not done:
                break
    return claimed


def checked(visit, label: str) -> None:
    visit.shoot(label)
    assert visit.axe() == [], label


def issued_case(db, make_user, people=("Ilmi Umerov",)):
    """A UA issued with services, with letters in English and Russian, for journeys 2 and 3."""
    from campaign.cases import services as cases
    from campaign.letters import services as letters

    campaigner = make_user("campaigner", "campaigner@example.org")
    coordinator = make_user("coordinator", "coordinator@example.org")
    data = {
        "title": TITLE,
        "country_code": "UA",
        "languages": ["en", "ru"],
        "summary": "Held.",
        "recommended_actions": "Release him.",
    }
    case = cases.create_case(campaigner, data)
    for name in people:
        cases.link_person(campaigner, case, cases.save_person(campaigner, None, {"name": name}))
    target = {"title": "Prosecutor General", "salutation": "Dear Prosecutor General"}
    cases.save_target(campaigner, case, None, target)
    for language, subject in (("en", "Release him"), ("ru", "Освободите его")):
        letters.save_letter(campaigner, case, None, {
            "language": language, "subject": subject, "body": "{{ salutation }},\n\nRelease.",
            "update_id": None, "is_default": language == "en"})  # fmt: skip
    cases.issue_case(coordinator, case)
    db.session.commit()
    return case, coordinator


def let_the_browser_in(db) -> None:
    """End this thread's transaction: on SQLite it holds the write lock the app needs."""
    db.session.commit()


def send_in_browser(visit, subject: str, count: int) -> None:
    """Approve and send the mailing with this subject, confirming the count."""
    page = visit.page
    page.set_default_timeout(10_000)
    page.click("nav >> text=Mailings")
    page.click(f"main >> text={subject}")
    page.click("main button:has-text('Approve')")
    page.wait_for_selector("text=Send to")
    assert page.locator(f"text=This sends to {count} people.").count() == 1
    page.check("#confirm")
    page.click(f"main button:has-text('Send to {count} people')")
    page.wait_for_selector(".badge >> text=sending")


def test_appeal_in_two_languages_reaches_supporters_who_report_their_action(
    visit, make_user, db, catcher, supporters
):
    make_user("campaigner", "campaigner@example.org")
    make_user("coordinator", "coordinator@example.org")
    db.session.commit()
    page = visit.page
    page.set_default_timeout(10_000)

    log_in(visit, "campaigner@example.org", PASSWORD)
    page.click("text=New UA")
    page.fill("#title", TITLE)
    page.select_option("#country_code", "UA")
    page.fill("#languages", "en, ru")
    page.fill("#summary", "Ilmi Umerov has been forcibly placed in a psychiatric hospital.")
    page.fill("#recommended_actions", "Release him immediately.")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/\d+$"))
    case_url = page.url.removeprefix(visit.base_url)
    case_id = int(case_url.rsplit("/", 1)[1])
    page.fill("#name", "Ilmi Umerov")
    submitted(page, "#people button[type=submit]")
    page.click("text=Add a target")
    page.fill("#title", "Prosecutor General")
    page.fill("#salutation", "Dear Prosecutor General")
    page.fill("#address", "ul. B. Dmitrovka, d.15a\n125993 Moscow GSP-3\nRussian Federation")
    submitted(page)

    for language, subject in (("en", "Release Ilmi Umerov"), ("ru", "Освободите Ильми Умерова")):
        page.click("#letters-actions a:has-text('Letters (')")
        page.click("text=Write a letter")
        page.fill("#language", language)
        page.fill("#subject", subject)
        if language == "en":
            page.check("#is_default")
        page.click("main button[value=preview]")
        page.wait_for_selector("#preview")
        checked(visit, f"letter-preview-{language}")
        page.click("main button[value=save]")
        page.wait_for_selector("text=Saved the")
        visit.go(case_url)
    page.click("#letters-actions a:has-text('Letters (')")
    checked(visit, "letters")
    assert page.locator("main table tbody tr").count() == 2
    log_out(visit)

    log_in(visit, "coordinator@example.org", PASSWORD)
    visit.go(case_url)
    issue_in_browser(page)
    page.wait_for_selector("text=Issued as UA 1/")
    page.click("nav >> text=Mailings")
    page.click("text=New mailing")
    page.select_option("#kind", "appeal")
    page.select_option("#case_id", str(case_id))
    page.fill("#subject", "Act now for Ilmi Umerov")
    page.check("#everyone")
    checked(visit, "mailing-compose")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/mailings/\d+$"))
    checked(visit, "mailing-draft")
    send_in_browser(visit, "Act now for Ilmi Umerov", 2)
    checked(visit, "mailing-sending")

    assert deliver(db) == 2
    assert catcher.recipients("Act now") == sorted(supporters.values())
    russian = catcher.text_for(supporters["ru"], "Act now")
    assert "Я отправил(а) обращение" in russian  # Boris reads it in his language

    visit.go(case_url)
    before = page.locator("#letters-actions .figure strong").inner_text()

    # Anna opens the email as her mail client shows it and taps the link.
    page.set_content(catcher.html_for(supporters["en"], "Act now"))
    visit.shoot("email-en")
    page.click("text=I sent my appeal")
    page.wait_for_url(re.compile(r".*/act/.+"))
    checked(visit, "act")
    submitted(page)
    checked(visit, "act-done")

    visit.go(case_url)  # the coordinator, still logged in in this browser
    checked(visit, "case-after-appeal")
    after = page.locator("#letters-actions .figure strong").inner_text()
    assert (int(before), int(after)) == (0, 1)


def test_third_update_reaches_exactly_the_earlier_recipients(
    visit, make_user, db, catcher, supporters
):
    from campaign.mailings import services as mailings
    from campaign.mailings.models import Mailing
    from campaign.supporters.models import Supporter

    case, coordinator = issued_case(db, make_user)
    appeal = mailings.create_mailing(coordinator, kind="appeal", subject="Act now",
                                     case_id=case.id, everyone=True)  # fmt: skip
    mailings.approve(coordinator, appeal)
    mailings.send(coordinator, appeal, expected=2)
    db.session.commit()
    assert deliver(db) == 2
    # A supporter who joins later never got this UA, so its updates are not for them.
    db.session.add(Supporter(email="late@example.net", language="en", state="subscribed"))
    db.session.commit()
    page = visit.page
    page.set_default_timeout(10_000)
    case_url = f"/cases/{case.id}"
    let_the_browser_in(db)

    log_in(visit, "coordinator@example.org", PASSWORD)  # coordinators issue updates
    for number in (1, 2, 3):
        visit.go(case_url)
        page.click("text=Issue an update")
        page.fill("#title", f"Update number {number}")
        page.fill("#body", f"News number {number}.")
        if page.locator("#reason").count():
            page.fill("#reason", "Issued in a browser test")
        page.check("#confirm")
        if number == 3:
            checked(visit, "update-form")
        page.click("main button[type=submit]")
        page.wait_for_selector(f"#update-{number}")
    checked(visit, "case-with-updates")
    log_out(visit)

    log_in(visit, "coordinator@example.org", PASSWORD)
    submitted(page, "nav >> text=Mailings")
    checked(visit, "mailings")
    drafts = db.session.scalars(
        select(Mailing.subject).where(Mailing.kind == "update").order_by(Mailing.id)
    ).all()
    let_the_browser_in(db)
    assert len(drafts) == 3  # each update drafted its mailing
    send_in_browser(visit, drafts[2], 2)
    checked(visit, "update-sending")
    assert deliver(db) == 2
    # The subject the system wrote is in each reader's language; the UA label is in all.
    label = drafts[2].split(":")[0]
    assert catcher.recipients(label) == sorted(supporters.values())
    assert catcher.recipients("Act now") == catcher.recipients(label)
    assert catcher.recipients(drafts[0]) == []  # the first two stay drafts


def test_outcome_notice_thanks_the_supporter_who_acted(
    visit, make_user, db, catcher, supporters, app
):
    from campaign.core.types import utcnow
    from campaign.letters import services as letters
    from campaign.mailings import services as mailings
    from campaign.outcomes import lifecycle
    from campaign.supporters.models import Supporter

    case, coordinator = issued_case(db, make_user, people=("Ilmi Umerov", "Nariman Dzhelyal"))
    appeal = mailings.create_mailing(coordinator, kind="appeal", subject="Act now",
                                     case_id=case.id, everyone=True)  # fmt: skip
    mailings.approve(coordinator, appeal)
    mailings.send(coordinator, appeal, expected=2)
    db.session.commit()
    assert deliver(db) == 2
    anna = db.session.scalar(select(Supporter).where(Supporter.email == supporters["en"]))
    letters.record_action(case, supporter=anna, channel="email", source="email link")
    case_id, label = case.id, case.label
    let_the_browser_in(db)
    app.config["TOTP_REQUIRED_ROLES"] = ("admin", "coordinator")
    page = visit.page
    page.set_default_timeout(10_000)

    secret = enrolled(coordinator)
    let_the_browser_in(db)
    log_in_with_two_factors(visit, secret)
    visit.go(f"/cases/{case_id}")
    page.click("text=Record outcome")
    page.select_option("#outcomes-0-outcome", "released")
    page.select_option("#outcomes-1-outcome", "charges_dropped")
    page.check("input[name=decision][value=no_further_action]")
    page.fill("#text", "Ilmi Umerov was released and the charges against Nariman Dzhelyal dropped.")
    page.check("input[name=timing][value=org_time]")
    zone = ZoneInfo(app.config["ORG_TIMEZONE"])
    ahead = (utcnow() + timedelta(minutes=1)).astimezone(zone)
    page.fill("#send_at", ahead.strftime("%Y-%m-%dT%H:%M"))
    page.check("#confirm")
    checked(visit, "close")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/notices/\d+$"))
    checked(visit, "notice")

    assert lifecycle.start_due_notices(now=ahead - timedelta(minutes=5)) == 0
    db.session.commit()
    assert lifecycle.start_due_notices(now=ahead + timedelta(minutes=2)) == 1
    db.session.commit()
    assert deliver(db) == 2
    thanks = catcher.text_for(supporters["en"], label + ":")
    assert "Thank you for acting: yours was one of 1 appeal for" in thanks
    assert "Released" in thanks and "Charges dropped" in thanks  # each person's outcome
    notice = catcher.text_for(supporters["ru"], label + ":")
    assert "Спасибо за участие" not in notice and "Освобождён" in notice
    assert "/act/" not in thanks + notice  # an outcome notice asks for nothing

    visit.go(f"/ua/{case_id}")
    checked(visit, "public-after-outcome")
    text = page.locator("main").inner_text()
    assert "Ilmi Umerov was released" in text
    assert "I sent my appeal" not in text
    assert page.locator("main form").count() == 0


def log_in_with_two_factors(visit, secret: str) -> None:
    """The password, then a fresh code from the authenticator, in the browser."""
    page = visit.page
    visit.go("/login")
    page.fill("#email", "coordinator@example.org")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/verify$"))
    checked(visit, "login-code")
    page.fill("#code", "000000")
    submitted(page)
    assert page.locator("#code-error").is_visible()  # the password alone is not enough
    totp = pyotp.TOTP(secret)
    # Each code is good once, and enrolment used this window's: wait for the next one.
    time.sleep(totp.interval - time.time() % totp.interval + 0.5)
    page.fill("#code", totp.now())
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*/$"))


def enrolled(user) -> str:
    """A second factor set up with the service, as the enrolment page would."""
    from campaign.auth import twofactor

    secret = twofactor.new_secret()
    twofactor.enable(user, user, secret, pyotp.TOTP(secret).now())
    return secret


def test_coordinator_enrols_a_second_factor_in_the_browser(visit, make_user, db, app):
    make_user("coordinator", "coordinator@example.org")
    db.session.commit()
    app.config["TOTP_REQUIRED_ROLES"] = ("admin", "coordinator")
    page = visit.page
    page.set_default_timeout(5_000)
    visit.go("/login")
    page.fill("#email", "coordinator@example.org")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/account/2fa$"))
    checked(visit, "enrol-2fa")
    secret = page.locator("code.token").inner_text()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:has-text('Two-factor authentication is on')")
    assert page.locator("ul.codes li").count() > 0
    checked(visit, "recovery-codes")
