"""Extraction: real seeds, hand-written sheets in three layouts, and field-level rules."""

from __future__ import annotations

import json
import random
import signal
from datetime import date
from pathlib import Path

import pytest

from campaign.casesheets.extract import MAX_ANALYSED_CHARS, Proposal, extract, name_key
from campaign.casesheets.readers import read_document

SAMPLES = Path(__file__).parent / "samples"
TODAY = date(2024, 6, 1)


@pytest.fixture(autouse=True)
def hang_guard():
    """Not a timing assert: a catastrophic regex would hang here instead of finishing."""
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _timeout(signum, frame):
    raise TimeoutError("extract hung")


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def person(proposal: Proposal, name: str):
    matches = [p for p in proposal.people if p.name == name]
    assert len(matches) == 1, [p.name for p in proposal.people]
    return matches[0]


def spanned(text: str, found) -> list[str]:
    return [text[start:end] for start, end in found.spans]


# --- seed 000: third update of UA 205/16, stop action ----------------------------------------

SEED_000 = "seed_000_ua_205_16_third_update.txt"


@pytest.fixture(scope="module")
def seed000() -> str:
    return sample(SEED_000)


def test_seed_000_numbers_kind_and_stop_action(seed000):
    p = extract(seed000, today=TODAY)
    assert (p.ua_number.value, p.year.value) == (205, 2016)
    assert spanned(seed000, p.ua_number) == ["205"]
    assert spanned(seed000, p.year) == ["16"]
    assert p.kind.value == "update"
    assert p.update_number.value == 3
    assert spanned(seed000, p.update_number) == ["third"]
    assert p.further_action.value is False
    assert spanned(seed000, p.further_action) == ["No further action is requested"]
    assert p.existing_case is None
    assert p.is_update_of_existing is False


def test_seed_000_own_index_reference_beats_the_report_link(seed000):
    p = extract(seed000, today=TODAY)
    assert p.index_reference.value == "EUR 50/7271/2017"
    assert spanned(seed000, p.index_reference) == ["eur50/7271/2017"]
    assert [ref.value for ref in p.other_index_references] == ["EUR 50/5330/2016"]


def test_seed_000_title_summary_and_missing(seed000):
    p = extract(seed000, today=TODAY)
    assert p.title.value == "CRIMEAN TATAR LEADERs released"
    assert p.summary.value.startswith("Crimean Tatar leaders Ilmi Umerov and Akhtem Chiygoz,")
    for field_name in ("deadline", "targets", "languages", "recommended_actions", "background"):
        assert field_name in p.missing
    for field_name in ("ua_number", "year", "kind", "update_number", "title", "people"):
        assert field_name not in p.missing


def test_seed_000_people_with_aliases_and_no_possessive_person(seed000):
    p = extract(seed000, today=TODAY)
    assert [x.name for x in p.people] == ["Ilmi Umerov", "Akhtem Chiygoz"]
    chiygoz = person(p, "Akhtem Chiygoz")
    assert chiygoz.aliases == ["Akhtem Chyigoz"]
    assert person(p, "Ilmi Umerov").aliases == []
    mentioned = {seed000[s:e] for s, e in chiygoz.spans}
    assert mentioned == {"Akhtem Chiygoz", "Akhtem Chyigoz"}  # "’s" is not part of a name
    assert len(chiygoz.spans) == 8  # every mention of him in the text


def test_seed_000_status_notes(seed000):
    p = extract(seed000, today=TODAY)
    chiygoz = person(p, "Akhtem Chiygoz")
    assert [s.value for s in chiygoz.statuses] == [
        "sentenced to prison",
        "sentenced to eight years",
        "released",
    ]
    assert chiygoz.status.value == "released"
    assert "sentenced to two years" in [s.value for s in person(p, "Ilmi Umerov").statuses]
    assert spanned(seed000, chiygoz.statuses[1]) == ["sentenced to eight years"]


def test_seed_000_known_case_makes_it_an_update_of_existing(seed000):
    p = extract(seed000, known_cases={(205, 2016)}, today=TODAY)
    assert p.existing_case == (205, 2016)
    assert p.is_update_of_existing is True
    assert p.to_dict()["is_update_of_existing"] is True
    assert extract(seed000, known_cases={(205, 2017)}, today=TODAY).existing_case is None


