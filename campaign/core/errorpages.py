"""Error pages: staff pages get the English errors/error.html (with the way back
to the staff login); supporter pages (campaign.i18n.on_supporter_page) get
public/error.html in the supporter's language, without it."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext

from campaign import i18n

N_ = i18n.N_

STAFF = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    401: ("Login needed", "This needs a valid login or API token."),
    403: ("Not allowed", "Your role does not allow this. Ask an admin if you need it."),
    404: ("Not found", "There is nothing here. It may have been removed."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "What you sent is too large (a form, JSON body or upload over the limit)."),
    429: ("Too many requests", "Too many attempts. Wait a minute and try again."),
    500: ("Something went wrong", "The error has been logged. Nothing was saved."),
}
STAFF_EXPIRED = (
    "Form expired",
    "The form was sent without a valid security token (it may have expired). "
    "Reload the page and send it again.",
)

# What supporters read (translated in the catalogues); other codes read as 500.
PUBLIC = {
    400: (N_("Bad request"), N_("The request could not be understood. Go back and try again.")),
    404: (
        N_("Page not found"),
        N_("There is nothing at this address. The link may be incomplete, or the page removed."),
    ),
    405: (N_("Bad request"), N_("The request could not be understood. Go back and try again.")),
    413: (
        N_("Too large"),
        N_("What you sent is too large. Shorten it, or send a smaller file, and try again."),
    ),
    429: (N_("Too many requests"), N_("Too many attempts. Wait a few minutes and try again.")),
    500: (N_("Something went wrong"), N_("Nothing was saved. Please try again later.")),
}
# campaign.core.requestguard: a value no field may hold.
PUBLIC_BAD_CHARACTER = N_(
    "The form contains a NUL character or another character that no field may hold. "
    "Remove it and send the form again."
)
PUBLIC_EXPIRED = (
    N_("The form expired"),
    N_("The form was open too long. Go back, reload the page and send it again."),
)


def render_error(
    code: int,
    *,
    expired: bool = False,
    staff_text: str | None = None,
    public_text: str | None = None,
):
    """The error page for this request, and its status (``staff_text`` and
    ``public_text``, untranslated, replace the usual explanation).

    Nothing here may read the request body: for a 413 reading it raises 413
    again, a 500 (campaign.i18n reads the posted language defensively)."""
    if i18n.on_supporter_page():
        title, text = PUBLIC_EXPIRED if expired else PUBLIC.get(code, PUBLIC[500])
        text = public_text or text
        page = render_template(
            "public/error.html", code=code, title=gettext(title), text=gettext(text)
        )
        return page, code
    title, text = STAFF_EXPIRED if expired else STAFF.get(code, ("Error", ""))
    page = render_template("errors/error.html", code=code, title=title, text=staff_text or text)
    return page, code
