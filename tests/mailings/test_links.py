"""The fast link builders of the outbox make the very links the one-by-one builders make."""

from __future__ import annotations

import zlib
from types import SimpleNamespace

import pytest
import time_machine
from hypothesis import example, given, settings
from hypothesis import strategies as st

from campaign.core.tokens import (
    SMALL_DEFLATE_BYTES,
    TokenRefused,
    _compressed_length,
    fast_signer,
    make_token,
    read_token,
)

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db

AT = "2026-03-01 12:00:00"


@pytest.mark.parametrize(
    "payload",
    [
        [7, "0123456789ab"],
        {"c": 3, "s": 12345},
        [1],
        {"c": 2, "s": 9, "ch": "email"},
        [1, "000000000000"],  # zlib saves bytes here: itsdangerous compresses it
        [123456, "aaaaaaaaaaaa"],
        {"c": 1, "s": 2, "x": "a" * 200},
        [5, "Zoë Ærø"],  # not ASCII: itsdangerous's JSON keeps it as UTF-8
    ],
)
def test_the_fast_signer_makes_the_tokens_itsdangerous_makes(app, payload):
    with app.app_context(), time_machine.travel(AT, tick=False):
        signer = fast_signer("supporter-unsubscribe")
        fast = signer.dumps(payload)
        assert fast == make_token("supporter-unsubscribe", payload)
    with app.app_context():
        assert read_token("supporter-unsubscribe", fast) == payload
        with pytest.raises(TokenRefused):  # bound to its purpose
            read_token("supporter-preferences", fast)
        with pytest.raises(TokenRefused):  # and to the secret key
            app.config["SECRET_KEY"] = "another-secret"
            read_token("supporter-unsubscribe", fast)


def test_a_compressible_payload_is_compressed_as_itsdangerous_does(app):
    data = b'[1,"000000000000"]'
    assert len(zlib.compress(data)) < len(data) - 1  # the case that matters
    with app.app_context(), time_machine.travel(AT, tick=False):
        signer = fast_signer("action")
        for payload in (data, data.decode()):
            fast = signer.sign(payload)
            assert fast.startswith(".")  # compressed
            assert fast == make_token("action", [1, "000000000000"])
        assert read_token("action", fast) == [1, "000000000000"]


# Short payloads from few symbols repeat the most, which is where deflate's matches matter.
_SHORT = st.one_of(
    st.binary(max_size=SMALL_DEFLATE_BYTES),
    st.text(alphabet='0123456789[]{}",:abcs', max_size=SMALL_DEFLATE_BYTES).map(str.encode),
    st.text(alphabet="ab", max_size=SMALL_DEFLATE_BYTES).map(str.encode),
).filter(lambda data: len(data) <= SMALL_DEFLATE_BYTES)


@pytest.mark.no_cover  # 3,000 runs of two lines also run elsewhere: twice the CPU when traced
@settings(max_examples=3000, deadline=None)
@given(_SHORT)
@example(b'[1,"000000000000"]')
@example(b"a" * SMALL_DEFLATE_BYTES)
@example(bytes(range(SMALL_DEFLATE_BYTES)))
def test_the_signer_judges_compression_as_zlib_compress_does(data):
    # The signer measures short payloads with a small deflate window (no 256 KB
    # allocation a link); its length decides, as in itsdangerous, whether the
    # token is compressed, so it must equal zlib.compress's.
    assert _compressed_length(data) == len(zlib.compress(data))


def test_action_links_match_the_letters_domain(app):
    from campaign.letters.services import action_url, action_urls

    case = SimpleNamespace(id=42)
    with app.app_context(), time_machine.travel(AT, tick=False):
        build = action_urls(case.id)
        for supporter_id in (1, 77, 123456, 100000000):
            supporter = SimpleNamespace(id=supporter_id)
            assert build(supporter) == action_url(case, supporter)


def test_unsubscribe_links_match_and_verify(app, db, make_supporters):
    from campaign.supporters import tokens
    from campaign.supporters.models import Supporter

    make_supporters(3)
    db.session.add(Supporter(email="a@example.net", state="subscribed"))
    db.session.commit()
    people = db.session.query(Supporter).order_by(Supporter.id).all()
    with time_machine.travel(AT, tick=False):
        build = tokens.unsubscribe_urls()
        links = [build(person) for person in people]
        assert links == [tokens.unsubscribe_url(person) for person in people]
    for person, link in zip(people, links, strict=True):
        token = link.rpartition("/unsubscribe/")[2]
        assert link.startswith("http://ua.example.org/unsubscribe/")
        assert tokens.supporter_for(tokens.UNSUBSCRIBE, token)[0].id == person.id
        with pytest.raises(TokenRefused):
            tokens.supporter_for(tokens.PREFERENCES, token)


def test_personal_links_of_a_mailing(app, db, make_supporters):
    from campaign.mailings.links import personal_links
    from campaign.supporters import tokens
    from campaign.supporters.models import Supporter

    make_supporters(1)
    person = db.session.query(Supporter).one()
    with time_machine.travel(AT, tick=False):
        links = personal_links(None)(person)
        assert links == {"unsubscribe_url": tokens.unsubscribe_url(person), "action_url": ""}


@pytest.fixture
def app_config(mail_config):
    return mail_config
