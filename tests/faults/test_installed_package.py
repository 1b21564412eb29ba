"""The deploy of docs/deploy.md, from the wheel: nothing of the checkout may be needed.

The wheel is built from a copy of the checkout (as a release's checkout would be: no virtualenv,
no earlier build), installed with its dependencies into a fresh virtualenv outside the
checkout, and run from an empty directory: `opdigital db upgrade` on a fresh PostgreSQL
database, `opdigital demo` for content, the installed gunicorn with the shipped
config/gunicorn.conf.py and the production settings. Then pages, /healthz and a static file
are fetched: templates, static files, migrations and translations must all come from the
installed package, and site-packages must hold nothing but `opdigital` of ours.

About 35 s on a quiet machine, most of it installing the dependencies (from pip's cache when it
is warm; the package index must be reachable). The step times are printed (`-rP` shows them).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from opdigital.demo.digital import DIGITAL_SLUG
from opdigital.resources import RESOURCES
from tests.support.databases import fresh_database as new_database
from tests.support.live import ROOT, free_port, stop, wait_until_up
from tests.support.production import PRIVACY, PUBLIC_SITE

pytestmark = pytest.mark.faults

# What a checkout holds beside its source: none of it may reach, or be needed by, the build.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "instance",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".grimp_cache",
    ".import_linter_cache",
)
# Top-level names the old layout put into site-packages, or could.
FOREIGN_TOP_LEVEL = ("config", *RESOURCES)
STYLESHEET = "static/css/site.css"
TIMEOUT = 300  # seconds for one build or install step: far above the usual, never hanging CI


def run(command: list[str | Path], **kwargs) -> subprocess.CompletedProcess:
    """Run a command to completion; its output is in the failure message."""
    result = subprocess.run(  # noqa: S603 - our own interpreters and the installed command
        [str(part) for part in command], capture_output=True, text=True, timeout=TIMEOUT, **kwargs
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result


@dataclass
class Timings:
    steps: dict[str, float]

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        yield
        self.steps[name] = time.monotonic() - start

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.steps.items())


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database on the suite's PostgreSQL server (as tests/conftest.py makes one)."""
    with new_database("opdigital_wheel") as url:
        yield url


def build_wheel(source: Path, dist: Path) -> Path:
    """`pip wheel` on a clean copy of the checkout, as docs/deploy.md builds it."""
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE, symlinks=True)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, source])
    (wheel,) = dist.glob("opdigital-*.whl")
    return wheel


