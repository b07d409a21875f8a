"""The Celery entry point: ``celery -A worker worker`` and ``celery -A worker beat``.

Celery looks for ``app`` and then ``celery`` in this module, so the Flask app
must not be called ``app`` here.
"""

from campaign import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