def test_seed_000_known_person_matches_other_spelling(seed000):
    p = extract(seed000, known_people=[(7, ["Akhtem Chyigoz"]), (9, ["Someone Else"])])
    assert person(p, "Akhtem Chiygoz").person_id == 7
    assert person(p, "Ilmi Umerov").person_id is None
    p = extract(seed000, known_people=[(7, ["Akhtem Chiygoz"]), (8, ["Ahtem Chiygoz"])])
    assert person(p, "Akhtem Chiygoz").person_id is None
    assert person(p, "Akhtem Chiygoz").candidate_ids == [7, 8]


def test_seed_000_to_dict_is_json(seed000):
    data = extract(seed000, known_people=[(7, ["Akhtem Chiygoz"])], today=TODAY).to_dict()
    again = json.loads(json.dumps(data))
    assert again["ua_number"] == {"value": 205, "spans": [[2996, 2999]]}
    assert again["kind"]["value"] == "update"
    assert again["people"][1]["name"] == "Akhtem Chiygoz"
    assert again["people"][1]["person_id"] == 7
    assert again["people"][1]["status"]["value"] == "released"
    assert again["copy_to_embassies"] == {"value": False, "spans": []}
    assert "deadline" in again["missing"]


# --- seed 004: outcome, conviction upheld -------------------------------------------------------

SEED_004 = "seed_004_kuku_outcome.txt"
KUKU_SENTENCES = {
    "Emir-Usein Kuku": "sentenced to 12 years",
    "Muslim Aliyev": "sentenced to 19 years",
    "Enver Bekirov": "sentenced to 18 years",
    "Vadim Siruk": "sentenced to 12 years",
    "Refat Alimov": "sentenced to eight years",
    "Arsen Dzhepparov": "sentenced to seven years",
}


def test_seed_004_outcome():
    text = sample(SEED_004)
    p = extract(text, today=TODAY)
    assert p.kind.value == "outcome"
    assert p.outcome.value == "Conviction of prisoners of conscience upheld"
    assert p.title.value == "Conviction of prisoners of conscience upheld"
    # The page neither asks for appeals nor stops them: unknown, not a guess.
    assert p.further_action.value is None
    assert "further_action" in p.missing
    assert "ua_number" in p.missing
    assert p.summary.value.startswith("The Russian Military Court of Appeals upheld")


def test_seed_004_six_people_with_sentences_and_no_officials():
    text = sample(SEED_004)
    p = extract(text, today=TODAY)
    assert {x.name: x.status.value for x in p.people} == KUKU_SENTENCES
    assert spanned(text, person(p, "Enver Bekirov").status) == ["18 years"]
    names = " ".join(x.name for x in p.people)
    for not_at_risk in ("Borrell", "Amnesty", "Court", "Parliament", "Union", "Crimean"):
        assert not_at_risk not in names


# --- hand-written sheets --------------------------------------------------------------------


def test_classic_original_sheet_complete():
    text = sample("ua_216_06_original.txt")
    p = extract(text, today=TODAY)
    assert p.missing == []
    assert (p.ua_number.value, p.year.value, p.kind.value) == (216, 2006, "original")
    assert p.update_number.value is None
    assert p.index_reference.value == "EUR 46/012/2006"
    assert p.title.value == "FEAR OF TORTURE AND ILL-TREATMENT / PRISONERS OF CONSCIENCE"
    assert p.further_action.value is True
    assert p.deadline.value == "2019-09-27"
    assert spanned(text, p.deadline) == ["BEFORE 27 SEPTEMBER 2019"]
    assert p.languages.value == ["ru", "en"]
    assert p.own_language_allowed is True
    assert p.summary.value.startswith("Human rights defender Natalia Estemirovich and journalist")
    assert p.background.value.splitlines()[0].startswith("Human rights defenders and journalists")
    assert len(p.background.value.splitlines()) == 2
    assert p.recommended_actions.value == [
        "expressing concern that Natalia Estemirovich and Ruslan Example are held "
        "incommunicado and urging the authorities to reveal where they are held;",
        "calling for them to be protected from torture and other ill-treatment;",
        "calling for their immediate and unconditional release, as they are prisoners of "
        "conscience.",
    ]
    assert p.copy_to_embassies.value is True


def test_classic_original_sheet_people():
    p = extract(sample("ua_216_06_original.txt"), today=TODAY)
    assert [x.name for x in p.people] == ["Natalia Estemirovich", "Ruslan Example"]
    assert person(p, "Natalia Estemirovich").status.value == "detained"
    assert "arrested" in [s.value for s in person(p, "Ruslan Example").statuses]
    # The lawyer and the official named in the text are not people at risk.
    assert not any("Lawyerov" in x.name or "Bastrykin" in x.name for x in p.people)


