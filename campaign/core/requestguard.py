"""Refuse requests carrying characters no text field may hold, before any view runs.

PostgreSQL ``text`` cannot store NUL (``\\x00``): psycopg raises DataError, so a
NUL in a name, a filter or a JSON value would surface as a 500 deep inside a
view. A lone UTF-16 surrogate (JSON ``"\\ud800"``) cannot even be encoded for
the database. One check here covers every form, query string, JSON body and
path; uploaded files (CSV, PDF) are not form values and are not looked at.
"""

from __future__ import annotations

import re
from itertools import accumulate

from flask import Flask, current_app, jsonify, request

from campaign.core.errorpages import PUBLIC, PUBLIC_BAD_CHARACTER, render_error

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
# Brackets inside JSON strings are not nesting: escapes, then strings, are dropped.
_JSON_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_JSON_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEP = [1 if byte in b"[{" else -1 for byte in range(256)]
DEPTH_MESSAGE = "The JSON body is nested too deeply (more than {limit} levels)."
NOT_A_FORM = "This page takes form data, not JSON: use the API under /api/v1."
MESSAGE = (
    "The request contains a NUL character (\\0) or an invalid character, which no "
    "field may hold. Remove it and send again."
)


def _strings(value):
    """Every string inside a JSON value, keys included, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def deeper_than(raw: bytes, limit: int) -> bool:
    """Whether arrays and objects in ``raw`` nest more than ``limit`` levels, found
    without parsing.

    Python's json parser recurses once per level and raises RecursionError (a
    500) on a body of a few thousand "[": this scan is linear, bounded by
    MAX_CONTENT_LENGTH, and runs before anything parses the body.
    """
    unescaped = _JSON_ESCAPE.sub(b"", raw)  # so that \" does not end a string
    brackets = _JSON_STRING.sub(b"", unescaped).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return False  # too few openers to be too deep: skip the walk
    return max(accumulate(map(_STEP.__getitem__, brackets))) > limit


def _json_to_a_form() -> bool:
    """A JSON body sent to a page's form: Flask-WTF would read it as the form and
    fail (a 500) unless it is a flat object, so the pages refuse JSON outright."""
    return (
        request.is_json
        and request.method in ("POST", "PUT", "PATCH", "DELETE")
        and not request.path.startswith("/api/")
    )


def too_deep() -> str | None:
    """The refusal for a JSON body nested deeper than JSON_MAX_DEPTH, or None."""
    if not request.is_json:
        return None
    limit = current_app.config["JSON_MAX_DEPTH"]
    if deeper_than(request.get_data(cache=True), limit):
        return DEPTH_MESSAGE.format(limit=limit)
    return None


def hostile_field() -> str | None:
    """Where the current request carries a forbidden character ('query', 'form'...), or None."""
    if _FORBIDDEN.search(request.path):
        return "path"
    for name, values in (("query", request.args), ("form", request.form)):
        for key, value in values.items(multi=True):
            if _FORBIDDEN.search(key) or _FORBIDDEN.search(value):
                return name
    if request.is_json:
        body = request.get_json(silent=True)
        if any(_FORBIDDEN.search(text) for text in _strings(body)):
            return "json"
    return None


def refuse_hostile_characters():
    """A before_request hook: 400 with a clear message, nothing else runs."""
    if _json_to_a_form():
        return render_error(415, staff_text=NOT_A_FORM, public_text=PUBLIC[400][1])
    if (deep := too_deep()) is not None:
        if request.path.startswith("/api/"):
            return jsonify({"code": 400, "status": "Bad request", "message": deep}), 400
        return render_error(400, staff_text=deep, public_text=PUBLIC[400][1])
    if hostile_field() is None:
        return None
    if request.path.startswith("/api/"):
        return jsonify({"code": 400, "status": "Bad request", "message": MESSAGE}), 400
    return render_error(400, staff_text=MESSAGE, public_text=PUBLIC_BAD_CHARACTER)


def register(app: Flask) -> None:
    # First of all hooks: before CSRF checks, logins and views read any value.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_hostile_characters)
