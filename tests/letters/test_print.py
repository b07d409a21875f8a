"""Print packs: PDFs checked for their text with pdftotext, in several scripts."""

import shutil
import subprocess
import unicodedata
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from campaign.letters import printing, services
from tests.services import unavailable

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


@pytest.fixture(autouse=True)
def _pdftotext():
    if shutil.which("pdftotext") is None:
        unavailable("pdftotext is not installed (Debian package poppler-utils)")


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60
    ).stdout.decode()
    # Drop bidi marks and normalise spaces (Babel uses narrow no-break spaces).
    out = "".join(c for c in out if unicodedata.category(c) != "Cf")
    return " ".join(out.replace("\u202f", " ").replace("\xa0", " ").split())


def pages(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(pdf)
    return len(PdfReader(path).pages)


@pytest.fixture
def sept_2019():
    import time_machine

    with time_machine.travel(datetime(2019, 9, 20, 12, tzinfo=UTC)):
        yield


def test_a_supporters_pack_has_their_name_and_each_targets_address(
    app, case, letters, make_supporter, tmp_path, sept_2019
):
    supporter = make_supporter(first_name="Анна", last_name="Иванова", language="ru")
    response = app.test_client().get(f"/act/{services.action_token(case, supporter)}/letters.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    assert "Анна Иванова" in text
    assert "ul. B. Dmitrovka, d.15a 125993 Moscow GSP-3" in text
    assert "Embassy of the Russian Federation 1 Embassy Road London" in text  # GB supporter
    assert "Berlin" not in text
    assert "20 сентября 2019 г." in text
    # Each target addressed in the letter's language: its own Russian salutation,
    # else the standard Russian one, never the English ones.
    assert "Уважаемый господин Генеральный прокурор" in text and "Уважаемые дамы" in text
    assert "Dear Prosecutor General" not in text and "Your Excellency" not in text
    assert "Призываю Вас немедленно" in text and "Подпись" in text
    assert pages(response.data, tmp_path) == 2  # one page per target


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ru", "Освободите узников совести"),
        ("ar", "أطلقوا سراح سجناء الرأي"),
        ("zh", "释放良心犯"),
    ],
)
def test_non_latin_scripts_print(app, case, db, tmp_path, language, words):
    services.save_letter(
        None,
        case,
        None,
        {"language": language, "subject": words, "body": f"{words}\n\n{{{{ date }}}}"},
    )
    db.session.commit()
    html = printing.pack_html(case, language=language, copies=1)
    text = pdf_text(printing.to_pdf(html), tmp_path)
    assert words in text
    if language == "ar":
        assert 'dir="rtl"' in html


def test_a_group_pack_has_n_blank_copies(app, case, letters, tmp_path, login):
    client = login("viewer")
    form = client.get(f"/cases/{case.id}/print")
    assert form.status_code == 200
    response = client.get(f"/cases/{case.id}/print?language=en&copies=3&country=DE")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert pages(response.data, tmp_path) == 6  # 3 copies × (prosecutor + embassy in Germany)
    text = pdf_text(response.data, tmp_path)
    assert text.count("Name: ") == 6 and "Jane" not in text
    assert text.count("Berlin") == 3 and "London" not in text
    refused = client.get(f"/cases/{case.id}/print?language=en&copies=500")
    assert refused.status_code == 422