def test_classic_original_sheet_targets():
    text = sample("ua_216_06_original.txt")
    p = extract(text, today=TODAY)
    assert len(p.targets) == 3
    first, second, copy = p.targets
    assert first.title == "Prosecutor General"
    assert first.name == "Yury Yakovlevich Chaika"
    assert first.organisation == "Prosecutor General's Office"
    assert first.address == ["ul. B. Dmitrovka, d.15a", "125993 Moscow GSP-3", "Russian Federation"]
    assert first.fax == "+7 495 987 58 41"
    assert first.email == "info@genproc.example.ru"
    assert first.salutation == "Dear Prosecutor General"
    assert first.is_copy is False
    assert text[first.spans[0][0] : first.spans[0][1]].startswith("Prosecutor General\n")
    assert text[first.spans[0][0] : first.spans[0][1]].endswith("Dear Prosecutor General")
    assert second.title == "Head of the Investigative Committee of the Russian Federation"
    assert second.name == "Aleksandr Ivanovich Bastrykin"
    assert second.organisation is None
    assert second.social == ["Twitter: @sledcom_rf"]
    assert second.salutation == "Dear Chairman"
    assert second.is_copy is False
    assert copy.is_copy is True
    assert copy.title == "High Commissioner for Human Rights in the Russian Federation"
    assert copy.name == "Tatiana Nikolaevna Moskalkova"
    assert copy.phone == "+7 495 607 19 22"
    assert copy.email == "ombudsmanrf@example.ru"
    assert copy.salutation is None


def test_further_information_update_sheet():
    text = sample("ua_219_06_further_information.txt")
    p = extract(text, today=TODAY)
    assert (p.ua_number.value, p.year.value) == (219, 2006)
    assert p.kind.value == "update"
    assert p.update_number.value is None
    assert p.missing == ["update_number"]
    # Its own "Index:" wins over the earlier documents it refers to.
    assert p.index_reference.value == "EUR 46/040/2006"
    others = [ref.value for ref in p.other_index_references]
    assert others == ["EUR 46/030/2006", "EUR 46/035/2006"]
    assert p.title.value == "Fear of torture/ill-treatment"
    assert p.deadline.value == "2006-11-13"
    assert p.languages.value == ["en", "ru"]
    assert p.own_language_allowed is False
    assert p.further_action.value is True
    assert p.background.value.startswith("Zaurbek Exampleov is a member")
    assert person(p, "Zaurbek Exampleov").status.value == "sentenced to three years"
    assert [x.name for x in p.people] == ["Zaurbek Exampleov", "Islam Exampleov"]
    assert len(p.recommended_actions.value) == 2
    (target,) = p.targets
    assert target.title == "Prosecutor of the Chechen Republic"
    assert target.name == "Valery Anatolievich Kuznetsov"
    assert target.organisation == "Prosecutor's Office of the Chechen Republic"
    assert target.address == ["ul. Sheripova, d. 9", "364000 Grozny", "Russian Federation"]
    assert target.salutation == "Dear Prosecutor"
    assert p.copy_to_embassies.value is False


def test_web_page_layout_through_the_html_reader():
    data = (SAMPLES / "ua_45_21_web_page.html").read_bytes()
    text = read_document(data, "ua_45_21_web_page.html").text
    assert "999" not in text and "888" not in text and "Hacker" not in text
    p = extract(text, today=TODAY)
    assert p.missing == []
    assert (p.ua_number.value, p.year.value, p.kind.value) == (45, 2021, "original")
    assert p.title.value == "Lawyer jailed for defending protesters"
    assert p.index_reference.value == "EUR 55/3921/2021"
    assert [ref.value for ref in p.other_index_references] == ["EUR 55/1000/2020"]
    assert p.deadline.value == "2021-04-30"
    assert p.languages.value == ["az", "en"]
    assert p.own_language_allowed is True
    assert p.recommended_actions.value == [
        "Calling for the immediate and unconditional release of Leyla Yünus-Example;",
        "Urging the authorities to release Emin Huseynov-Example pending trial.",
    ]
    assert {x.name: x.status.value for x in p.people} == {
        "Leyla Yünus-Example": "sentenced to five years",
        "Emin Huseynov-Example": "detained",
    }
    (target,) = p.targets
    assert (target.title, target.name) == ("President", "Ilham Aliyev")
    assert target.organisation == "Office of the President"
    assert target.address == ["19 Istiglaliyyat Street", "Baku AZ1066", "Azerbaijan"]
    assert target.email == "office@president.example.az"
    assert target.social == ["Twitter: @presidentaz"]
    assert target.salutation == "Dear President"
    assert p.copy_to_embassies.value is True


