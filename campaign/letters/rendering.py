"""Rendering staff-written letters safely: a fixed set of placeholders, in Jinja2's sandbox.

Letter text is untrusted (any campaigner can write it), so it is checked when
saved and rendered in a ``SandboxedEnvironment`` that knows only the
placeholders below, a few harmless filters and no globals. The check refuses
at save time what would fail or be unsafe at send time: a syntax error, an
unknown placeholder, or any construct beyond placeholders and simple
``{% if %}`` blocks (attribute access, calls, loops, includes), with its line.

Two outputs: plain text (emails' text part, mailto bodies, print packs) and
HTML, where autoescaping is on and the staff's own literal text is escaped
too (autoescape alone trusts template text, which here is untrusted).
"""

from __future__ import annotations

import re
import traceback
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.ext import Extension
from jinja2.lexer import Token
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from campaign.core.errors import ServiceError, ValidationError

PLACEHOLDERS = {
    "first_name": "The supporter's first name",
    "last_name": "The supporter's last name",
    "supporter_name": "The supporter's full name",
    "city": "The supporter's town or city",
    "country": "The supporter's country, in the letter's language",
    "target_name": "The official's name",
    "target_title": "The official's title, e.g. Prosecutor General",
    "target_organisation": "The official's organisation",
    "salutation": "How to address the official, e.g. Dear Prosecutor General",
    "case_label": "The UA number, e.g. UA 205/16",
    "people": "The names of the people at risk, joined in the letter's language",
    "date": "Today's date in the letter's language",
}
ALLOWED_FILTERS = ("upper", "lower", "title", "capitalize", "trim", "default", "d")
ALLOWED_TESTS = ("defined", "undefined", "none", "string")
# Everything a letter needs: text, placeholders, conditions, filters.
ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.Filter,
    nodes.Test,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Concat,
)
FORBIDDEN = {
    nodes.Getattr: "reading an attribute (“.”)",
    nodes.Getitem: "reading an item (“[ ]”)",
    nodes.Call: "calling a function",
    nodes.For: "a loop",
    nodes.Assign: "setting a variable",
    nodes.AssignBlock: "setting a variable",
    nodes.Macro: "a macro",
    nodes.Include: "including a template",
    nodes.Import: "importing a template",
    nodes.FromImport: "importing a template",
    nodes.Extends: "extending a template",
    nodes.Block: "a block",
}
MAX_SUBJECT = 300
MAX_BODY = 20_000


class LetterRenderError(ServiceError):
    """A stored letter that cannot be rendered (it was not saved through the checks)."""


class _EscapeTemplateText(Extension):
    """Escape the template's literal text at compile time (HTML output only)."""

    def filter_stream(self, stream):
        for token in stream:
            if token.type == "data":
                yield Token(token.lineno, "data", str(escape(token.value)))
            else:
                yield token


def _environment(html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        autoescape=html,
        undefined=StrictUndefined,
        extensions=[_EscapeTemplateText] if html else [],
        keep_trailing_newline=False,
    )
    env.filters = {name: env.filters[name] for name in ALLOWED_FILTERS}
    env.tests = {name: env.tests[name] for name in ALLOWED_TESTS}
    env.globals = {}
    return env


TEXT_ENV = _environment(html=False)
HTML_ENV = _environment(html=True)


@lru_cache(maxsize=512)
def _compile(source: str, html: bool):
    return (HTML_ENV if html else TEXT_ENV).from_string(source)


def render_text(source: str, values: dict) -> str:
    return tidy(_render(source, values, html=False))


# A line left holding only separators once its placeholders came out empty
# ("{{ city }}, {{ country }}" for a supporter who gave neither). A line of
# dots or dashes alone is left: staff type those ("-- ", ".") on purpose.
_ONLY_PUNCTUATION = re.compile(r"^[\s,;:.·\-–—/|()]*[,;:·–—/|][\s,;:.·\-–—/|()]*$")


def tidy(text: str) -> str:
    """Lines as paragraphs, not as typed: a line break inside a paragraph that
    continues a sentence (the next line starts in lower case) is a space, so a
    template wrapped at 80 columns reads as prose; breaks before a capital,
    a digit or a placeholder's value (addresses, the signature) stay. Lines
    left holding only punctuation go."""
    paragraphs = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line.rstrip() for line in block.split("\n")]
        lines = [line for line in lines if not _ONLY_PUNCTUATION.match(line)]
        kept: list[str] = []
        for line in lines:
            stripped = line.lstrip()
            if kept and kept[-1].strip() and stripped[:1].islower():
                kept[-1] = kept[-1].rstrip() + " " + stripped
            else:
                kept.append(line)
        paragraphs.append("\n".join(kept))
    return "\n\n".join(p for p in paragraphs if p.strip())


