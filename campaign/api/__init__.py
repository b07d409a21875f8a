"""The JSON API under /api/v1: bearer-token auth, errors, registration.

Each domain keeps its endpoints and schemas in its own ``api.py``; this module
only mounts them, exempts them from CSRF (they take no cookies), and turns
service refusals into JSON that names the field.
"""

from __future__ import annotations

import functools

from flask import Flask, jsonify, render_template, request

from campaign.core.errors import ServiceError
from campaign.core.roles import public
from campaign.extensions import csrf


def register(app: Flask, api, modules) -> None:
    for module in modules:
        for blueprint in getattr(module, "blueprints", ()):
            csrf.exempt(blueprint)
            api.register_blueprint(blueprint)

    # The spec is public reading, as any API's documentation is. flask-smorest
    # registers a bound method, which takes no attributes: wrap it.

    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api-docs."):
            app.view_functions[endpoint] = public(
                functools.wraps(view)(lambda *a, _v=view, **k: _v(*a, **k))
            )

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        if request.path.startswith("/api/"):
            body = {"code": error.status, "message": error.message}
            if error.field:
                body["field"] = error.field
            return jsonify(body), error.status
        return render_template(
            "errors/error.html", code=error.status, title="Not done", text=error.message
        ), error.status