# --- field rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "number", "year"),
    [
        ("UA 205/16", 205, 2016),
        ("UA: 216/06 Index: EUR 46/012/2006", 216, 2006),
        ("Further information on UA 219 /06", 219, 2006),
        ("UA 205/2016", 205, 2016),
        ("Urgent Action 205/16", 205, 2016),
        ("UA 12/95", 12, 1995),
        ("UA 3/25", 3, 2025),  # next year's UAs may already be numbered
    ],
)
def test_ua_number_forms(line, number, year):
    p = extract(line, today=TODAY)
    assert (p.ua_number.value, p.year.value) == (number, year)


@pytest.mark.parametrize("line", ["UA 3/26", "UA 12/1950", "UA 0/16", "GUA 12/16", "UA 1/2/2016"])
def test_ua_number_rejected(line):
    p = extract(line, today=TODAY)
    assert p.ua_number.value is None
    assert "ua_number" in p.missing and "year" in p.missing


def test_ua_number_prefers_the_update_line_over_a_mention():
    p = extract("See also UA 100/15 on his brother.\nThis is the first update of UA 205/16.")
    assert p.ua_number.value == 205
    assert "100/2015" in p.warnings[0]


@pytest.mark.parametrize(
    ("line", "number"),
    [
        ("This is the first update of UA 205/16.", 1),
        ("This is the second update of UA 205/16.", 2),
        ("This is the tenth update of UA 205/16.", 10),
        ("This is the 11th update of UA 205/16.", 11),
        ("THIS IS THE THIRD UPDATE OF UA 205/16", 3),
        ("Further information on UA 205/16", None),
        ("Update on Urgent Action 205/16", None),
    ],
)
def test_update_numbers(line, number):
    p = extract(line, today=TODAY)
    assert p.kind.value == "update"
    assert p.update_number.value == number
    assert ("update_number" in p.missing) is (number is None)


def test_original_without_update_words_and_empty_kind():
    assert extract("URGENT ACTION\nUA 1/20\nJournalist detained").kind.value == "original"
    assert extract("A newspaper article about a court case.").kind.value is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("No further action is requested from the UA network.", False),
        ("NO FURTHER ACTION IS REQUESTED. Many thanks", False),
        ("no further appeals are needed", False),
        ("PLEASE WRITE IMMEDIATELY in Russian:", True),
        ("Please send appeals before 27 September 2019", True),
        ("Many thanks to all who sent appeals.", None),
        ("", None),
    ],
)
def test_further_action(text, value):
    assert extract(text).further_action.value is value


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Please send appeals before 27 September 2019", "2019-09-27"),
        ("Please send appeals before 27 September, 2019.", "2019-09-27"),
        ("PLEASE SEND APPEALS BEFORE 27 SEPTEMBER 2019 TO:", "2019-09-27"),
        ("send appeals as quickly as possible and no later than 3 March 2020", "2020-03-03"),
        ("Write before September 27, 2019.", "2019-09-27"),
        ("Please send appeals before 1st Feb. 2021", "2021-02-01"),
        ("Send appeals before 2021-04-30.", "2021-04-30"),
    ],
)
def test_deadline_forms(text, iso):
    assert extract(text).deadline.value == iso


@pytest.mark.parametrize(
    "text",
    [
        "Please send appeals before 31 February 2019",  # no such day
        "He was held before 3 March 2020 in Grozny.",  # not about appeals
        "Please send appeals before 27 September.",  # no year: not guessed
    ],
)
def test_deadline_not_guessed(text):
    p = extract(text)
    assert p.deadline.value is None
    assert "deadline" in p.missing


@pytest.mark.parametrize(
    ("text", "codes", "own"),
    [
        ("Please write in English or Russian", ["en", "ru"], False),
        ("PLEASE WRITE IMMEDIATELY in Russian, English or your own language:", ["ru", "en"], True),
        ("Send appeals in Arabic, French, English or your own language", ["ar", "fr", "en"], True),
    ],
)
def test_languages(text, codes, own):
    p = extract(text)
    assert p.languages.value == codes
    assert p.own_language_allowed is own


def test_languages_ignore_adjectives_and_unrelated_lines():
    text = "They live in Russian-occupied Crimea.\nHe spoke in English on television."
    assert extract(text).languages.value is None


