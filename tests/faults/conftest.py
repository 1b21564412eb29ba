"""Servers of the fault tests' own: a private PostgreSQL cluster, Redis processes, a vote load.

Other engineers run the suite on this machine at the same time against the shared PostgreSQL
(5432) and Redis (6379), so these tests never touch them: they stop, kill and restart servers
that only they use. The cluster is made with Debian's wrappers (`initdb` refuses to run as
root), migrated and loaded with the benchmark's cycle and a roll of distinct voters.

Everything that needs the Flask app (migrations, the roll, sealing) runs in a subprocess: the
extensions (the rate limiter above all) are shared by every app in a process, and binding them
to this cluster would disturb the rest of the suite running in the same pytest process.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from opdigital.registry.keys import titulo_key
from opdigital.voting.receipts import receipt_hash
from tests.faults.nginx import ProxiedApp, behind_nginx
from tests.support.live import free_port

ROOT = Path(__file__).resolve().parents[2]
PG_VERSION = "15"
CLUSTER_PREFIX = "opdfaults"
DATABASE = "opdigital_faults"
# opdigital.settings.Testing's pepper: the roll is keyed with it, and gunicorn runs with it too.
PEPPER = "testing-pepper"
# Enough distinct voters for every test of the session (each takes its own, never reused).
ROLL_SIZE = 8000


# --- PostgreSQL ------------------------------------------------------------------------------


def _tool(name: str) -> str:
    """The full path of a PostgreSQL tool (Debian's postgresql-common and client)."""
    path = shutil.which(name)
    assert path, f"{name} is needed for the fault tests (Debian's postgresql packages)"
    return path


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this run alone, which a test may stop and start at will."""

    name: str
    port: int

    def _ctl(self, action: str) -> None:
        subprocess.run(  # noqa: S603 - Debian's wrapper, our own cluster
            [_tool("pg_ctlcluster"), PG_VERSION, self.name, action], check=True, capture_output=True
        )

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart")

    def stop(self) -> None:
        """A fast shutdown (pg_ctlcluster's default): open sessions are cut off at once."""
        self._ctl("stop")

    def dsn(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()


def _drop_stale_clusters() -> None:
    """Clusters left by a run that was killed before its teardown (its pid is gone)."""
    root = Path("/etc/postgresql") / PG_VERSION
    for path in root.glob(f"{CLUSTER_PREFIX}*"):
        pid = path.name.removeprefix(CLUSTER_PREFIX).split("x")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            _drop_cluster(path.name)


def _drop_cluster(name: str) -> None:
    subprocess.run(  # noqa: S603
        [_tool("pg_dropcluster"), PG_VERSION, name, "--stop"], check=False, capture_output=True
    )


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    _drop_stale_clusters()
    cluster = PrivatePostgres(f"{CLUSTER_PREFIX}{os.getpid()}x{uuid.uuid4().hex[:4]}", free_port())
    try:
        subprocess.run(  # noqa: S603
            [
                _tool("pg_createcluster"),
                PG_VERSION,
                cluster.name,
                "-p",
                str(cluster.port),
                "--",
                "--auth=trust",
            ],
            check=True,
            capture_output=True,
        )
        # Host connections from 127.0.0.1 must be trusted too (the wrapper's default may ask
        # for a password there): the tests connect over TCP, as the app does.
        hba = Path("/etc/postgresql") / PG_VERSION / cluster.name / "pg_hba.conf"
        hba.write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
        )
        cluster.start()
        server = ["-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres"]
        subprocess.run(  # noqa: S603
            [_tool("createdb"), *server, DATABASE],
            check=True,
            capture_output=True,
        )
        yield cluster
    finally:
        _drop_cluster(cluster.name)


# --- The election: the benchmark's cycle and a roll of distinct voters --------------------------

# Run in a subprocess (see the module docstring): migrate, add the cycle and import the roll.
_PREPARE = """
import json, sys
from pathlib import Path
from benchmarks.cast_votes import _prepare
slug, by_region = _prepare(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
print("PREPARED " + json.dumps({"slug": slug, "by_region": by_region}))
"""


# Every pending ballot of the cycle onto its board, as the close and the tally do (`opdigital
# board seal CYCLE` now seals only what is due: a full batch, or the minimum batch once late).
_SEAL = """
import sys
from opdigital import create_app
from opdigital.board import services as board
from opdigital.cycles.services import get_cycle
with create_app().app_context():
    board.seal_all(get_cycle(sys.argv[1]))
"""


def app_subprocess_env(cluster: PrivatePostgres) -> dict[str, str]:
    """Settings for the app run as a command on the private cluster (no Redis needed)."""
    return os.environ | {
        "OPDIGITAL_CONFIG": "testing",
        "DATABASE_URL": cluster.dsn(),
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@dataclass
class Election:
    """The open cycle on the private cluster, and its voters, handed out once each."""

    cluster: PrivatePostgres
    slug: str
    cycle_id: int
    proposals_by_region: dict[str, list[int]]
    titulos: list[str]
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, n: int) -> list[str]:
        """`n` voters no other test has used."""
        with self._lock:
            chosen = self.titulos[self._next : self._next + n]
            self._next += n
        assert len(chosen) == n, "ROLL_SIZE is too small for the tests"
        return chosen

    def ballot(self, titulo: str) -> dict:
        """A valid one-per-region ballot: one work in a region picked from the título."""
        regions = sorted(self.proposals_by_region)
        digits = int("".join(ch for ch in titulo if ch.isdigit()))
        proposals = self.proposals_by_region[regions[digits % len(regions)]]
        return {
            "credentials": {"titulo": titulo, "birth_date": "1970-01-01"},
            "choices": [proposals[digits % len(proposals)]],
        }

    def ballots_url(self, base: str) -> str:
        return f"{base}/api/v1/cycles/{self.slug}/ballots"

    def receipts_url(self, base: str) -> str:
        """Receipt lookups: POST {"receipt": code} (a code in the URL would reach the logs)."""
        return f"{base}/api/v1/cycles/{self.slug}/receipts"

    def seal(self) -> None:
        """Every pending ballot onto the board (`board.seal_all`, as `cycle close` does)."""
        result = subprocess.run(  # noqa: S603 - our own interpreter and app
            [sys.executable, "-c", _SEAL, self.slug],
            cwd=ROOT,
            env=app_subprocess_env(self.cluster),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def totals(self) -> Totals:
        (row,) = self.cluster.execute(
            """SELECT (SELECT count(*) FROM participation WHERE cycle_id = %s),
                      (SELECT count(*) FROM board_entry WHERE cycle_id = %s),
                      (SELECT count(*) FROM ballot WHERE cycle_id = %s)""",
            (self.cycle_id,) * 3,
        )
        return Totals(*row)

    def participations_of(self, titulos: list[str]) -> dict[str, int]:
        """How many participation rows each of these voters has (the key is never logged)."""
        keys = {titulo_key(t, PEPPER): t for t in titulos}
        rows = self.cluster.execute(
            "SELECT voter_key, count(*) FROM participation"
            " WHERE cycle_id = %s AND voter_key = ANY(%s) GROUP BY voter_key",
            (self.cycle_id, list(keys)),
        )
        found = {keys[key]: count for key, count in rows}
        return {t: found.get(t, 0) for t in titulos}

    def on_board(self, receipts: list[str]) -> set[str]:
        """Which of these receipt codes have a sealed board entry."""
        hashes = {receipt_hash(code): code for code in receipts}
        rows = self.cluster.execute(
            "SELECT receipt_hash FROM board_entry WHERE cycle_id = %s AND receipt_hash = ANY(%s)",
            (self.cycle_id, list(hashes)),
        )
        return {hashes[digest] for (digest,) in rows}


@dataclass(frozen=True)
class Totals:
    participations: int
    board_entries: int
    pending_ballots: int

    @property
    def ballots(self) -> int:
        return self.board_entries + self.pending_ballots


@pytest.fixture(scope="session")
def election(private_postgres: PrivatePostgres, tmp_path_factory) -> Election:
    tmp = tmp_path_factory.mktemp("faults-roll")
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _PREPARE, private_postgres.dsn(), str(tmp), str(ROLL_SIZE)],
        cwd=ROOT,
        env=app_subprocess_env(private_postgres),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("PREPARED "))
    prepared = json.loads(line.removeprefix("PREPARED "))
    lines = (tmp / "roll.csv").read_text().splitlines()[1:]
    (cycle_id,) = private_postgres.execute(
        "SELECT id FROM cycle WHERE slug = %s", (prepared["slug"],)
    )[0]
    return Election(
        cluster=private_postgres,
        slug=prepared["slug"],
        cycle_id=cycle_id,
        proposals_by_region=prepared["by_region"],
        titulos=[line.split(",")[0] for line in lines],
    )


# --- Redis -----------------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    """A redis-server of one test's own, on a fixed port, so it can stop and come back."""

    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=2)

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server, "redis-server is needed for the fault tests"
        command = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--daemonize", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if self.client().ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(free_port())
    server.start()
    yield server
    server.stop()


