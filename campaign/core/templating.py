"""Jinja filters and globals shared by the staff pages."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from markupsafe import Markup, escape

from campaign.core.roles import has_role
from campaign.i18n import country_name, language_name


def register(app: Flask) -> None:
    zone = ZoneInfo(app.config["ORG_TIMEZONE"])

    @app.template_filter("day")
    def day(value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(zone).date()
        return f"{value.day} {value:%B %Y}"

    @app.template_filter("moment")
    def moment(value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(zone)
        return f"{local.day} {local:%b %Y, %H:%M}"

    @app.template_filter("paragraphs")
    def paragraphs(text: str | None) -> Markup:
        """Plain text with blank lines as paragraphs, escaped."""
        blocks = [b.strip() for b in (text or "").replace("\r\n", "\n").split("\n\n")]
        html = Markup("")
        for block in blocks:
            if block:
                lines = [escape(line) for line in block.split("\n")]
                html += Markup("<p>") + Markup("<br>").join(lines) + Markup("</p>")
        return html

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["country"] = country_name
    app.jinja_env.filters["language"] = language_name
    app.jinja_env.globals["has_role"] = has_role
