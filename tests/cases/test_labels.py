from datetime import date

import pytest

from campaign.cases.labels import (
    case_label,
    full_year,
    ordinal,
    ordinal_number,
    parse_label,
    update_label,
)


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


@pytest.mark.parametrize(
    ("word", "number"),
    [("first", 1), ("Third", 3), ("eleventh", 11), ("twentieth", 20), ("3rd", 3), ("12", 12)],
)
def test_ordinal_number_reads_what_documents_write(word, number):
    assert ordinal_number(word) == number


@pytest.mark.parametrize("word", [None, "", "0", "zeroth", "update"])
def test_ordinal_number_refuses_the_rest(word):
    assert ordinal_number(word) is None


def test_full_year_is_the_rule_parse_label_uses():
    today = date(2026, 12, 7)
    assert full_year("16", today=today) == 2016
    assert full_year("27", today=today) == 2027
    assert full_year("98", today=today) == 1998
    assert full_year("28", today=today) is None  # 1928: before the first UAs
    assert full_year("1969", today=today) is None
    assert full_year("2028", today=today) is None
