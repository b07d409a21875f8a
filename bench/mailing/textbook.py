"""Baseline (b): the textbook Flask approach, one Celery task per email through Flask-Mail.

Run by run.py as ``celery -A bench.mailing.textbook worker``; each task builds
one message with Flask-Mail and sends it on a connection of its own, then
counts itself in Redis so that the benchmark knows when all are done.
"""

from __future__ import annotations

import os

import redis
from celery import Celery
from flask import Flask
from flask_mail import Mail, Message

flask_app = Flask(__name__)
flask_app.config.update(
    MAIL_SERVER=os.environ.get("BENCH_SMTP_HOST", "127.0.0.1"),
    MAIL_PORT=int(os.environ.get("BENCH_SMTP_PORT", "2525")),
    MAIL_DEFAULT_SENDER="ua@example.org",
)
mail = Mail(flask_app)
celery = Celery("textbook", broker=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
celery.conf.update(task_ignore_result=True, worker_prefetch_multiplier=4)
counter = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))


@celery.task(name="textbook.send_email")
def send_email(address: str, name: str, subject: str, text: str, html: str) -> None:
    with flask_app.app_context():
        message = Message(subject, recipients=[f"{name} <{address}>"], body=text, html=html)
        mail.send(message)
    counter.incr("textbook:sent")
