"""Write each corpus sheet in the four formats staff receive: .txt, .html, .docx, .pdf.

Run from the repository root: ``.venv/bin/python tests/casesheets/corpus/make_corpus.py``.
The generated files are committed, so the tests need neither this script nor
LibreOffice; rerun it after editing a ``source.txt``.

A sheet's folder holds ``source.txt`` (what was written), ``expected.yaml`` (the
fields a reader should find, written before the extractor was tuned) and the four
generated files ``sheet.*``. The source is plain text in blocks separated by blank
lines: ``# `` starts a heading, lines starting ``- `` are list items, a single line
is a paragraph, and several short lines together (an address, a header) stay lines.
Lines starting ``%% key: value`` at the top set how the sheet is laid out:

- ``wrap``: the .txt is hard-wrapped at this width (e-mailed sheets of the 1990s
  and 2000s were), else one line per paragraph;
- ``columns``: 2 lays the PDF out in two columns;
- ``header`` / ``footer``: running lines on every PDF page (the page number is
  added to the footer), as on printed sheets;
- ``docx_headings``: "yes" gives the .docx Word heading styles, else bold lines;
- ``docx_breaks``: "yes" writes an address block as one Word paragraph with line
  breaks, else one paragraph a line;
- ``lang``: the page language of the HTML.
"""

from __future__ import annotations

import html
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


@dataclass
class Block:
    kind: str  # "heading", "para", "list", "lines"
    lines: list[str]


@dataclass
class Sheet:
    name: str
    options: dict[str, str] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


def parse(path: Path) -> Sheet:
    sheet = Sheet(path.parent.name)
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("%% ") and not body:
            key, _, value = line[3:].partition(":")
            sheet.options[key.strip()] = value.strip()
        else:
            body.append(line.rstrip())
    for chunk in "\n".join(body).strip("\n").split("\n\n"):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if len(lines) == 1 and lines[0].startswith("# "):
            sheet.blocks.append(Block("heading", [lines[0][2:]]))
        elif all(line.startswith("- ") for line in lines):
            sheet.blocks.append(Block("list", [line[2:] for line in lines]))
        elif len(lines) == 1:
            sheet.blocks.append(Block("para", lines))
        else:
            # Seeds put a header and prose paragraphs on consecutive lines: a long line
            # is a paragraph of its own, runs of short lines stay together.
            group: list[str] = []
            for line in lines:
                if len(line) > 100:
                    if group:
                        sheet.blocks.append(Block("lines", group))
                        group = []
                    sheet.blocks.append(Block("para", [line]))
                else:
                    group.append(line)
            if group:
                sheet.blocks.append(Block("lines", group))
    return sheet


# --- .txt --------------------------------------------------------------------------


def to_txt(sheet: Sheet) -> str:
    width = int(sheet.options.get("wrap") or 0)
    out = []
    for block in sheet.blocks:
        if block.kind == "para" and width:
            out.append(textwrap.fill(block.lines[0], width, break_on_hyphens=False))
        elif block.kind == "list":
            items = [
                textwrap.fill(f"- {item}", width, subsequent_indent="  ", break_on_hyphens=False)
                if width
                else f"- {item}"
                for item in block.lines
            ]
            out.append("\n".join(items))
        else:
            out.append("\n".join(block.lines))
    return "\n\n".join(out) + "\n"


