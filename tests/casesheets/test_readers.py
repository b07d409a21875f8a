"""Readers: each format round-trips a known text; each hostile file is a DocumentError."""

from __future__ import annotations

import io
import signal
import zipfile

import pytest

from campaign.casesheets.readers import (
    MAX_PDF_PAGES,
    DocumentError,
    read_document,
    read_text,
)

KNOWN = "This is the third update of UA 205/16. Akhtem Chiygoz’s release was welcomed."


@pytest.fixture(autouse=True)
def hang_guard():
    """Not a timing assert: only stops a hostile file from hanging the suite."""
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _timeout(signum, frame):
    raise TimeoutError("reader hung")


def refused(data: bytes, filename: str, *words: str, **kwargs) -> str:
    with pytest.raises(DocumentError) as info:
        read_document(data, filename, **kwargs)
    message = info.value.message
    for word in words:
        assert word.lower() in message.lower(), message
    return message


# --- builders -----------------------------------------------------------------------


def make_docx(paragraphs=(KNOWN,), table=None, bullets=()) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    for text in bullets:
        document.add_paragraph(text, style="List Bullet")
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
        document.add_paragraph("After the table.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def rewrite_docx(data: bytes, replace: dict[str, bytes] | None = None, add=None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = (replace or {}).get(info.filename, source.read(info))
            target.writestr(info.filename, blob)
        for name, blob in (add or {}).items():
            target.writestr(name, blob)
    return out.getvalue()


def make_pdf(pages=(KNOWN,), encrypt: str | None = None) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt=encrypt)
    for text in pages:
        pdf.setFont("Helvetica", 10)
        pdf.drawString(50, 800, text.replace("’", "'"))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- plain text and pasted text ------------------------------------------------------------


