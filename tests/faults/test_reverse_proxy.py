"""The shipped reverse-proxy configuration (config/nginx/) in front of gunicorn's sync workers.

A sync worker reads a request's header and body while the client sends them: a few clients
sending a ballot one byte a second hold every worker until gunicorn's worker timeout, and the
instance answers nobody meanwhile. nginx, as configured, reads whole requests first and cuts
off clients that stop sending, so the workers only ever see complete requests.

`test_slow_clients_freeze_gunicorn_without_the_proxy` shows the freeze on the same gunicorn
reached directly: it is what `test_slow_clients_do_not_hold_the_workers_behind_nginx` would see
if the proxy passed slow requests on.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tests.faults.conftest import (
    Election,
    PrivatePostgres,
    PrivateRedis,
    VoteLoad,
    app_env,
    assert_no_vote_lost_or_doubled,
    call,
    gunicorn_processes,
    retry_failed,
)
from tests.faults.nginx import (
    SERVER_NAME,
    ProxiedApp,
    behind_nginx,
    proxy_bytes,
    proxy_seconds,
)
from tests.support.live import ROOT, free_port

pytestmark = pytest.mark.faults

# Fewer workers than slow clients: without the proxy they would all be held.
WORKERS = 2
SLOW_CLIENTS = 8
# A cast through the proxy, while the slow clients send, is answered within this (it takes
# milliseconds; the freeze without the proxy lasts until gunicorn's 30 s worker timeout).
PROMPT_SECONDS = 3.0
# How long the cast straight to gunicorn waits for the answer that does not come.
FREEZE_PROBE_SECONDS = 5.0


@pytest.fixture(scope="module")
def proxied(private_postgres: PrivatePostgres) -> Iterator[ProxiedApp]:
    """One app behind nginx for the tests of this module that leave it as they found it."""
    store = PrivateRedis(free_port())
    store.start()
    try:
        with behind_nginx(app_env(private_postgres, store), workers=WORKERS) as app:
            yield app
    finally:
        store.stop()


# --- Slow clients ------------------------------------------------------------------------------


class SlowClients:
    """Connections sending a cast request one byte a second, until the block ends.

    Half of them send the request line and one header at once, then an endless header one
    byte at a time; the other half send the whole header at once, then the ballot one byte at
    a time. A gunicorn sync worker that takes either kind waits for it.
    """

    def __init__(self, base: str, path: str, body: bytes, count: int = SLOW_CLIENTS):
        parts = urlsplit(base)
        self._address = (parts.hostname, parts.port)
        self._host = parts.netloc
        self._path = path
        self._body = body
        self._count = count
        self._sockets: list[socket.socket] = []
        self._pending: list[bytes] = []
        self._failed: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _opening(self, index: int) -> tuple[bytes, bytes]:
        """(what is sent at once, what is then sent a byte a second)."""
        start = f"POST {self._path} HTTP/1.1\r\nHost: {self._host}\r\n"
        if index % 2 == 0:  # slow in the header
            return start.encode(), b"X-Slow: " + b"a" * 1000
        header = start + "Content-Type: application/json\r\n"
        header += f"Content-Length: {len(self._body)}\r\n\r\n"
        return header.encode(), self._body

    def __enter__(self) -> SlowClients:
        for index in range(self._count):
            opening, rest = self._opening(index)
            sock = socket.create_connection(self._address, timeout=5)
            sock.settimeout(None)  # blocking, so that a MSG_DONTWAIT peek answers at once
            sock.sendall(opening)
            self._sockets.append(sock)
            self._pending.append(rest)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self._sockets:
            sock.close()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                for index, sock in enumerate(self._sockets):
                    if index in self._failed or not self._pending[index]:
                        continue
                    try:
                        sock.sendall(self._pending[index][:1])
                    except OSError:
                        self._failed.add(index)
                    self._pending[index] = self._pending[index][1:]

    def still_sending(self) -> int:
        """How many are still connected, unanswered and have more to send."""
        count = 0
        with self._lock:
            for index, sock in enumerate(self._sockets):
                if index in self._failed or not self._pending[index]:
                    continue
                try:
                    sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                except BlockingIOError:
                    count += 1  # nothing came back: the server is still waiting for it
                except OSError:
                    pass
        return count


def _timed_cast(election: Election, base: str, titulo: str, timeout: float):
    started = time.monotonic()
    answer = call("POST", election.ballots_url(base), election.ballot(titulo), timeout=timeout)
    return answer, time.monotonic() - started


def _slow_clients(election: Election, base: str) -> SlowClients:
    (titulo,) = election.take(1)
    body = json.dumps(election.ballot(titulo)).encode()
    return SlowClients(base, urlsplit(election.ballots_url(base)).path, body)


def test_slow_clients_do_not_hold_the_workers_behind_nginx(proxied: ProxiedApp, election: Election):
    voters = election.take(5)
    with _slow_clients(election, proxied.base) as slow:
        time.sleep(2)  # every slow client is connected and has sent a little more since
        for titulo in voters:
            answer, elapsed = _timed_cast(election, proxied.base, titulo, timeout=30)
            assert answer.status == 201, answer
            assert elapsed < PROMPT_SECONDS, f"cast answered after {elapsed:.1f} s"
        # The casts were answered while every slow client was still sending.
        assert slow.still_sending() == SLOW_CLIENTS


def test_slow_clients_freeze_gunicorn_without_the_proxy(proxied: ProxiedApp, election: Election):
    """The same slow clients straight to gunicorn: a fresh cast gets no answer at all."""
    first, frozen, after = election.take(3)
    answer, elapsed = _timed_cast(election, proxied.gunicorn, first, timeout=30)
    assert answer.status == 201 and elapsed < PROMPT_SECONDS, (answer, elapsed)
    with _slow_clients(election, proxied.gunicorn) as slow:
        time.sleep(2)
        answer, elapsed = _timed_cast(election, proxied.gunicorn, frozen, FREEZE_PROBE_SECONDS)
        assert answer.status is None and answer.failure == "TimeoutError", answer
        assert elapsed >= FREEZE_PROBE_SECONDS - 0.1
        # Each worker holds one slow client; the others wait behind them, unanswered.
        assert slow.still_sending() == SLOW_CLIENTS
    # Once the slow clients are gone the instance answers again (it was not broken).
    answer, _elapsed = _timed_cast(election, proxied.gunicorn, after, timeout=30)
    assert answer.status == 201, answer


def _read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed it.

    nginx resets the connections it times out (reset_timedout_connection): that is a close too.
    """
    started = time.monotonic()
    sock.settimeout(timeout)
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(4096):
            received += chunk
    return received, time.monotonic() - started


