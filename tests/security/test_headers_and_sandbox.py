"""Header injection in composed mail, and letter-template sandbox escapes refused at save."""

from __future__ import annotations

import email
from email import policy

import pytest

from campaign.core.errors import ValidationError

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db

BREAKS = ("\r\nBcc: victim@example.org", "\nBcc: victim@example.org", "\rBcc: x@example.org")


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def assert_no_extra_header(message) -> None:
    assert message["Bcc"] is None
    names = [name.lower() for name in message]
    assert len(names) == len(set(names)), names
    assert set(names) <= {
        "from", "reply-to", "subject", "date", "mime-version", "content-language", "list-id",
        "list-unsubscribe-post", "precedence", "content-type", "to", "message-id",
        "list-unsubscribe",
    }  # fmt: skip


@pytest.fixture
def mailing(app, db):
    from campaign.mailings import services as mailings

    mailing = mailings.create_mailing(
        None, kind="free", subject="Hello", body="Body", everyone=True
    )
    db.session.commit()
    return mailing


@pytest.mark.parametrize("injection", BREAKS)
def test_supporter_names_cannot_add_headers(mailing, injection):
    from campaign.mailings import services as mailings
    from campaign.mailings.compose import Recipient

    composer = mailings.composer_for(mailing, "en")
    recipient = Recipient(
        delivery_id=7, supporter_id=1, email="ann@example.org",
        first_name="Ann" + injection, last_name="Lee" + injection, city="X" + injection,
    )  # fmt: skip
    _sender, to, raw = composer.build(recipient)
    message = parse(raw)
    assert_no_extra_header(message)
    assert to == "ann@example.org"
    assert message["To"].addresses[0].addr_spec == "ann@example.org"
    assert "Bcc" in message["To"].addresses[0].display_name  # folded in, not a header


@pytest.mark.parametrize("injection", BREAKS)
def test_subject_with_line_break_is_refused_at_save(mailing, db, injection):
    from campaign.mailings import services as mailings
    from campaign.mailings.models import Mailing

    with pytest.raises(ValidationError) as refused:
        mailings.update_mailing(None, mailing, subject="Hello" + injection)
    assert refused.value.field == "subject"
    db.session.rollback()
    assert db.session.get(Mailing, mailing.id).subject == "Hello"


@pytest.mark.parametrize("injection", BREAKS)
def test_composer_refuses_a_subject_stored_with_a_line_break(mailing, db, injection):
    from campaign.mailings import services as mailings
    from campaign.mailings.compose import HeaderInjection

    mailing.subject = "Hello" + injection  # as if written around the service
    with pytest.raises(HeaderInjection):
        mailings.composer_for(mailing, "en")


@pytest.mark.parametrize("address", ["ann@example.org\r\nBcc: v@example.org", "a@x.org, b@y.org"])
def test_recipient_address_cannot_carry_headers_or_more_recipients(mailing, address):
    from campaign.mailings import services as mailings
    from campaign.mailings.compose import HeaderInjection, Recipient

    composer = mailings.composer_for(mailing, "en")
    with pytest.raises(HeaderInjection):
        composer.build(Recipient(delivery_id=1, supporter_id=1, email=address))


@pytest.mark.parametrize("field", ["MAIL_FROM", "MAIL_REPLY_TO", "LIST_ID"])
def test_from_like_settings_with_line_breaks_are_refused(app, mailing, field):
    from campaign.mailings import services as mailings
    from campaign.mailings.compose import HeaderInjection

    app.config[field] = "UA <ua@example.org>\r\nBcc: v@example.org"
    with pytest.raises(HeaderInjection):
        mailings.composer_for(mailing, "en")


def test_transactional_mail_refuses_line_breaks(app):
    from campaign.core.mail import build_message

    with pytest.raises(ValueError):
        build_message("ann@example.org", "Confirm\r\nBcc: v@example.org", "text").as_bytes()


# --- the letter sandbox -------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ config }}",
    "{{ self }}",
    "{{ request.environ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ first_name|attr('__class__') }}",
    "{{ first_name.__class__ }}",
    "{{ first_name['__class__'] }}",
    "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}",
    "{% set x = 1 %}",
    "{% include 'base.html' %}",
    "{% extends 'base.html' %}",
    "{% import 'base.html' as b %}",
    "{% macro m() %}{% endmacro %}",
    "{{ range(10) }}",
    "{{ first_name|format('%s') }}",
]


@pytest.fixture
def case(app, db):
    from campaign.cases import services as cases

    case = cases.create_case(None, {"title": "Sandbox", "languages": ["en"]})
    db.session.commit()
    return case


@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.parametrize("field", ["subject", "body"])
def test_letter_sandbox_escapes_are_refused_at_save(case, db, field, escape):
    from campaign.letters import services as letters
    from campaign.letters.models import LetterTemplate

    data = {"language": "en", "subject": "Appeal", "body": "Dear {{ salutation }}"}
    data[field] = f"Hello {escape}"
    with pytest.raises(ValidationError) as refused:
        letters.save_letter(None, case, None, data)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.query(LetterTemplate).count() == 0


@pytest.mark.parametrize("escape", ESCAPES[:4])
def test_letter_form_shows_the_refusal_at_the_field(login, case, escape):
    client = login("campaigner")
    response = client.post(
        f"/cases/{case.id}/letters/new",
        data={"language": "en", "subject": "Appeal", "body": f"Hello {escape}"},
    )
    assert response.status_code in (200, 400, 422)
    page = response.get_data(as_text=True)
    assert "not allowed in a letter" in page or "unknown placeholder" in page
    assert client.get(f"/cases/{case.id}/letters/").status_code == 200
    from campaign.extensions import db
    from campaign.letters.models import LetterTemplate

    assert db.session.query(LetterTemplate).count() == 0
