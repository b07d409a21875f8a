"""What an English, a Russian and an Arabic supporter receive through the three
journeys of a UA (appeal, update, outcome), read in the staff Mailbox as a
person would: each in its reader's language, each fit for its stage
(docs/MESSAGES.md)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.e2e import test_ua_journeys as journeys
from tests.e2e.conftest import log_in
from tests.e2e.test_ua_journeys import deliver, issued_case

# The journeys' mail setup: the app's own SMTP catcher and a private Redis.
app_config = journeys.app_config
catcher = journeys.catcher

pytestmark = pytest.mark.e2e

# Words of each language's message that only a translated message holds.
WORDS = {
    "en": {"appeal": "I sent my appeal", "update": "FIRST UPDATE OF", "outcome": "Released"},
    "ru": {"appeal": "Я отправил(а) обращение", "update": "ОБНОВЛЕНИЕ № 1",
           "outcome": "Освобождён(а)"},
    "ar": {"appeal": "أرسلت مناشدتي", "update": "التحديث رقم 1", "outcome": "أُفرج عنه/عنها"},
}  # fmt: skip


@pytest.fixture
def readers(db):
    from campaign.supporters.models import Supporter

    rows = [
        Supporter(email=f"{language}@example.net", first_name=name, language=language,
                  state="subscribed")
        for language, name in (("en", "Anna"), ("ru", "Борис"), ("ar", "ليلى"))
    ]  # fmt: skip
    db.session.add_all(rows)
    db.session.commit()
    return {row.language: row.email for row in rows}


def _send(db, coordinator, mailing, count):
    from campaign.mailings import services as mailings

    mailings.approve(coordinator, mailing)
    mailings.send(coordinator, mailing, expected=count)
    db.session.commit()
    assert deliver(db) == count


def test_three_readers_read_the_three_journeys_in_the_mailbox(
    visit, make_user, db, catcher, readers, app
):
    from campaign.cases import services as cases
    from campaign.cases import texts as case_texts
    from campaign.mailbox import services as mailbox
    from campaign.mailings import services as mailings
    from campaign.mailings.models import Mailing
    from campaign.outcomes import services as outcomes

    case, coordinator = issued_case(db, make_user)
    case_texts.set_case_text(coordinator, case, "ru", {
        "title": "Лидеру крымских татар грозят пытки", "summary": "Задержан.",
        "recommended_actions": "Освободите его."})  # fmt: skip
    db.session.commit()
    label, case_id = case.label, case.id
    appeal = mailings.create_mailing(coordinator, kind="appeal", subject=f"{label}: act now",
                                     case_id=case.id, everyone=True)  # fmt: skip
    _send(db, coordinator, appeal, 3)
    update = cases.add_update(coordinator, case, kind="further_action", title="Moved",
                              body="He was moved to another prison.")  # fmt: skip
    db.session.commit()
    drafted = db.session.scalar(select(Mailing).where(Mailing.update_id == update.id))
    _send(db, coordinator, drafted, 3)
    outcomes.close_case(coordinator, case, decision="no_further_action", outcomes=[
        {"person_id": p.id, "outcome": "released", "on": date.today(),
         "note": "released without charge"} for p in case.people])  # fmt: skip
    db.session.commit()
    notice = mailings.create_mailing(coordinator, kind="outcome", subject=f"{label}: outcome",
                                     case_id=case.id, case_audience=True)  # fmt: skip
    _send(db, coordinator, notice, 3)

    messages, total = mailbox.page(1, 50)
    assert total == 9
    db.session.commit()
    page = visit.page
    page.set_default_timeout(10_000)
    log_in(visit, "campaigner@example.org", PASSWORD)
    texts = {}
    for language, address in readers.items():
        mine = [m for m in messages if address in m.recipients]
        assert len(mine) == 3, language
        seen = {}
        for message in mine:
            visit.go(f"/mailbox/{message.key}")
            text = page.locator("pre.mail-text").inner_text()
            frame = page.frame_locator("iframe.mail-html")
            direction = frame.locator("html").get_attribute("dir")
            assert direction == ("rtl" if language == "ar" else "ltr"), (language, message.subject)
            # An update carries the appeal block too: the most specific word decides.
            kind = next(k for k in ("outcome", "update", "appeal") if WORDS[language][k] in text)
            seen[kind] = text
            if language != "en":
                assert "I sent my appeal" not in text and "What happened" not in text
        assert set(seen) == {"appeal", "update", "outcome"}, language
        texts[language] = seen
        visit.shoot(f"mailbox-{language}")
        outcome = seen["outcome"]
        assert "/act/" not in outcome and "released without charge" in outcome
        assert re.search(r"/ua/\d+\?lang=" + language, seen["appeal"])
        assert "/act/" in seen["appeal"] and "/act/" in seen["update"]
    # The case's Russian text for Boris; the English one, with a note, for Layla.
    assert "Лидеру крымских татар грозят пытки" in texts["ru"]["appeal"]
    assert "لم يُترجم هذا التحرك العاجل إلى لغتك بعد" in texts["ar"]["appeal"]

    # The per-language editor of the UA's text, as staff find it from the letters page.
    visit.go(f"/cases/{case_id}/letters/")
    assert visit.axe() == []
    page.click("#case-texts >> text=Edit")
    assert page.locator("#title").input_value() == "Лидеру крымских татар грозят пытки"
    visit.shoot("case-text-editor")
    assert visit.axe() == []
