"""The browser suite's fixtures: Debian's Chromium driven by Playwright, one gunicorn server.

Chromium comes from the operating system (Debian's `chromium` package), never from a download
at test time: Playwright's bundled driver is pointed at it with `executable_path`. Without it
the suite is skipped, loudly (a banner at the end of the run), except under CI, which sets
OPDIGITAL_REQUIRE_BROWSER=1 and so turns a missing browser into a failure.

One server serves the whole run (starting gunicorn costs more than most of these tests). It
reads the run's throw-away database, so data seeded through the `app` fixture is visible to it
once committed; the per-test TRUNCATE of tests/conftest.py empties it again. Its per-process
caches are keyed by slug or by freeze instant, which the factories never reuse within a run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from opdigital.extensions import db
from tests.support import voting as vs
from tests.support.live import ROOT, free_port, gunicorn, server_log
from tests.support.tiles import TileStub

REQUIRE_BROWSER_ENV = "OPDIGITAL_REQUIRE_BROWSER"
# Another Chromium binary (and a way to check the skip path without uninstalling anything).
CHROMIUM_ENV = "OPDIGITAL_CHROMIUM"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
SKIP_MESSAGE = "BROWSER TESTS SKIPPED: chromium not found; install Debian's chromium"
SCREENSHOTS = ROOT / "instance" / "screenshots"
# Generous for a 2-core machine running gunicorn, PostgreSQL and Chromium at once.
TIMEOUT_MS = 15_000

_banner: list[str] = []
_REPORTS = pytest.StashKey[dict]()


def find_chromium() -> str | None:
    """The Chromium executable to drive, or None when there is none."""
    configured = os.environ.get(CHROMIUM_ENV)
    candidates = [configured] if configured else [shutil.which("chromium"), DEBIAN_CHROMIUM]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def browser_required() -> bool:
    return os.environ.get(REQUIRE_BROWSER_ENV, "").strip() == "1"


def pytest_report_header(config) -> str:
    # Only shown when pytest starts from this directory (a conftest below the root is read too
    # late for the header); the summary banner below is shown in every case.
    found = find_chromium()
    return f"browser: {found}" if found else SKIP_MESSAGE


def pytest_terminal_summary(terminalreporter) -> None:
    for message in _banner:
        terminalreporter.write_sep("!", message, red=True, bold=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Kept on the test item, so that `new_page` can tell a failed test at teardown.
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session", autouse=True)
def chromium() -> str:
    """Debian's Chromium: fail under CI when missing, otherwise skip the suite loudly."""
    found = find_chromium()
    if found is None:
        if browser_required():
            message = f"{REQUIRE_BROWSER_ENV}=1 but chromium is missing; install Debian's chromium"
            _banner.append("BROWSER TESTS FAILED: " + message)
            pytest.fail(message, pytrace=False)
        _banner.append(SKIP_MESSAGE)
        pytest.skip(SKIP_MESSAGE)
    return found


@pytest.fixture(scope="session")
def signing_key_path(app, tmp_path_factory) -> Path:
    """A tally signing key made by `opdigital keys generate`, for the server to sign with."""
    path = tmp_path_factory.mktemp("browser-keys") / "signing-key.pem"
    saved = app.config["SIGNING_KEY_PATH"]
    app.config["SIGNING_KEY_PATH"] = str(path)
    try:
        result = app.test_cli_runner().invoke(args=["keys", "generate"])
    finally:
        app.config["SIGNING_KEY_PATH"] = saved
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="session")
def tile_server() -> Iterator[TileStub]:
    """The map tile server of the live server's maps: a local stand-in on another origin."""
    stub = TileStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="session")