def check_wheel(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert top_level == {"opdigital"}, top_level
    for expected in (
        "opdigital/templates/errors/error.html",
        "opdigital/" + STYLESHEET,
        "opdigital/migrations/alembic.ini",
        "opdigital/migrations/env.py",
        "opdigital/migrations/versions/0001_foundation.py",
        # Compiled by `make install`: without them every page would be in English.
        "opdigital/translations/pt_BR/LC_MESSAGES/messages.mo",
    ):
        assert expected in names, expected
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def check_sdist(python: Path, source: Path, dist: Path, env: dict[str, str]) -> None:
    """The source distribution carries the top-level data directories too."""
    # The virtualenv's own setuptools may be older than pyproject.toml's build requirement.
    run([python, "-m", "pip", "install", "--quiet", "setuptools>=77"], env=env)
    code = f"from setuptools import build_meta; print(build_meta.build_sdist({str(dist)!r}))"
    name = run([python, "-c", code], cwd=source, env=env).stdout.split()[-1]
    with tarfile.open(dist / name) as sdist:
        names = {member.name.split("/", 1)[-1] for member in sdist.getmembers()}
    for expected in ("templates/errors/error.html", STYLESHEET, "migrations/env.py"):
        assert expected in names, expected


def site_packages(venv: Path) -> Path:
    (site,) = (venv / "lib").glob("python3*/site-packages")
    return site


def fetch(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body), without raising on 4xx/5xx."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our server
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


@contextlib.contextmanager
def installed_gunicorn(venv: Path, cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """The installed gunicorn with the shipped settings file (its `wsgi_app`: no wsgi.py)."""
    port = free_port()
    log_path = cwd / "gunicorn.log"
    command = [venv / "bin" / "gunicorn", "-c", ROOT / "config" / "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--graceful-timeout", "5"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - the installed gunicorn
            [str(part) for part in command], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, log_path, path="/healthz")
        yield base
    finally:
        stop(process)


def test_the_wheel_installs_migrates_and_serves_outside_the_checkout(
    tmp_path_factory, fresh_database
):
    tmp = tmp_path_factory.mktemp("installed-package")
    assert ROOT not in tmp.parents
    venv, workdir = tmp / "venv", tmp / "run"
    workdir.mkdir()
    timings = Timings({})

    with timings.step("build"):
        wheel = build_wheel(tmp / "source", tmp / "dist")
    check_wheel(wheel)
    with timings.step("venv"):
        run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    # pip's own settings (index, cache, certificates) stay; nothing of this interpreter's.
    pip_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    with timings.step("install"):
        run([python, "-m", "pip", "install", "--quiet", wheel], cwd=workdir, env=pip_env)
    with timings.step("sdist"):
        check_sdist(python, tmp / "source", tmp / "dist", pip_env)

    site = site_packages(venv)
    for name in FOREIGN_TOP_LEVEL:
        assert not (site / name).exists(), f"site-packages holds a top-level {name}"
    for name in RESOURCES:
        assert (site / "opdigital" / name).is_dir(), name
    # No path file may lead back to the checkout (an editable install would).
    for pth in site.glob("*.pth"):
        assert str(ROOT) not in pth.read_text(), pth

    production = (
        pip_env
        | PRIVACY
        | PUBLIC_SITE
        | {
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "OPDIGITAL_CONFIG": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "VOTER_KEY_PEPPER": secrets.token_urlsafe(48),
            "DATABASE_URL": fresh_database,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "RATELIMIT_KEY_PREFIX": f"opdigital-wheel-{uuid.uuid4().hex[:8]}",
            "SIGNING_KEY_PATH": str(tmp / "keys" / "signing-key.pem"),
        }
    )
    production.pop("RATELIMIT_STORAGE_URI", None)  # REDIS_URL's, as in production
    where = run(
        [python, "-c", "import opdigital.resources as r; print(r.resource_dir('migrations'))"],
        cwd=workdir,
        env=production,
    )
    assert Path(where.stdout.strip()) == site / "opdigital" / "migrations"

    with timings.step("db upgrade"):
        run(["opdigital", "db", "upgrade"], cwd=workdir, env=production)
    # The demo refuses production settings (published passwords): development, same database.
    with timings.step("demo"):
        run(
            ["opdigital", "demo"], cwd=workdir, env=production | {"OPDIGITAL_CONFIG": "development"}
        )

    with timings.step("serve"), installed_gunicorn(venv, workdir, production) as base:
        status, kind, body = fetch(base + "/")
        assert (status, kind) == (200, "text/html; charset=utf-8")
        home = body.decode()
        assert "OP Digital 2026" in home  # a demo cycle, from the database
        assert "Pular para o conteúdo" in home  # the Portuguese catalogue shipped and loaded

        status, _, body = fetch(f"{base}/ciclos/{DIGITAL_SLUG}")
        assert status == 200
        assert "OP Digital 2026" in body.decode()

        status, kind, body = fetch(base + "/healthz")
        assert status == 200
        assert {"database": "ok", "redis": "ok"}.items() <= json.loads(body).items()

        status, kind, body = fetch(f"{base}/{STYLESHEET}")
        assert (status, kind.split(";")[0]) == (200, "text/css")
        assert body == (ROOT / STYLESHEET).read_bytes()

        # The error page is a template too (TemplateNotFound here was the old wheel's failure).
        status, kind, body = fetch(base + "/nao-existe")
        assert (status, kind) == (404, "text/html; charset=utf-8")
        assert "404" in body.decode()

    print(f"installed package: {timings}")
