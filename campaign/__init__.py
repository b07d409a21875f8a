"""The Urgent Action campaign manager: create_app builds the Flask app."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

from campaign import config as settings
from campaign import i18n
from campaign.api import register as register_api
from campaign.auth.services import check_hash_profile, load_session_user, user_for_token
from campaign.cli import register as register_cli
from campaign.core import db as core_db
from campaign.core import logs, metrics, requestguard
from campaign.core.errorpages import STAFF, STAFF_EXPIRED, render_error
from campaign.core.errors import NotFound
from campaign.core.roles import token_user_loader
from campaign.core.templating import register as register_templating
from campaign.core.urls import IdConverter
from campaign.domains import DOMAINS, domain_module
from campaign.extensions import api as rest_api
from campaign.extensions import celery_init_app, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.url_map.converters["int"] = IdConverter
    app.config.update(settings.from_environment())
    app.config.update(overrides or {})
    app.instance_path = app.config["INSTANCE_PATH"]
    check_hash_profile(app.config["PASSWORD_HASH_PROFILE"])  # a wrong name stops the start
    if proxies := app.config["PROXY_COUNT"]:
        # The client's address (what the rate limits key on) and scheme as the
        # proxies saw them; only the entries the trusted proxies appended count.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to see this page."
    login_manager.session_protection = "basic"
    celery_init_app(app)
    i18n.init_app(app)
    _register_models()
    _register_blueprints(app)
    _register_errors(app)

    requestguard.register(app)  # NUL and other unstorable characters: 400 before any view
    logs.init_app(app)  # JSON lines with a request id (LOG_FORMAT)
    metrics.init_app(app)  # Prometheus: /metrics and the request histogram
    app.after_request(core_db.commit_or_rollback)
    app.after_request(_security_headers)

    register_cli(app)
    register_templating(app)
    return app


def _register_models() -> None:
    # Import every domain's models, tasks and hooks so that metadata (and
    # Alembic) and Celery see them all, and the layers below hear what each
    # domain contributes (dashboard panels, metrics, signal receivers).
    for domain in DOMAINS:
        domain_module(domain, "models")
        domain_module(domain, "tasks")
        domain_module(domain, "hooks")


def _register_blueprints(app: Flask) -> None:
    login_manager.user_loader(load_session_user)
    token_user_loader(app, user_for_token)
    for domain in DOMAINS:
        views = domain_module(domain, "views")
        if views is not None:
            app.register_blueprint(views.bp)

    rest_api.init_app(app)
    register_api(app, rest_api, [domain_module(d, "api") for d in DOMAINS])


def _register_errors(app: Flask) -> None:
    def handler(error):
        code = getattr(error, "code", 500) or 500
        expired = code == 400 and getattr(error, "description", "").startswith("The CSRF")
        if request.path.startswith("/api/"):
            title, text = STAFF_EXPIRED if expired else STAFF.get(code, ("Error", ""))
            return jsonify({"code": code, "status": title, "message": text}), code
        return render_error(code, expired=expired)

    for code in STAFF:
        app.register_error_handler(code, handler)

    # A service's NotFound, wherever a view lets it through, is the 404 page
    # (the supporter's or the staff one) or, under /api/, a JSON 404 naming
    # what was not found. (Other refusals: campaign.api's ServiceError handler.)
    def not_found(error: NotFound):
        if request.path.startswith("/api/"):
            body = {"code": 404, "status": STAFF[404][0], "message": error.message}
            if error.field:
                body["field"] = error.field
            return jsonify(body), 404
        return render_error(404)

    app.register_error_handler(NotFound, not_found)


def _security_headers(response):
    if current_app.config["SESSION_COOKIE_SECURE"]:  # served over https
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    return response
