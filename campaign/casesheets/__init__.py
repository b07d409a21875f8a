"""Case-sheet import engine: turn an uploaded UA case sheet into a reviewable proposal.

Pure code, no database and no Flask: ``readers`` turns bytes (txt, html, docx, pdf)
into normalised text in paragraphs (``layout`` re-joins wrapped lines) and refuses
hostile files; ``extract`` reads that text
and proposes the fields of a case (UA number, kind, people, targets, ...), each with
the character spans it came from, so staff can check every value before saving.
"""

from campaign.casesheets.extract import Found, Person, Proposal, Target, extract, name_key
from campaign.casesheets.readers import DocumentError, ReadResult, read_document, read_text

__all__ = [
    "DocumentError",
    "Found",
    "Person",
    "Proposal",
    "ReadResult",
    "Target",
    "extract",
    "name_key",
    "read_document",
    "read_text",
]