def live_server(
    chromium, app, database_url, redis_url, signing_key_path, tile_server
) -> Iterator[str]:
    """The app under gunicorn; its base URL. Ballots wait to be sealed until a test seals them."""
    env = {
        # Maps take their tiles from the local stand-in: no request leaves the machine.
        "MAP_TILE_URL": tile_server.url,
        "MAP_TILE_ATTRIBUTION": "© Test tiles",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"opdigital-browser-{free_port()}",
        "SIGNING_KEY_PATH": str(signing_key_path),
        "BOARD_BATCH_SIZE": "1000",
        # The numbers cycle pages show while a phone channel is on (test_phone_axe.py).
        "PHONE_VOICE_NUMBER": "0800 123 4567",
        "PHONE_TEXT_NUMBER": "+55 31 98888-7777",
        "BOARD_MAX_DELAY_SECONDS": "3600",
        # Every test comes from 127.0.0.1: the limits are tested elsewhere.
        "VOTE_LIMIT_PER_IP": "10000 per minute",
        "LOGIN_LIMIT_PER_IP": "10000 per minute",
        "LOGIN_FAILURES_PER_ADDRESS_AND_ACCOUNT": "10000 per minute",
        "LOGIN_FAILURES_PER_ACCOUNT": "10000 per minute",
        "RECEIPT_LOOKUP_LIMIT_PER_IP": "10000 per minute",
        "PROPOSAL_SUBMIT_LIMIT_PER_IP": "10000 per minute",
    }
    with gunicorn(env, workers=2, threads=2) as base:
        yield base
        log = server_log(base)
    # A server error in any page would otherwise only show up as a vague UI failure.
    assert "Traceback" not in log, log


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    # Failure screenshots of an earlier run would pass for this one's.
    for stale in SCREENSHOTS.glob("FAILED-*.png"):
        stale.unlink()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def new_page(request, browser, live_server) -> Iterator[Callable[..., object]]:
    """Pages in fresh browser contexts (own cookies) on the live server; closed afterwards.

    Keyword arguments go to `browser.new_context`, e.g. `java_script_enabled=False`. When the
    test fails, each page's last state is saved as instance/screenshots/FAILED-<test>-<n>.png.
    """
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=live_server, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    call = request.node.stash.get(_REPORTS, {}).get("call")
    for n, context in enumerate(contexts):
        if call is not None and call.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            for page in context.pages:
                page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}-{n}.png"))
        context.close()


@pytest.fixture
def page(new_page):
    """A page with JavaScript on, as most citizens have it."""
    return new_page()


@pytest.fixture
def shoot() -> Callable[[object, str], Path]:
    """Save a full-page screenshot under instance/screenshots/ as NAME.png; its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000, f"empty screenshot {path}"
        return path

    return save


@pytest.fixture
def election(app) -> SimpleNamespace:
    """An open knapsack cycle (2 to 3 choices within R$ 3.500.000,00) and three voters on the
    roll; the data is committed, so the server sees it."""
    with app.app_context():
        world = vs.voting_cycle()
        numbers = [vs.make_titulo(n) for n in (4101, 4102, 4103)]
        for number in numbers:
            vs.register(number)
        info = SimpleNamespace(
            slug=world.slug,
            title=world.cycle.title,
            ids=world.ids,
            codes=[p.code for p in world.proposals],
            titles=[p.title for p in world.proposals],
            numbers=numbers,
        )
        db.session.remove()
    return info


@pytest.fixture
def counted_cycle(app, signing_key_path, tmp_path) -> Callable[..., SimpleNamespace]:
    """Build a cycle four voters voted in, closed and tallied by the command line (and
    published when asked); the tally package is written to `package`."""

    def build(*, publish: bool) -> SimpleNamespace:
        saved = app.config["SIGNING_KEY_PATH"]
        app.config["SIGNING_KEY_PATH"] = str(signing_key_path)
        package = tmp_path / "tally.zip"
        try:
            with app.app_context():
                world = vs.voting_cycle()
                a, b, c = world.ids[:3]
                vs.cast_all(app.test_client(), world, [[a, b], [a, c], [a, b], [b, c]], 4200)
                runner = app.test_cli_runner()
                commands = [["cycle", "close", world.slug]]
                commands.append(["tally", world.slug, "--out", str(package)])
                if publish:
                    commands.append(["cycle", "publish", world.slug])
                for args in commands:
                    result = runner.invoke(args=args)
                    assert result.exit_code == 0, result.output
                info = SimpleNamespace(
                    slug=world.slug,
                    title=world.cycle.title,
                    winners=[a, b, c],
                    losers=world.ids[3:],
                    package=package,
                )
                db.session.remove()
        finally:
            app.config["SIGNING_KEY_PATH"] = saved
        return info

    return build