def test_index_reference_forms():
    p = extract("Index: ASA 17/1234/2021\nsee https://example.org/documents/mde13/0001/2020/en")
    assert p.index_reference.value == "ASA 17/1234/2021"
    assert [ref.value for ref in p.other_index_references] == ["MDE 13/0001/2020"]
    assert extract(
        "Further information: amnesty.org/documents/afr54/123/2019/"
    ).index_reference.value == ("AFR 54/123/2019")


def test_actions_without_bullets_stop_at_the_targets():
    text = (
        "What to do\n"
        "Write to the Minister calling for his release.\n"
        "Ask for access to his lawyer.\n"
        "Write to:\n"
        "Minister of Justice\n"
        "Ministry of Justice\n"
        "1 Main Street\n"
        "Salutation: Dear Minister\n"
    )
    p = extract(text)
    assert p.recommended_actions.value == [
        "Write to the Minister calling for his release.",
        "Ask for access to his lawyer.",
    ]
    (target,) = p.targets
    assert (target.title, target.organisation, target.address) == (
        "Minister of Justice",
        "Ministry of Justice",
        ["1 Main Street"],
    )


def test_copies_block_and_blank_line_separated_targets():
    text = (
        "PLEASE SEND APPEALS BEFORE 1 MAY 2020 TO:\n"
        "President\nBox 1\nSalutation: Dear President\n\n"
        "And copies to:\n"
        "Minister of Interior\nBox 2\n\n"
        "Ambassador Jane Doe\nEmbassy of Example\n10 High Street\n"
        "Email: embassy@example.org\n\n"
        "Also send copies to diplomatic representatives accredited to your country.\n"
    )
    p = extract(text)
    assert [(t.title, t.is_copy) for t in p.targets] == [
        ("President", False),
        ("Minister of Interior", True),
        ("Ambassador", True),
    ]
    assert p.targets[2].name == "Jane Doe"
    assert p.targets[2].organisation == "Embassy of Example"
    assert p.copy_to_embassies.value is True


def test_straight_apostrophe_possessive_and_caps_surname():
    text = (
        "Journalist Ivan PETROV (m) was detained on 3 May.\n"
        "Ivan Petrov's lawyer has not seen him. Ivan Petrov's family is worried."
    )
    p = extract(text)
    (ivan,) = p.people
    assert ivan.name == "Ivan Petrov"
    assert ivan.status.value == "detained"
    assert len(ivan.spans) == 3
    assert ivan.aliases == []


def test_officials_are_not_people_at_risk():
    text = (
        "President Vladimir Examplov said the activist Olga Examplova was released on 3 May.\n"
        "Her lawyer, Nikolai Polozov, welcomed the release of Olga Examplova."
    )
    assert [x.name for x in extract(text).people] == ["Olga Examplova"]


# --- name keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Chyigoz", "Chiygoz"),
        ("Chiygoz", "Chiygoz’s"),
        ("Chiygoz", "Chiygoz's"),
        ("Akhtem Chyigoz", "Akhtem Chiygoz"),
        ("Akhtem Chiygoz", "Ahtem Chiygoz"),
        ("Umerov", "UMEROV"),
        ("Umerov", "Умеров"),
        ("Jose", "José"),
        ("Dzhepparov", "Djepparov"),
        ("Emir-Usein Kuku", "Emir Usein Kuku"),
    ],
)
def test_name_key_equal(left, right):
    assert name_key(left) == name_key(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [("Umerov", "Umarov"), ("Ilmi Umerov", "Umerov Ilmi"), ("Aliyev", "Alimov")],
)
def test_name_key_different(left, right):
    assert name_key(left) != name_key(right)


def test_name_key_values():
    assert name_key("Chiygoz’s") == "chigoz"
    assert name_key("  Ilmi   UMEROV ") == "ilmi umerov"
    assert name_key("") == ""


# --- robustness -------------------------------------------------------------------------------


def test_empty_text_lists_everything_missing():
    p = extract("")
    assert p.people == [] and p.targets == []
    assert set(p.missing) >= {"ua_number", "year", "kind", "title", "people", "targets"}
    json.dumps(p.to_dict())


def test_binary_junk_decoded_as_text():
    rng = random.Random(1)
    junk = bytes(rng.randrange(256) for _ in range(300_000)).decode("latin-1")
    p = extract(junk)
    json.dumps(p.to_dict())
    assert "ua_number" in p.missing


