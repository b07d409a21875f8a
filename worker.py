"""The Celery entry point: ``celery -A worker worker`` and ``celery -A worker beat``.

Celery looks for ``app`` and then ``celery`` in this module, so the Flask app
must not be called ``app`` here.

Logging: create_app configures it (campaign/core/logs.py, ``LOG_FORMAT``) and
answers Celery's ``setup_logging`` signal, so worker and beat keep the same
JSON lines as the web, with the task name and id on each line of a task.
"""

from campaign import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
