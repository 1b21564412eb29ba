"""nginx in front of gunicorn for the fault tests, run from the configuration the project ships.

`config/nginx/opdigital.conf` (the site) is rendered with only its deployment lines (marked SET
there: upstream, listen ports, certificate, static root) changed to this run's own; the proxy
settings, `config/nginx/opdigital-proxy.conf`, are included as shipped (a symbolic link). Besides
the site's own HTTPS server and its plain-HTTP redirect, a plain-HTTP server on a free port
includes the same snippet, so that the tests' plain clients (`call`, `VoteLoad`) go through
exactly what the site's HTTPS server does. Everything (configuration, logs, temporary files,
pid) lives in a directory of the run's own; nothing touches the system's nginx.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.live import ROOT, free_port, gunicorn

SITE = ROOT / "config" / "nginx" / "opdigital.conf"
PROXY_SNIPPET = ROOT / "config" / "nginx" / "opdigital-proxy.conf"
GUNICORN_CONFIG = ROOT / "config" / "gunicorn.conf.py"
# The host name in the shipped site (its `server_name`): HTTPS clients send it as Host.
SERVER_NAME = "vote.example.gov.br"


def nginx_binary() -> str:
    # Debian puts it in /usr/sbin, which an unprivileged PATH may lack.
    path = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    assert path, "nginx is needed for the fault tests: apt-get install nginx (.ci/run does it)"
    return path


def proxy_setting(name: str) -> str:
    """The value of a directive at the top of the shipped proxy snippet (`client_body_timeout`
    -> "10s"); the indented ones of its `location` blocks are not counted."""
    values = re.findall(rf"^{re.escape(name)}\s+([^;]+);", PROXY_SNIPPET.read_text(), re.M)
    assert len(values) == 1, f"{name} is set {len(values)} times in {PROXY_SNIPPET.name}"
    return values[0].strip()


def proxy_seconds(name: str) -> float:
    """A time directive of the snippet in seconds (only the plain `Ns` form is used there)."""
    value = proxy_setting(name)
    assert value.endswith("s") and value[:-1].isdigit(), f"{name} {value}: write it as Ns"
    return float(value[:-1])


def proxy_bytes(name: str) -> int:
    """A size directive of the snippet in bytes ("2m" -> 2097152)."""
    value = proxy_setting(name).lower()
    units = {"k": 1024, "m": 1024 * 1024}
    return int(value[:-1]) * units[value[-1]] if value[-1] in units else int(value)


def render_site(
    upstream: str, http_port: int, https_port: int, cert: Path, key: Path, static_root: Path
) -> str:
    """The shipped site with its deployment lines set for this run (each must be found once)."""
    text = SITE.read_text()
    replacements = {
        "server 127.0.0.1:8000;": f"server {upstream};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",  # loopback IPv4 only in tests
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        f"/etc/letsencrypt/live/{SERVER_NAME}/fullchain.pem;": f"{cert};",
        f"/etc/letsencrypt/live/{SERVER_NAME}/privkey.pem;": f"{key};",
        "root /srv/opdigital;": f"root {static_root};",
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{SITE.name} no longer has {old!r} exactly once"
        text = text.replace(old, new)
    return text


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# The main file, as Debian's /etc/nginx/nginx.conf is around the sites, but every path in the
# run's own directory. Run as root, the workers drop to nobody, as Debian's drop to www-data.
_MAIN = """\
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log notice;
events {{
    worker_connections 1024;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;

    include opdigital.conf;

    # The site's HTTPS server on plain HTTP, for the tests' plain clients.
    server {{
        listen 127.0.0.1:{plain_port} default_server;
        include snippets/opdigital-proxy.conf;
    }}
}}
"""


@dataclass
class Nginx:
    """A running nginx of the test's own in front of one upstream."""

    prefix: Path
    plain: str  # http://127.0.0.1:port: the proxy snippet on plain HTTP
    https: str  # the shipped site's HTTPS server (self-signed certificate for SERVER_NAME)
    http: str  # the shipped site's plain-HTTP server (redirects to HTTPS)
    process: subprocess.Popen

    def error_log(self) -> str:
        return (self.prefix / "error.log").read_text(errors="replace")

    def access_log(self) -> str:
        return (self.prefix / "access.log").read_text(errors="replace")