def test_utf8_text_is_normalised_but_keeps_curly_quotes():
    data = "UA\u00a0205/16\r\nline two\rline three  \n".encode()
    result = read_document(data, "sheet.TXT")
    assert result.format == "text"
    assert result.text == "UA 205/16\nline two\nline three"
    assert read_document(KNOWN.encode(), "a.txt").text == KNOWN
    assert result.warnings == []


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf" + KNOWN.encode("utf-8"),
        b"\xff\xfe" + KNOWN.encode("utf-16-le"),
        b"\xfe\xff" + KNOWN.encode("utf-16-be"),
    ],
    ids=["utf-8-bom", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_text_with_bom(data):
    assert read_document(data, "sheet.txt").text == KNOWN


def test_cp1252_fallback_warns():
    data = "José’s appeal – café".encode("cp1252")
    result = read_document(data, "sheet.txt")
    assert result.text == "José’s appeal – café"
    assert "Windows-1252" in result.warnings[0]


def test_read_text_normalises_pasted_text():
    result = read_text("  \r\nUA 205/16\u00a0text\u200b\r\n\r\n\r\n\r\nend\t\n")
    assert result.format == "pasted"
    assert result.text == "UA 205/16 text\n\nend"


def test_read_text_refuses_blank():
    with pytest.raises(DocumentError, match="no text"):
        read_text(" \n\t ")


# --- HTML ----------------------------------------------------------------------------------

PAGE = b"""<!DOCTYPE html><html><head><title>T</title>
<style>p { color: red }</style><script>var secret = "UA 999/99";</script></head>
<body><nav><a href="/">Home</a> Menu</nav>
<h1>Urgent Action</h1><p>First&nbsp;paragraph
spread over source lines.</p>
<p>Further information: <a href="https://www.amnesty.org/en/documents/eur50/7271/2017/en/">here</a>
and <a href="mailto:office@example.org">office@example.org</a> and <a href="#top">top</a></p>
<ul><li>one</li>
<li>two</li></ul>
<table><tr><td>Prosecutor General</td><td>Moscow</td></tr></table>
<p>Line<br>break</p></body></html>"""


def test_html_drops_scripts_styles_and_nav_and_keeps_structure():
    result = read_document(PAGE, "page.html")
    assert result.format == "html"
    assert result.text.split("\n") == [
        "Urgent Action",
        "",
        "First paragraph spread over source lines.",
        "",
        "Further information: here (https://www.amnesty.org/en/documents/eur50/7271/2017/en/)"
        " and office@example.org and top",
        "",
        "- one",
        "- two",
        "",
        "Prosecutor General",
        "Moscow",
        "",
        "Line",
        "break",
    ]
    for hidden in ("secret", "UA 999", "color", "Home", "Menu"):
        assert hidden not in result.text


def test_html_charset_from_meta():
    page = '<meta charset="windows-1251"><p>Умеров</p>'.encode("cp1251")
    assert read_document(page, "p.htm").text == "Умеров"


def test_deeply_nested_html_does_not_crash():
    page = b"<div>" * 20000 + b"deep text" + b"</div>" * 20000
    assert read_document(page, "deep.html").text == "deep text"


# --- DOCX ----------------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_bullets_in_order():
    data = make_docx(
        paragraphs=["URGENT ACTION", KNOWN],
        bullets=["calling for release"],
        table=[["Prosecutor General", "Fax: +7 495 987 58 41"], ["Moscow", ""]],
    )
    result = read_document(data, "sheet.docx")
    assert result.format == "docx"
    # Word spaces its paragraphs: each is a block of its own (a blank line apart).
    assert result.text.split("\n") == [
        "URGENT ACTION",
        "",
        KNOWN,
        "",
        "- calling for release",
        "",
        "Prosecutor General",
        "Fax: +7 495 987 58 41",
        "",
        "Moscow",
        "",
        "After the table.",
    ]


def test_docx_that_is_not_a_zip():
    refused(b"just some text pretending", "sheet.docx", "not a valid .docx")


def test_truncated_docx():
    data = make_docx()
    refused(data[: len(data) // 2], "sheet.docx", "damaged")


def test_zip_without_word_document():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    refused(out.getvalue(), "sheet.docx", "not a Word document")


def test_docx_zip_bomb_is_refused_before_inflating():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(200):
                member.write(chunk)
    data = out.getvalue()
    assert len(data) < 1024 * 1024  # 200 MB of zeros packs into ~200 KB
    refused(data, "bomb.docx", "zip bomb")


def test_docx_member_under_the_size_caps_but_compressed_like_a_bomb():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/media/image1.png", b"\0" * (30 * 1024 * 1024))
    refused(out.getvalue(), "bomb.docx", "compressed suspiciously")


def test_docx_with_many_small_members_over_the_total_cap():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for index in range(2000):
            archive.writestr(f"word/media/{index}.bin", b"x")
    refused(out.getvalue(), "parts.docx", "too many parts")


def test_docm_extension_is_refused():
    refused(make_docx(), "sheet.docm", "macro")


def test_docx_with_vba_project_is_refused():
    data = rewrite_docx(make_docx(), add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})
    refused(data, "sheet.docx", "macros")


def test_docx_with_macro_enabled_content_type_is_refused():
    source = zipfile.ZipFile(io.BytesIO(make_docx()))
    types = source.read("[Content_Types].xml").replace(
        b"document.main+xml", b"document.macroEnabled.main+xml"
    )
    data = rewrite_docx(make_docx(), replace={"[Content_Types].xml": types})
    refused(data, "sheet.docx", "macro")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"])
def test_docx_with_entity_declarations_is_refused(xml):
    data = rewrite_docx(make_docx(), replace={"word/document.xml": xml})
    refused(data, "sheet.docx", "entity")


def test_python_docx_parser_does_not_expand_entities_either():
    """Defence in depth: the parser under our DTD check also leaves entities alone."""
    from docx.oxml.parser import oxml_parser
    from lxml import etree

    root = etree.fromstring(EXTERNAL_ENTITY, oxml_parser)
    assert "root:" not in "".join(root.itertext())


# --- PDF -----------------------------------------------------------------------------------


def test_pdf_text_of_all_pages():
    result = read_document(
        make_pdf(pages=["Page one: UA 205/16", "Page two: EUR 50/7271/2017"]), "a.pdf"
    )
    assert result.format == "pdf"
    assert "Page one: UA 205/16" in result.text
    assert "Page two: EUR 50/7271/2017" in result.text
    assert result.text.index("Page one") < result.text.index("Page two")


def test_pdf_without_header():
    refused(b"<html>not a pdf</html>", "a.pdf", "not a valid PDF")


def test_truncated_pdf():
    data = make_pdf()
    refused(data[: len(data) // 2], "a.pdf", "truncated")


def test_damaged_pdf_with_header_and_eof_marker():
    refused(b"%PDF-1.4\n1 0 obj << /Type /Catalog broken\n%%EOF\n", "a.pdf")


def test_encrypted_pdf_is_refused():
    refused(make_pdf(encrypt="secret"), "a.pdf", "encrypted")


def test_pdf_with_too_many_pages():
    data = make_pdf(pages=[f"page {n}" for n in range(MAX_PDF_PAGES + 1)])
    refused(data, "big.pdf", f"{MAX_PDF_PAGES + 1} pages")


def test_pdf_without_text_layer():
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.rect(10, 10, 100, 100)
    pdf.showPage()
    pdf.save()
    refused(buffer.getvalue(), "scan.pdf", "no text layer")


# --- size, type and content checks for every format ----------------------------------------


@pytest.mark.parametrize("name", ["a.txt", "a.html", "a.docx", "a.pdf"])
def test_empty_file(name):
    refused(b"", name, "empty")


def test_oversize_file_is_refused_before_parsing():
    refused(b"x" * 101, "a.txt", "too large", max_bytes=100)


def test_default_limit_is_ten_megabytes():
    refused(b"x" * (10 * 1024 * 1024 + 1), "a.txt", "too large")


@pytest.mark.parametrize(
    ("name", "word"),
    [("a.exe", ".exe"), ("noextension", "(none)"), ("a.doc", ".doc files"), ("a.rtf", "RTF")],
)
def test_unsupported_extensions(name, word):
    refused(b"data", name, word)


@pytest.mark.parametrize(
    ("data", "name", "word"),
    [
        (b"%PDF-1.7 rest", "a.txt", "PDF"),
        (b"PK\x03\x04rest", "a.html", "zip"),
        (b"text\x00\x01\x02binary", "a.txt", "binary"),
    ],
)
def test_content_that_does_not_match_the_extension(data, name, word):
    refused(data, name, word)


def test_html_with_no_text():
    refused(b"<html><script>x()</script></html>", "a.html", "no text")


def test_docx_address_lines_without_spacing_stay_one_block():
    import docx
    from docx.shared import Pt

    document = docx.Document()
    document.add_paragraph("Write to the Minister of Justice:")
    for line in ("Minister of Justice", "Ministry of Justice", "Email: m@example.org"):
        document.add_paragraph(line).paragraph_format.space_after = Pt(0)
    document.add_heading("Background", level=2)
    document.add_paragraph("The ministry has not replied.")
    buffer = io.BytesIO()
    document.save(buffer)
    text = read_document(buffer.getvalue(), "sheet.docx").text
    assert text.split("\n\n") == [
        "Write to the Minister of Justice:",
        "Minister of Justice\nMinistry of Justice\nEmail: m@example.org",
        "Background",
        "The ministry has not replied.",
    ]