def test_five_megabytes_are_cut_and_still_answer():
    text = sample(SEED_000) * (5_000_000 // 3089 + 1)
    p = extract(text)
    assert p.ua_number.value == 205
    assert "analysed" in p.warnings[-1]
    assert max(end for person in p.people for _, end in person.spans) <= MAX_ANALYSED_CHARS


@pytest.mark.parametrize(
    "unit",
    [
        "UA ",
        "UA 1",
        "Aaa ",
        "Aaa Bbb, ",
        "a" * 50 + "@",
        "before 1 ",
        "in English, ",
        "- ",
        "PLEASE SEND APPEALS TO:\n",
        "Dear X\n",
        "\n",
        " ",
        "’s ",
        "Ilmi Umerov and ",
        "EUR 50/",
    ],
)
def test_adversarial_repetitions_finish(unit):
    text = unit * (600_000 // len(unit))
    json.dumps(extract(text).to_dict())


# --- issue #19: layouts the import lost fields on -----------------------------------------


def test_targets_after_a_lead_in_without_a_to_heading():
    """The appeals heading carries the deadline but no "TO:"; the officials follow a
    "Please write immediately in ... to:" lead-in (they ended up in the actions)."""
    text = (
        "UA: 88/17 Index: EUR 57/6103/2017 Kazakhstan Date: 19 April 2017\n\n"
        "URGENT ACTION\n\nTRADE UNION LEADER DETAINED\n\n"
        "PLEASE SEND APPEALS BEFORE 31 MAY 2017\n"
        "- Call on the authorities to release Larisa Kharkova immediately.\n\n"
        "Please write immediately in Kazakh, Russian, English or your own language to the "
        "Prosecutor General, with a copy to the embassy of Kazakhstan in your country, to:\n\n"
        "Prosecutor General\nZhakip Asanov\nul. Mambetova 14\n010000 Astana, Kazakhstan\n"
        "Email: pressa@prokuror.example.kz\nSalutation: Dear Prosecutor General\n\n"
        "Ambassador Erlan Idrissov\nEmbassy of Kazakhstan\n125 Pall Mall\nLondon SW1Y 5EA\n"
        "Email: london@mfa.example.kz\nSalutation: Your Excellency\n"
    )
    p = extract(text, today=TODAY)
    assert [(t.title, t.name, t.salutation, t.is_copy) for t in p.targets] == [
        ("Prosecutor General", "Zhakip Asanov", "Dear Prosecutor General", False),
        ("Ambassador", "Erlan Idrissov", "Your Excellency", True),
    ]
    assert [t.email for t in p.targets] == ["pressa@prokuror.example.kz", "london@mfa.example.kz"]
    assert all("Zhakip" not in action for action in p.recommended_actions.value or [])
    assert (p.country.value, p.issue_date.value) == ("KZ", "2017-04-19")
    assert p.languages.value == ["kk", "ru", "en"]


def test_a_standalone_update_names_a_person_by_the_first_spelling_not_the_commonest():
    text = (
        "Further information on UA: 205/16 Index: EUR 50/5055/2016 Ukraine "
        "Date: 29 September 2016\n"
        "Akhtem Chiygoz, deputy head of the Mejlis, was sentenced to eight years on "
        "11 September 2016. The court found Akhtem Chyigoz guilty. Akhtem Chyigoz took part "
        "only by video link. Akhtem Chyigoz's lawyers have appealed."
    )
    (chiygoz,) = extract(text, today=TODAY).people
    assert chiygoz.name == "Akhtem Chiygoz"
    assert chiygoz.aliases == ["Akhtem Chyigoz"]
    assert chiygoz.status_code == "sentenced"
    assert chiygoz.status_on.value == "2016-09-11"


def test_a_status_date_comes_from_its_own_clause_and_a_year_from_the_sheet():
    text = (
        "UA 45/98 Date: 20 April 1998\n"
        "Hassan Osman al-Tayeb, who was detained with him on 31 March, was released without "
        "charge on 11 April. Ilmi Umerov and Akhtem Chiygoz, both sentenced to prison by the "
        "de facto authorities, were flown to Turkey on 25 October."
    )
    people = {p.name: p for p in extract(text, today=TODAY).people}
    hassan = people["Hassan Osman al-Tayeb"]
    assert (hassan.status_code, hassan.status_on.value) == ("released", "1998-04-11")
    # "on 25 October" belongs to the flight, not to the sentence.
    assert people["Akhtem Chiygoz"].status_on.value is None
