"""Browser tests: the app served on loopback, driven by Playwright in Debian's Chromium.

Playwright never downloads a browser here: it drives Debian's
/usr/bin/chromium-headless-shell (the package scripts/test installs in CI), or
/usr/bin/chromium where only that is installed. Each test can run axe-core
inside the page, and fails on any error in the browser console. With
``--screenshots`` (``scripts/test --screenshots tests/e2e``), the tests also save
screenshots at desktop and phone widths under test-artifacts/screenshots/, for
people to look at: nothing asserts on them, and a run without them (the default,
and CI, which keeps no artifacts) spends about a third less of the browser's CPU.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.services import free_port, unavailable

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def chromium_path() -> str | None:
    """$CHROMIUM, else Debian's old headless shell (the same Blink as the browser,
    without its user interface: a third less CPU in these tests), else Chromium."""
    return (
        os.environ.get("CHROMIUM")
        or shutil.which("chromium-headless-shell")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@pytest.fixture
def app_config(app_config, tmp_path):
    port = free_port()
    return {
        **app_config,
        "SERVER_NAME": None,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "LIVE_PORT": port,
    }


def _closing(app):
    """The app, its responses closed even when the browser drops the connection midway.

    werkzeug's development server stops writing a response whose connection the client
    dropped (Chromium leaving a page while a static file still loads) without closing
    it: the file was then collected open, and the ResourceWarning failed whichever test
    ran at that moment. A generator's ``finally`` runs when it is collected.
    """

    def wsgi(environ, start_response):
        response = app(environ, start_response)
        try:
            yield from response
        finally:
            if hasattr(response, "close"):
                response.close()

    return wsgi


@pytest.fixture
def live_server(app, db):
    """The app on a free loopback port, in a thread, for the duration of a test."""
    db.session.commit()  # end this thread's transaction: SQLite would hold its lock
    server = make_server("127.0.0.1", app.config["LIVE_PORT"], _closing(app), threaded=True)
    # werkzeug makes its request threads daemons, which socketserver never joins: a
    # request the browser started as its tab closed (a stylesheet, a preview) then ran
    # on into the next test, logging there, or reading a database being emptied.
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app.config["BASE_URL"]
    server.shutdown()
    server.server_close()  # joins the request threads (the tab is closed: no keep-alive)
    thread.join(10)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not path:
        unavailable("Chromium is not installed (Debian package chromium-headless-shell)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class Visit:
    """A browser tab for one test: screenshots, axe checks, console errors."""

    def __init__(self, browser, base_url: str, name: str, screenshots: bool = False):
        self.base_url = base_url
        self.screenshots = screenshots
        # bypass_csp lets axe-core be injected; the app's own pages never need it.
        self.context = browser.new_context(
            viewport=dict(zip(("width", "height"), WIDTHS["desktop"], strict=True)), bypass_csp=True
        )
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        if screenshots:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True, exist_ok=True)
        self.shots = 0

    def _console(self, message) -> None:
        if message.type != "error":
            return
        # A form sent back with its errors answers 422 on purpose; Chromium logs
        # that status of the page itself. Failed sub-resources and script
        # errors still count.
        own_status = (
            message.text.startswith(
                "Failed to load resource: the server responded with a status of 4"
            )
            and message.location.get("url") == self.page.url
        )
        if not own_status:
            self.console_errors.append(f"{message.text} at {self.page.url}")

    def go(self, path: str):
        response = self.page.goto(self.base_url + path)
        return response

    def shoot(self, label: str) -> None:
        """Screenshots of the current page at desktop and phone width (with ``--screenshots``);
        the tab is at desktop width afterwards either way, so that a test goes on the same."""
        if self.screenshots:
            self.shots += 1
            for width_name, (width, height) in WIDTHS.items():
                self.page.set_viewport_size({"width": width, "height": height})
                self.page.screenshot(
                    path=str(self.folder / f"{self.shots:02d}-{label}-{width_name}.png"),
                    full_page=True,
                )
        self.page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["desktop"], strict=True)))

    def shoot_as_is(self, name: str) -> None:
        """One screenshot of the tab as it is, scrolled where it is (with ``--screenshots``)."""
        if self.screenshots:
            self.page.screenshot(path=str(self.folder / f"{name}.png"))

    def axe(self, impacts=("serious", "critical")) -> list[dict]:
        """Violations of the given impact on the current page, as axe-core reports them."""
        if not AXE.exists():
            unavailable("axe-core is not installed (npm ci)")
        self.page.add_script_tag(path=str(AXE))
        # Every rule runs; only the violations are gathered in full and sent back
        # (axe's documented resultTypes option: passes and the rest were most of
        # the work and of the bytes, on every page of every browser test).
        violations = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        return [
            {"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in violations if v["impact"] in impacts
        ]  # fmt: skip

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, live_server, request):
    tab = Visit(browser, live_server, request.node.name, request.config.getoption("--screenshots"))
    yield tab
    tab.close()
    assert tab.console_errors == [], "errors in the browser console"


def submitted(page, selector: str = "main button[type=submit]") -> None:
    """Click what sends a form, and wait until the page that answers has loaded.

    A click waits at most for the navigation to start, and an answer at the same
    address (a form sent back with its errors) gives wait_for_url nothing to wait
    for: a check made right after the click could read the page being left.
    """
    with page.expect_navigation():
        page.click(selector)


def log_in(tab: Visit, email: str, password: str) -> None:
    tab.go("/login")
    tab.page.fill("#email", email)
    tab.page.fill("#password", password)
    tab.page.click("main button[type=submit]")
    tab.page.wait_for_url(re.compile(r"^[^?]*/$"))


def log_out(tab: Visit) -> None:
    tab.page.click("text=Log out")
    tab.page.wait_for_url(re.compile(r".*/login$"))