def app_env(cluster: PrivatePostgres, store: PrivateRedis, **settings: str) -> dict[str, str]:
    """gunicorn's settings: the private servers, and limits lifted for one busy address."""
    return {
        "DATABASE_URL": cluster.dsn(),
        "REDIS_URL": store.url,
        "RATELIMIT_STORAGE_URI": store.url,
        "RATELIMIT_KEY_PREFIX": f"opdigital-faults-{uuid.uuid4().hex[:8]}",
        # Every request comes from 127.0.0.1, as from one big voting point; one voter's right
        # credentials sent 200 times at once would be held back while in flight.
        "VOTE_LIMIT_PER_IP": "1000000 per minute",
        "VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL": "1000000 per minute",
        "VOTER_FAILURES_PER_CREDENTIAL": "1000000 per minute",
        "RECEIPT_LOOKUP_LIMIT_PER_IP": "1000000 per minute",
    } | settings


@pytest.fixture
def app_behind_nginx(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis
) -> Iterator[ProxiedApp]:
    """The app as deployed: gunicorn with config/gunicorn.conf.py (2 sync workers) and
    PROXY_COUNT=1, behind nginx running the shipped config/nginx/ (tests/faults/nginx.py)."""
    with behind_nginx(app_env(private_postgres, private_redis)) as app:
        yield app


