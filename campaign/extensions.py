"""Flask extensions, created unbound here and bound in create_app."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_smorest.error_handler import ErrorSchema
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from marshmallow import fields
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so that Alembic revisions name what they create.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()  # bound by campaign.i18n.init_app


class ApiErrorSchema(ErrorSchema):
    """The documented error body: flask-smorest's, plus the field at fault."""

    field = fields.String(metadata={"description": "The input field at fault"})


class CampaignApi(Api):
    """flask-smorest, with errors that always carry a message and the field."""

    ERROR_SCHEMA = ApiErrorSchema

    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        errors = payload.get("errors") or {}
        for location in ("json", "query", "form", "files"):
            fields = errors.get(location)
            if isinstance(fields, dict) and fields:
                field, messages = next(iter(fields.items()))
                text = messages[0] if isinstance(messages, list) and messages else str(messages)
                payload.setdefault("message", f"{field}: {text}")
                payload.setdefault("field", field)
                break
        payload.setdefault("message", getattr(error, "description", None) or payload["status"])
        return payload, code, headers


api = CampaignApi()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def celery_init_app(app: Flask) -> Celery:
    """Celery wired the Flask way: every task runs inside an app context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            # One commit point per task, as per request: tasks' services flush.
            with app.app_context():
                try:
                    result = self.run(*args, **kwargs)
                    db.session.commit()
                    return result
                except BaseException:
                    db.session.rollback()
                    raise

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    celery_app.flask_app = app  # for signal handlers that run outside any task
    app.extensions["celery"] = celery_app
    return celery_app
