"""Staff letters are untrusted: the sandbox, the save-time checks, escaping."""

import pytest

from campaign.core.errors import ValidationError
from campaign.letters import rendering
from campaign.letters.rendering import LetterRenderError, check, render_html, render_text

VALUES = {name: name.upper() for name in rendering.PLACEHOLDERS}


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        ("Dear {{ salutation }},\n\n{{ frist_name }}", 3, "unknown placeholder {{ frist_name }}"),
        ("Hello\n{% if city %}\nno end", 2, "Unexpected end of template"),
        ("{{ salutation }\n", 1, "unexpected '}'"),
        ("a\nb\n{{ city.__class__.__mro__ }}", 3, "reading an attribute"),
        ("{{ city['__class__'] }}", 1, "reading an item"),
        ("{{ lipsum() }}", 1, "calling a function"),
        ("x\n{% for p in people %}{{ p }}{% endfor %}", 2, "a loop"),
        ("{% set x = 1 %}", 1, "setting a variable"),
        ("{% include 'base.html' %}", 1, "including a template"),
        ("{% extends 'base.html' %}", 1, "extending a template"),
        ("{{ city|attr('__class__') }}", 1, "unknown filter “attr”"),
        ("{{ city|format('%s') }}", 1, "unknown filter “format”"),
        ("{{ cycler }}", 1, "unknown placeholder {{ cycler }}"),
        ("{{ config }}", 1, "unknown placeholder {{ config }}"),
        ("{{ 9 ** 99999999 }}", 1, "not allowed"),
    ],
)
def test_bad_templates_are_refused_with_line_and_reason(source, line, reason):
    with pytest.raises(ValidationError) as refused:
        check(source, "body", VALUES)
    assert refused.value.field == "body"
    assert refused.value.message.startswith(f"Line {line}: ")
    assert reason in refused.value.message


def test_good_templates_pass_the_checks():
    check(
        "{{ salutation }},\n{% if city %}{{ city|upper }}{% else %}-{% endif %} "
        "{{ first_name|default('friend') }} {{ case_label ~ '!' }}",
        "body",
        VALUES,
    )


def test_the_sandbox_blocks_escapes_even_in_text_that_skipped_the_checks():
    """A row written behind the service's back still cannot reach Python internals."""
    for source in (
        "{{ city.__class__.__mro__[1].__subclasses__() }}",
        "{{ city.format.__globals__ }}",
        "{{ (city.__class__.__base__.__subclasses__()) }}",
    ):
        with pytest.raises(LetterRenderError, match=r"unsafe|undefined"):
            render_text(source, VALUES)
    with pytest.raises(LetterRenderError, match="undefined"):
        render_text("{{ range(10) }}", VALUES)  # no globals at all


def test_values_are_text_never_template_code():
    values = {**VALUES, "first_name": "{{ 7*7 }}{% for %}"}
    assert render_text("Hi {{ first_name }}", values) == "Hi {{ 7*7 }}{% for %}"


def test_html_output_escapes_values_and_the_staff_text_itself():
    values = {**VALUES, "first_name": "<img src=x onerror=alert(1)>"}
    html = render_html('<script>alert("staff")</script>\n\n{{ first_name }} & co', values)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;staff&#34;)&lt;/script&gt;" in html
    assert '<p dir="auto">&lt;img src=x onerror=alert(1)&gt; &amp; co</p>' in html
    # Plain text stays as typed: it is escaped wherever it is put into HTML.
    assert render_text("<b>{{ first_name }}</b>", values) == f"<b>{values['first_name']}</b>"


def test_subjects_and_bodies_have_length_limits():
    with pytest.raises(ValidationError, match="under 300"):
        check("x" * 301, "subject", VALUES)
    with pytest.raises(ValidationError, match="under 20,000"):
        check("x" * 20_001, "body", VALUES)
