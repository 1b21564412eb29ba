"""Without Chromium the suite is skipped with a loud banner, or fails when CI requires it.

Each case runs one browser test in a pytest of its own, pointed at a Chromium that is not
there (OPDIGITAL_CHROMIUM), so nothing has to be uninstalled.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.browser.conftest import CHROMIUM_ENV, REQUIRE_BROWSER_ENV, SKIP_MESSAGE
from tests.support.live import ROOT

pytestmark = pytest.mark.browser

ONE_TEST = "tests/browser/test_axe.py::test_axe_finds_what_it_must"


def _run(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != REQUIRE_BROWSER_ENV}
    environment |= {CHROMIUM_ENV: str(tmp_path / "no-chromium")} | env
    return subprocess.run(  # noqa: S603 - our own interpreter and tests
        [sys.executable, "-m", "pytest", ONE_TEST, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_chromium_skips_the_suite_loudly(tmp_path):
    run = _run(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout
    banner = [line for line in run.stdout.splitlines() if SKIP_MESSAGE in line]
    assert banner and banner[0].startswith("!"), run.stdout


def test_a_missing_chromium_fails_when_ci_requires_the_browser(tmp_path):
    run = _run(tmp_path, **{REQUIRE_BROWSER_ENV: "1"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 error" in run.stdout
    assert "BROWSER TESTS FAILED" in run.stdout
    assert "skipped" not in run.stdout
