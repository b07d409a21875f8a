"""The app as gunicorn serves it in the load benchmark: production settings from the
environment, with one explicit change for the run.

The public forms are limited per client IP (``RATELIMIT_PUBLIC_FORMS``, default
"10 per minute;200 per day"). All load clients share 127.0.0.1, so under the
production limit almost every POST would be a 429 and the run would measure the
limiter, not the app. The bench raises that one limit, so that every request still
goes through the limiter (its Redis counter included) and none is refused.
Production defaults are untouched: this module is used only by bench/load/run.py.
"""

from campaign import create_app

BENCH_PUBLIC_FORMS_LIMIT = "1000000 per minute"

app = create_app({"RATELIMIT_PUBLIC_FORMS": BENCH_PUBLIC_FORMS_LIMIT})
