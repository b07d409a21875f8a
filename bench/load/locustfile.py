"""Locust clients of the load benchmark (bench/load/run.py starts them headless).

Each simulated client, in turn and without pause:
- fetches a static file from the same gunicorn (the baseline);
- opens the public case page of the UA;
- follows its "I sent my appeal" link from the appeal email (GET: the page with
  one button and its CSRF token) and taps the button (the signed POST that counts
  the action; repeats by the same supporter change nothing and answer the same).
Every answer other than the expected status counts as an error.
"""

from __future__ import annotations

import json
import os
import random
import re

from locust import HttpUser, task

SETUP = json.loads(os.environ["LOAD_SETUP"])
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Supporter(HttpUser):
    def on_start(self) -> None:
        self.token = random.choice(SETUP["tokens"])

    @task
    def static_file(self) -> None:
        with self.client.get(SETUP["static"], name="static file", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")

    @task
    def case_page(self) -> None:
        with self.client.get(SETUP["case_page"], name="case page", catch_response=True) as r:
            if r.status_code != 200 or "csrf_token" not in r.text:
                r.failure(f"status {r.status_code}")

    @task
    def took_action(self) -> None:
        path = f"/act/{self.token}"
        with self.client.get(path, name="action link (GET)", catch_response=True) as r:
            match = CSRF.search(r.text) if r.status_code == 200 else None
            if match is None:
                r.failure(f"status {r.status_code}, no form")
                return
        data = {"csrf_token": match.group(1), "channel": "email"}
        with self.client.post(path, data=data, name="I took action (POST)",
                              catch_response=True) as r:  # fmt: skip
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