def render_html(source: str, values: dict) -> Markup:
    """The letter as HTML paragraphs; everything in it is escaped."""
    # The autoescaping sandbox escaped the values, and the extension the text.
    return paragraphs(Markup(tidy(_render(source, values, html=True))))  # noqa: S704


def paragraphs(text: Markup) -> Markup:
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n")]
    return Markup("").join(
        Markup('<p dir="auto">') + Markup("<br>\n").join(block.split("\n")) + Markup("</p>\n")
        for block in blocks
        if block
    )


def _render(source: str, values: dict, *, html: bool) -> str:
    try:
        return _compile(source, html).render(values)
    except (TemplateError, ArithmeticError, TypeError, ValueError) as error:
        line = _template_line(error)
        where = f"line {line}: " if line else ""
        raise LetterRenderError(f"The letter cannot be rendered ({where}{error}).") from error


# --- the checks at save time ------------------------------------------------


def check(source: str, field: str, sample_values: dict, allowed: dict | None = None) -> None:
    """Refuse, with the line and the reason, a text that would not render safely.

    Letters, mailings and outcome notices share this one syntax (``{{ name }}``
    and ``{% if %}``); ``allowed`` names the placeholders of the kind of text.
    """
    allowed = PLACEHOLDERS if allowed is None else allowed
    limit = MAX_SUBJECT if field == "subject" else MAX_BODY
    if len(source) > limit:
        raise ValidationError(f"Keep this under {limit:,} characters.", field)
    try:
        tree = TEXT_ENV.parse(source)
    except TemplateSyntaxError as error:
        raise ValidationError(
            f"Line {error.lineno}: {error.message.rstrip('.')}.", field
        ) from error
    _check_constructs(tree, field)
    _check_placeholders(tree, field, allowed)
    _check_single_braces(source, field, allowed)
    for html in (False, True):
        try:
            _render(source, sample_values, html=html)
        except LetterRenderError as error:
            raise ValidationError(error.message, field) from error


def _check_constructs(tree: nodes.Template, field: str) -> None:
    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            raise _refusal(node, f"unknown filter “{node.name}”", field)
        if isinstance(node, nodes.Test) and node.name not in ALLOWED_TESTS:
            raise _refusal(node, f"unknown test “{node.name}”", field)
        if not isinstance(node, ALLOWED_NODES):
            what = next(
                (text for kind, text in FORBIDDEN.items() if isinstance(node, kind)),
                f"“{type(node).__name__}”",
            )
            raise _refusal(node, f"{what} is not allowed in a letter; use placeholders", field)


def _check_placeholders(tree: nodes.Template, field: str, allowed: dict) -> None:
    # Every name, not only the undeclared ones: Jinja declares ``self``, ``loop`` and
    # friends itself, and ``{{ self }}`` reaches the template object.
    unknown = {node.name for node in tree.find_all(nodes.Name)} - allowed.keys()
    if not unknown:
        return
    first = min((n for n in tree.find_all(nodes.Name) if n.name in unknown), key=lambda n: n.lineno)
    raise _refusal(
        first,
        f"unknown placeholder {{{{ {first.name} }}}}; use one of "
        + ", ".join(f"{{{{ {name} }}}}" for name in allowed),
        field,
    )


# ``{name}`` (the outcome notices' old syntax, or Python's) would go out as typed.
_SINGLE = re.compile(r"(?<!\{)\{\s*([A-Za-z_]\w*)\s*\}(?!\})")


def _check_single_braces(source: str, field: str, allowed: dict) -> None:
    match = _SINGLE.search(source)
    if match:
        line = source.count("\n", 0, match.start()) + 1
        raise ValidationError(
            f"Line {line}: “{match.group(0)}” would be sent as typed; placeholders are written "
            f"{{{{ {match.group(1)} }}}}. Use one of "
            + ", ".join(f"{{{{ {name} }}}}" for name in allowed)
            + ".",
            field,
        )


def _refusal(node: nodes.Node, reason: str, field: str) -> ValidationError:
    return ValidationError(f"Line {node.lineno}: {reason}.", field)


def _template_line(error: BaseException) -> int | None:
    """The template line an error was raised at (Jinja maps its frames to it)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else getattr(error, "lineno", None)