def test_clients_that_stop_sending_are_cut_off_by_the_timeouts(
    proxied: ProxiedApp, election: Election
):
    """A header or a body that stops arriving is dropped after the configured timeout."""
    header_timeout = proxy_seconds("client_header_timeout")
    body_timeout = proxy_seconds("client_body_timeout")
    # Short enough that a stalled client is dropped in seconds, long enough for a slow phone.
    assert 5 <= header_timeout <= 30 and 5 <= body_timeout <= 30
    address = ("127.0.0.1", urlsplit(proxied.base).port)
    path = urlsplit(election.ballots_url(proxied.base)).path
    in_header = socket.create_connection(address)
    in_body = socket.create_connection(address)
    try:
        in_header.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode())
        in_body.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            'Content-Length: 100\r\n\r\n{"credentials"'.encode()
        )
        # Both are waited for at once, each timed from its own last byte.
        with ThreadPoolExecutor(max_workers=2) as pool:
            header = pool.submit(_read_until_closed, in_header, header_timeout + 10)
            body = pool.submit(_read_until_closed, in_body, body_timeout + 10)
            results = {"header": header.result(), "body": body.result()}
    finally:
        in_header.close()
        in_body.close()
    for name, limit in (("header", header_timeout), ("body", body_timeout)):
        received, elapsed = results[name]
        assert limit - 1 <= elapsed <= limit + 5, (name, elapsed)
        # nginx closes without an answer, or with its own 408; the app never saw the request.
        assert received == b"" or received.startswith(b"HTTP/1.1 408"), (name, received[:200])


def test_a_body_over_the_limit_is_refused_by_nginx(proxied: ProxiedApp, election: Election):
    """Over client_max_body_size (the app's own 2 MiB), nginx answers 413 before any body."""
    assert proxy_bytes("client_max_body_size") == 2 * 1024 * 1024
    url = urlsplit(election.ballots_url(proxied.base))
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        # The header alone: nginx answers from the declared length, before any body is sent.
        connection.putrequest("POST", url.path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(2 * 1024 * 1024 + 1))
        connection.endheaders()
        response = connection.getresponse()
        status, content_type, body = (
            response.status,
            response.getheader("Content-Type"),
            response.read(),
        )
    finally:
        connection.close()
    assert status == 413, body
    # nginx's own page, not the app's JSON error: the request never reached a worker.
    assert content_type == "text/html"
    assert b"<center>nginx</center>" in body
    # A body within the limit does reach the app (nginx's limit is not tighter than the app's):
    # a ballot of 1 MiB is the app's to refuse, with its JSON error.
    big = election.ballot(election.take(1)[0]) | {"padding": "x" * (1024 * 1024)}
    refused = call("POST", election.ballots_url(proxied.base), big)
    assert refused.status is not None and 400 <= refused.status < 500, refused
    assert refused.error_code, refused


def test_photo_uploads_pass_nginx_up_to_the_photo_limit(proxied: ProxiedApp):
    """The works' photo forms take PHOTO_MAX_UPLOAD_MB: nginx lets 3 MB through on their paths
    (the app answers, here refusing an anonymous visitor's body with its own 413 page), and
    still refuses it with its own page anywhere else."""
    body = b"x" * (3 * 1024 * 1024)
    answers = {}
    for path in ("/comforca/obras/OPD2024-0001/relatorio", "/login"):
        url = urlsplit(proxied.base + path)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            connection.request(
                "POST", url.path, body=body, headers={"Content-Type": "multipart/form-data"}
            )
            response = connection.getresponse()
            answers[path] = (response.status, response.read())
        finally:
            connection.close()
    status, page = answers["/comforca/obras/OPD2024-0001/relatorio"]
    assert status == 413 and b"<center>nginx</center>" not in page, page[:300]
    status, page = answers["/login"]
    assert status == 413 and b"<center>nginx</center>" in page, page[:300]