@contextlib.contextmanager
def nginx(upstream: str) -> Iterator[Nginx]:
    """nginx with the shipped configuration in front of `upstream` (host:port or unix:path)."""
    binary = nginx_binary()
    # Not pytest's tmp_path: its parents are private to root, and the workers run as nobody.
    prefix = Path(tempfile.mkdtemp(prefix="opdigital-nginx-"))
    prefix.chmod(0o755)
    (prefix / "tmp").mkdir(mode=0o755)
    (prefix / "snippets").mkdir()
    (prefix / "snippets" / PROXY_SNIPPET.name).symlink_to(PROXY_SNIPPET)
    cert, key = _self_signed_certificate(prefix)
    plain_port, http_port, https_port = free_port(), free_port(), free_port()
    (prefix / "opdigital.conf").write_text(
        render_site(upstream, http_port, https_port, cert, key, static_root=ROOT)
    )
    (prefix / "nginx.conf").write_text(
        _MAIN.format(
            user="user nobody nogroup;" if os.geteuid() == 0 else "",
            prefix=prefix,
            plain_port=plain_port,
        )
    )
    command = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    command += ["-e", str(prefix / "error.log"), "-g", "daemon off;"]
    process = subprocess.Popen(  # noqa: S603 - Debian's nginx, our own configuration
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = Nginx(
        prefix=prefix,
        plain=f"http://127.0.0.1:{plain_port}",
        https=f"https://127.0.0.1:{https_port}",
        http=f"http://127.0.0.1:{http_port}",
        process=process,
    )
    failed = False
    try:
        _wait_until_listening(server, [plain_port, http_port, https_port])
        yield server
    except BaseException:
        failed = True  # keep the directory (logs, rendered configuration) for whoever looks
        raise
    finally:
        process.send_signal(signal.SIGTERM)  # fast shutdown: open connections are closed
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
        if not failed:
            shutil.rmtree(prefix, ignore_errors=True)


def _wait_until_listening(server: Nginx, ports: list[int]) -> None:
    deadline = time.monotonic() + 10
    waiting = list(ports)
    while waiting:
        if server.process.poll() is not None:
            stderr = server.process.stderr.read().decode(errors="replace")
            log = (server.prefix / "error.log").read_text(errors="replace")
            raise RuntimeError(f"nginx exited ({server.prefix}):\n{stderr}\n{log}")
        assert time.monotonic() < deadline, f"nginx is not listening on {waiting}"
        try:
            with socket.create_connection(("127.0.0.1", waiting[0]), timeout=1):
                waiting.pop(0)
        except OSError:
            time.sleep(0.05)


@dataclass
class ProxiedApp:
    """gunicorn (with config/gunicorn.conf.py and PROXY_COUNT=1) and nginx in front of it."""

    nginx: Nginx
    gunicorn: str  # gunicorn's own address: reaching it directly bypasses the proxy

    @property
    def base(self) -> str:
        """Where clients go: through nginx."""
        return self.nginx.plain


@contextlib.contextmanager
def behind_nginx(env: dict[str, str], workers: int = 2) -> Iterator[ProxiedApp]:
    """The app as deployed: sync gunicorn workers with the shipped settings, behind nginx."""
    settings = env | {
        "PROXY_COUNT": "1",
        # Port, worker count and graceful timeout still come from tests.support.live's command
        # line, which takes precedence over the file.
        "GUNICORN_CMD_ARGS": f"--config {GUNICORN_CONFIG}",
    }
    with gunicorn(settings, workers=workers) as base, nginx(base.removeprefix("http://")) as proxy:
        yield ProxiedApp(nginx=proxy, gunicorn=base)
