import pytest

from campaign.cases.labels import case_label, ordinal, parse_label, update_label


@pytest.mark.parametrize(
    ("n", "word"),
    [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (10, "tenth"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
        (101, "101st"),
        (111, "111th"),
    ],
)
def test_ordinals(n, word):
    assert ordinal(n) == word


def test_update_label_and_case_label():
    assert update_label(3) == "third update"
    assert update_label(11) == "11th update"
    assert case_label(205, 2016) == "UA 205/16"
    assert case_label(7, 2005) == "UA 7/05"


def test_ordinal_refuses_zero():
    with pytest.raises(ValueError):
        ordinal(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("UA 205/16", (205, 2016)),
        ("205/16", (205, 2016)),
        ("UA: 216/06", (216, 2006)),
        ("UA 219 /06", (219, 2006)),
        ("ua 205/2016", (205, 2016)),
        ("UA 12/99", (12, 1999)),
        ("UA 0/16", None),
        ("hello", None),
        ("205", None),
        ("", None),
    ],
)
def test_parse_label(text, expected):
    assert parse_label(text, pivot=27) == expected
