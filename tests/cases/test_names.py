import pytest

from campaign.cases.names import name_key, search_keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Chiygoz", "Chyigoz"),
        ("Chiygoz", "Chiygoz’s"),
        ("Chiygoz", "Chiygoz's"),
        ("Umerov", "Умеров"),
        ("José", "Jose"),
        ("Dzhepparov", "Djepparov"),
        ("Aliyev", "Aliev"),
        ("AKHTEM", "akhtem"),
    ],
)
def test_spellings_share_a_key(a, b):
    assert name_key(a) == name_key(b)


def test_different_names_differ():
    assert name_key("Umerov") != name_key("Chiygoz")
    assert name_key("Kuku") != name_key("Kuki")


def test_search_keys_cover_every_word_of_every_spelling():
    keys = search_keys(["Akhtem Chiygoz", "Ахтем Чийгоз", "Akhtem Chyigoz"])
    assert keys.startswith(" ") and keys.endswith(" ")
    assert sorted(keys.split()) == sorted({name_key("Akhtem"), name_key("Chiygoz")})