# --- Forwarded headers -------------------------------------------------------------------------


def _cast_from(
    election: Election,
    base: str,
    titulo: str,
    source: str,
    headers: dict[str, str] | None = None,
) -> int:
    """The status of a cast sent from the loopback address `source` (127.0.0.0/8 is all ours)."""
    parts = urlsplit(election.ballots_url(base))
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST",
            parts.path,
            body=json.dumps(election.ballot(titulo)),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_per_address_limits_count_the_client_address_behind_nginx(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, election: Election
):
    """With PROXY_COUNT=1 the app takes the address nginx appends to X-Forwarded-For: each
    client has its own allowance, and a forged X-Forwarded-For buys no fresh one. (Were the
    address nginx's own, the second client would be refused with the first.)"""
    env = app_env(private_postgres, private_redis) | {"VOTE_LIMIT_PER_IP": "3 per day"}
    # Far apart, so that no grouping of addresses by network puts them together.
    first, second = "127.0.0.2", "127.128.0.2"
    voters = election.take(6)
    with behind_nginx(env, workers=WORKERS) as app:
        assert [_cast_from(election, app.base, t, first) for t in voters[:3]] == [201] * 3
        assert _cast_from(election, app.base, voters[3], first) == 429
        forged = {"X-Forwarded-For": "127.0.0.9"}
        assert _cast_from(election, app.base, voters[3], first, forged) == 429
        assert _cast_from(election, app.base, voters[3], second) == 201
        assert _cast_from(election, app.base, voters[4], second, forged) == 201


# --- The whole site over TLS -------------------------------------------------------------------


def _https(app: ProxiedApp, method: str, path: str, body: dict | None = None):
    parts = urlsplit(app.nginx.https)
    context = ssl.create_default_context(cafile=app.nginx.prefix / "cert.pem")
    context.check_hostname = False  # the certificate names SERVER_NAME; we dial 127.0.0.1
    connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=context)
    try:
        payload = json.dumps(body) if body is not None else None
        headers = {"Host": SERVER_NAME}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_the_shipped_site_serves_the_app_over_tls(proxied: ProxiedApp, election: Election):
    # The load balancer's check reaches the app's own.
    status, _headers, raw = _https(proxied, "GET", "/healthz")
    assert status == 200, raw
    assert json.loads(raw)["database"] == "ok"
    # The app sees the scheme and host the client used (X-Forwarded-Proto and -Host).
    status, _headers, raw = _https(proxied, "GET", f"/api/v1/cycles/{election.slug}")
    assert status == 200, raw
    links = json.loads(raw)["links"]
    assert links["self"] == f"https://{SERVER_NAME}/api/v1/cycles/{election.slug}"
    # A vote over HTTPS.
    (titulo,) = election.take(1)
    status, _headers, raw = _https(
        proxied, "POST", urlsplit(election.ballots_url("")).path, election.ballot(titulo)
    )
    assert status == 201, raw
    # Static files come from the disk, with nginx's caching headers.
    status, headers, raw = _https(proxied, "GET", "/static/css/site.css")
    assert status == 200
    assert raw == (ROOT / "static" / "css" / "site.css").read_bytes()
    assert headers.get("Cache-Control") == "max-age=3600"
    # Plain HTTP only redirects.
    parts = urlsplit(proxied.nginx.http)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", "/votar?x=1", headers={"Host": SERVER_NAME})
        response = connection.getresponse()
        assert response.status == 301
        assert response.getheader("Location") == f"https://{SERVER_NAME}/votar?x=1"
    finally:
        connection.close()


# --- A vote load through the proxy -------------------------------------------------------------


def test_vote_load_through_nginx_with_a_worker_killed_loses_no_vote(
    app_behind_nginx: ProxiedApp, election: Election
):
    """The worker-kill fault behind the proxy: the request the killed worker held gets nginx's
    502 (or, if the worker died while writing its answer, an answer cut short), and no
    acknowledged vote is lost or doubled."""
    voters = election.take(300)
    before = election.totals()
    app = app_behind_nginx
    with VoteLoad(election, [app.base], voters, threads=8) as load:
        load.wait_for(len(voters) // 2)
        _master, workers = gunicorn_processes(app.gunicorn)
        os.kill(workers[0], signal.SIGKILL)
        load.wait_for(len(voters), timeout=120)
    failed = [c.answer for c in load.casts if c.answer.failed]
    assert all(a.status == 502 or a.failure == "IncompleteRead" for a in failed), failed
    retries = retry_failed(election, app.base, load.casts)
    assert_no_vote_lost_or_doubled(election, app.base, load.casts, retries, before)
