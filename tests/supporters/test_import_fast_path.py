"""The import's fast path for addresses gives email-validator's verdict."""

import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaign.core.errors import ValidationError
from campaign.supporters.imports.rows import fast_normalise_email
from campaign.supporters.services import normalise_email

# The importer writes on a thread and connection of its own.
pytestmark = pytest.mark.commits

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
local_parts = st.one_of(
    st.text(alphabet=ATEXT + ".", max_size=70),
    st.text(alphabet=ATEXT + '. "()<>[]:;@,\\éüЖ\u200b\t\n', max_size=20),
)
labels = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=0, max_size=65),
    st.sampled_from(["exämple", "ПРИМЕР", "рф", "xn--e1afmkfd", "localhost", "[127.0.0.1]"]),
)
domains = st.lists(labels, min_size=1, max_size=4).map(".".join)
# Address-shaped input and any text at all: 1,500 examples each, as many as one test
# drew from one_of over both (3,000), in two tests that xdist can run side by side
# (the one test took 37 s under load, 8 s of CPU with coverage).
address_like = st.builds(
    lambda a, b, pad: f"{pad}{a}@{b}{pad}",
    local_parts,
    domains,
    st.sampled_from(["", " ", "\n"]),
)


def verdict(normalise, raw: str):
    try:
        return normalise(raw)
    except ValidationError:
        return ValidationError


def agrees(raw: str) -> None:
    assert verdict(fast_normalise_email, raw) == verdict(normalise_email, raw)


# A property of the code, not of its speed: a busy machine must not fail it (too_slow).
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(address_like)
@example("Jo.Hn@ExAmple.ORG")
@example("a" * 64 + "@example.org")
@example("a" * 65 + "@example.org")
@example("a@" + "b" * 63 + ".org")
@example("a." + "@example.org")
@example("a@example.org.")
def test_the_fast_path_agrees_with_email_validator(raw):
    agrees(raw)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_the_fast_path_agrees_with_email_validator_on_any_text(raw):
    agrees(raw)