# --- gunicorn processes ----------------------------------------------------------------------


def gunicorn_processes(base: str) -> tuple[int, list[int]]:
    """(master pid, worker pids) of the gunicorn serving `base`, read from /proc."""
    bind = urlsplit(base).netloc
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if b"gunicorn" in command and bind.encode() in command:
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    masters = [pid for pid, parent in parents.items() if parent not in parents]
    assert len(masters) == 1, f"expected one gunicorn master on {bind}: {parents}"
    workers = sorted(pid for pid, parent in parents.items() if parent == masters[0])
    return masters[0], workers


# --- HTTP client -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP exchange; `status` None when no answer came (refused, reset, cut off)."""

    status: int | None
    body: dict | None = None
    retry_after: str | None = None
    failure: str | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def error_code(self) -> str | None:
        return ((self.body or {}).get("error") or {}).get("code")

    @property
    def receipt(self) -> str | None:
        return (self.body or {}).get("receipt")

    @property
    def failed(self) -> bool:
        """No answer or a server error: the vote may or may not have been recorded."""
        return self.status is None or self.status >= 500


def call(method: str, url: str, body: dict | None = None, timeout: float = 30) -> Answer:
    """One request on a fresh connection; connection failures are an Answer, not an error."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        connection.request(method, parts.path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {"text": raw.decode(errors="replace")}
        return Answer(response.status, parsed, response.getheader("Retry-After"))
    except (OSError, http.client.HTTPException) as e:
        return Answer(None, failure=type(e).__name__)
    finally:
        connection.close()


# --- The load: many distinct voters casting while the fault happens ---------------------------


@dataclass(frozen=True)
class Cast:
    titulo: str
    answer: Answer


class VoteLoad:
    """Client threads, each casting one vote per voter in turn, until stopped or out of voters.

    Consecutive casts go to the `bases` in turn. After a failed cast a thread waits longer,
    as a kiosk would before its next voter, so an outage does not burn through the roll.
    """

    def __init__(
        self,
        election: Election,
        bases: list[str],
        voters: list[str],
        threads: int = 12,
        pause: float = 0.01,
        failure_pause: float = 0.5,
    ):
        self.election = election
        self.urls = [election.ballots_url(base) for base in bases]
        self._voters = iter(voters)
        self._pause = pause
        self._failure_pause = failure_pause
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.casts: list[Cast] = []
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> VoteLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                titulo = next(self._voters, None)
                url = self.urls[len(self.casts) % len(self.urls)]
            if titulo is None:
                return
            answer = call("POST", url, self.election.ballot(titulo))
            with self._lock:
                self.casts.append(Cast(titulo, answer))
            time.sleep(self._failure_pause if answer.failed else self._pause)

    def done(self) -> int:
        with self._lock:
            return len(self.casts)

    def wait_for(self, n: int, timeout: float = 60) -> None:
        """Block until `n` casts have been answered (or failed)."""
        deadline = time.monotonic() + timeout
        while self.done() < n:
            assert time.monotonic() < deadline, f"only {self.done()} of {n} casts in {timeout} s"
            assert any(t.is_alive() for t in self._threads), "the load ran out of voters"
            time.sleep(0.02)

    def answers_between(self, start: float, end: float) -> list[Answer]:
        with self._lock:
            return [c.answer for c in self.casts if start <= c.answer.at <= end]


def retry_failed(election: Election, base: str, casts: list[Cast]) -> dict[str, Answer]:
    """The client's one retry for each cast that got no answer or a 5xx."""
    return {
        c.titulo: call("POST", election.ballots_url(base), election.ballot(c.titulo))
        for c in casts
        if c.answer.failed
    }


