"""Real app processes (gunicorn) for tests that need more than one process or a real network,
and the installed `opdigital` console script.

Each server runs `wsgi:app` with the testing settings against the run's own database; the
caller chooses Redis and any other setting through environment variables.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def phone_line_env(database_url: str, redis_url: str, token: str, public_url: str) -> dict:
    """A server's environment with the phone line configured: the run's database and Redis (its
    own rate-limit prefix), the provider's token and the public address signatures name."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"opdigital-phone-{free_port()}",
        "PHONE_AUTH_TOKEN": token,
        "PUBLIC_BASE_URL": public_url,
    }


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 2, threads: int = 1) -> Iterator[str]:
    """Serve the app on a free port with `workers` processes (each with `threads` threads)."""
    port = free_port()
    environment = os.environ | {"OPDIGITAL_CONFIG": "testing"} | env
    log_path = ROOT / "instance" / f"gunicorn-{port}.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and app
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "5",
                *(["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    failed = False
    try:
        wait_until_up(base, process, log_path)
        yield base
    except BaseException:
        failed = True  # keep the server's log for whoever reads the failure
        raise
    finally:
        stop(process)
        if not failed:
            log_path.unlink(missing_ok=True)


def console_script(*args: str, env: dict[str, str], timeout: float = 60):
    """Run the installed `opdigital` console script (beside this interpreter) with `env` added to
    ours; the finished process, whatever its exit status."""
    script = Path(sys.executable).with_name("opdigital")
    return subprocess.run(  # noqa: S603 - our own console script
        [str(script), *args],
        capture_output=True,
        text=True,
        env=os.environ | env,
        timeout=timeout,
        check=False,
    )


def server_log(base: str) -> str:
    port = base.rsplit(":", 1)[1]
    return (ROOT / "instance" / f"gunicorn-{port}.log").read_text()


def wait_until_up(
    base: str, process: subprocess.Popen, log_path: Path, path: str = "/api/v1/regions"
) -> None:
    """Wait (30 s at most) until the server `process` answers `path` with a success; on failure
    raise with its log."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log_path.read_text()}")
        try:
            urllib.request.urlopen(base + path, timeout=2).read()  # noqa: S310
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start:\n{log_path.read_text()}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (a graceful stop), then SIGKILL if the process is still there after 15 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def request(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    """(status, headers, parsed JSON body or text) without raising on 4xx/5xx."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
            status, response_headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, response_headers, raw = error.code, dict(error.headers), error.read()
    try:
        return status, response_headers, json.loads(raw)
    except ValueError:
        return status, response_headers, raw.decode(errors="replace")