# --- .html -------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title} | Amnesty International</title>
<style>body {{ font-family: sans-serif; }} .cookie {{ position: fixed; }}</style>
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"page": "ua"}});</script>
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header>
<p class="brand">Amnesty International</p>
<nav aria-label="Main"><ul>
<li><a href="/en/">Home</a></li><li><a href="/en/what-we-do/">What we do</a></li>
<li><a href="/en/get-involved/take-action/">Take action</a></li>
<li><a href="/en/latest/">Latest news</a></li><li><a href="/en/donate/">Donate</a></li>
</ul></nav>
<form role="search" action="/en/search/"><input name="q"><button>Search</button></form>
</header>
<main id="main">
<article>
{body}
</article>
<aside><h2>Related content</h2>
<ul><li><a href="/en/latest/news/">Sign up for our newsletter</a></li></ul></aside>
</main>
<footer>
<nav aria-label="Footer"><a href="/en/about/">About us</a> <a href="/en/privacy/">Privacy</a>
<a href="/en/contact/">Contact us</a></nav>
<p>&copy; Amnesty International. All rights reserved.</p>
</footer>
<div class="cookie"><p>We use cookies to improve your experience.</p><button>Accept</button></div>
</body>
</html>
"""


def to_html(sheet: Sheet) -> str:
    parts = []
    first_heading = True
    for block in sheet.blocks:
        esc = [html.escape(line, quote=False) for line in block.lines]
        if block.kind == "heading":
            tag = "h1" if first_heading else "h2"
            first_heading = False
            parts.append(f"<{tag}>{esc[0]}</{tag}>")
        elif block.kind == "para":
            parts.append(f"<p>{esc[0]}</p>")
        elif block.kind == "list":
            parts.append("<ul>\n" + "\n".join(f"<li>{item}</li>" for item in esc) + "\n</ul>")
        else:
            parts.append("<p>" + "<br>\n".join(esc) + "</p>")
    title = next((b.lines[0] for b in sheet.blocks if b.kind != "list"), sheet.name)
    return PAGE.format(
        lang=sheet.options.get("lang", "en"),
        title=html.escape(title[:80]),
        body="\n".join(parts),
    )


# --- .docx -------------------------------------------------------------------------


def to_docx(sheet: Sheet, path: Path) -> None:
    import docx
    from docx.shared import Pt

    document = docx.Document()
    document.core_properties.author = "Amnesty International"
    headings = sheet.options.get("docx_headings") == "yes"
    breaks = sheet.options.get("docx_breaks") == "yes"
    header = sheet.options.get("header")
    if header:
        document.sections[0].header.paragraphs[0].text = header
    for block in sheet.blocks:
        if block.kind == "heading":
            if headings:
                document.add_heading(block.lines[0], level=2)
            else:
                document.add_paragraph().add_run(block.lines[0]).bold = True
        elif block.kind == "para":
            document.add_paragraph(block.lines[0])
        elif block.kind == "list":
            for item in block.lines:
                document.add_paragraph(item, style="List Bullet")
        elif breaks:
            paragraph = document.add_paragraph()
            for index, line in enumerate(block.lines):
                run = paragraph.add_run(line)
                if index < len(block.lines) - 1:
                    run.add_break()
        else:
            for line in block.lines:
                paragraph = document.add_paragraph(line)
                paragraph.paragraph_format.space_after = Pt(0)
    document.save(path)


# --- .pdf --------------------------------------------------------------------------


def to_pdf(sheet: Sheet, path: Path) -> None:
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

    rl_config.invariant = 1  # no timestamps: regenerating gives the same bytes
    pdfmetrics.registerFont(TTFont("DejaVu", FONT))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", FONT_BOLD))
    body = ParagraphStyle("body", fontName="DejaVu", fontSize=9.5, leading=12, spaceAfter=6)
    tight = ParagraphStyle("tight", parent=body, spaceAfter=6)
    heading = ParagraphStyle(
        "heading", parent=body, fontName="DejaVu-Bold", fontSize=10.5, spaceBefore=4
    )
    bullet = ParagraphStyle("bullet", parent=body, leftIndent=12, bulletIndent=2, spaceAfter=3)
    columns = int(sheet.options.get("columns") or 1)
    header = sheet.options.get("header", "")
    footer = sheet.options.get("footer", "")

    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont("DejaVu", 8)
        if header:
            canvas.drawString(20 * mm, A4[1] - 12 * mm, header)
        bottom = f"{footer}    Page {doc.page}" if footer else f"{doc.page}"
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, bottom)
        canvas.restoreState()

    width = (A4[0] - 40 * mm - (columns - 1) * 8 * mm) / columns
    frames = [
        Frame(20 * mm + i * (width + 8 * mm), 18 * mm, width, A4[1] - 36 * mm, id=f"c{i}")
        for i in range(columns)
    ]
    doc = BaseDocTemplate(
        str(path),
        pagesize=A4,
        title=sheet.name,
        author="Amnesty International",
        pageTemplates=[PageTemplate(frames=frames, onPage=decorate)],
    )
    story = []
    for block in sheet.blocks:
        esc = [html.escape(line, quote=False) for line in block.lines]
        if block.kind == "heading":
            story.append(Paragraph(esc[0], heading))
        elif block.kind == "para":
            story.append(Paragraph(esc[0], body))
        elif block.kind == "list":
            story.extend(Paragraph(item, bullet, bulletText="•") for item in esc)
        else:
            story.append(Paragraph("<br/>".join(esc), tight))
    doc.build(story)


def main(names: list[str]) -> None:
    folders = sorted(p.parent for p in HERE.glob("*/source.txt"))
    for folder in folders:
        if names and folder.name not in names:
            continue
        sheet = parse(folder / "source.txt")
        (folder / "sheet.txt").write_text(to_txt(sheet), encoding="utf-8")
        (folder / "sheet.html").write_text(to_html(sheet), encoding="utf-8")
        to_docx(sheet, folder / "sheet.docx")
        to_pdf(sheet, folder / "sheet.pdf")
        print(folder.name)


if __name__ == "__main__":
    main(sys.argv[1:])
