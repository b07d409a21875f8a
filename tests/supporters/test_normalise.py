"""Addresses are trimmed, validated, domain lower-cased and IDNA-encoded."""

import pytest

from campaign.core.errors import ValidationError
from campaign.supporters.imports.rows import fast_normalise_email
from campaign.supporters.services import normalise_email

CASES = [
    ("  Jo.Hn@ExAmple.ORG \n", "Jo.Hn@example.org"),
    ("user@exämple.de", "user@xn--exmple-cua.de"),
    ("x@ПРИМЕР.рф", "x@xn--e1afmkfd.xn--p1ai"),
    ("Ünï@Example.com", "Ünï@example.com"),
    ("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"),
]
INVALID = [
    "",
    "   ",
    "no-at-sign.example.org",
    "two@@example.org",
    "user@",
    "@example.org",
    "user@example",
    "a..b@example.org",
    ".a@example.org",
    "user@exa mple.org",
    "user@" + "a" * 64 + ".org",
    "user@localhost",
    "user@[127.0.0.1]",
    '"quoted"@example.org',
    "line\nbreak@example.org",
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_addresses_are_normalised(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", INVALID)
def test_invalid_addresses_are_refused_at_the_email_field(raw):
    with pytest.raises(ValidationError) as caught:
        normalise_email(raw)
    assert caught.value.field == "email"


@pytest.mark.parametrize("raw", [c[0] for c in CASES] + INVALID)
def test_the_import_fast_path_agrees_with_email_validator(raw):
    try:
        expected = normalise_email(raw)
    except ValidationError:
        with pytest.raises(ValidationError):
            fast_normalise_email(raw)
    else:
        assert fast_normalise_email(raw) == expected
