"""Refuse requests carrying characters no text field may hold, before any view runs.

PostgreSQL ``text`` cannot store NUL (``\\x00``): psycopg raises DataError, so a
NUL in a name, a filter or a JSON value would surface as a 500 deep inside a
view. A lone UTF-16 surrogate (JSON ``"\\ud800"``) cannot even be encoded for
the database. One check here covers every form, query string, JSON body and
path; uploaded files (CSV, PDF) are not form values and are not looked at.
"""

from __future__ import annotations

import re

from flask import Flask, jsonify, request

from campaign.core.errorpages import PUBLIC_BAD_CHARACTER, render_error

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
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
    if hostile_field() is None:
        return None
    if request.path.startswith("/api/"):
        return jsonify({"code": 400, "status": "Bad request", "message": MESSAGE}), 400

    return render_error(400, staff_text=MESSAGE, public_text=PUBLIC_BAD_CHARACTER)


def register(app: Flask) -> None:
    # First of all hooks: before CSRF checks, logins and views read any value.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_hostile_characters)