def assert_no_vote_lost_or_doubled(
    election: Election,
    base: str,
    casts: list[Cast],
    retries: dict[str, Answer],
    before: Totals,
) -> None:
    """The guarantees every fault must leave intact, checked on the sealed board.

    - each voter was answered once with a receipt or "already voted" in the end (the retry of a
      failed cast is 201 or 409, never a second vote);
    - each voter has exactly one participation row, and the cycle as many ballots as
      participations;
    - every receipt from a 201 is on the board and found by the public receipts API.
    """
    voters = [c.titulo for c in casts]
    assert len(set(voters)) == len(voters), "a voter was cast twice by the load"
    unexpected = [
        (c.titulo, c.answer) for c in casts if not c.answer.failed and c.answer.status != 201
    ]
    assert not unexpected, unexpected[:5]
    for titulo, answer in retries.items():
        assert answer.status == 201 or (
            answer.status == 409 and answer.error_code == "already_voted"
        ), (titulo, answer)

    election.seal()
    after = election.totals()
    assert after.pending_ballots == 0
    assert after.participations - before.participations == len(voters)
    assert after.participations == after.ballots
    assert after.ballots - before.ballots == len(voters)
    counts = election.participations_of(voters)
    assert {t for t, n in counts.items() if n != 1} == set()

    receipts = [c.answer.receipt for c in casts if c.answer.status == 201]
    receipts += [a.receipt for a in retries.values() if a.status == 201]
    assert all(receipts)
    assert election.on_board(receipts) == set(receipts)
    # At most one receipt per voter: the 409s of retries are the votes whose answer was lost.
    assert len(receipts) <= len(voters)
    lookups = _look_up(election, base, receipts)
    missing = [(code, a.status) for code, a in lookups.items() if a.status != 200]
    assert not missing, missing[:5]
    assert {a.body["status"] for a in lookups.values()} <= {"sealed"}


def _look_up(election: Election, base: str, receipts: list[str]) -> dict[str, Answer]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        url = election.receipts_url(base)
        answers = pool.map(lambda code: call("POST", url, {"receipt": code}), receipts)
        return dict(zip(receipts, answers, strict=True))
