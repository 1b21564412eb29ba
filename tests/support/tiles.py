"""A stand-in map tile server for the browser tests: one small PNG for any /{z}/{x}/{y}.png, on
its own 127.0.0.1 port (another origin than the app's), and the paths it was asked for.

The live server's MAP_TILE_URL points here (tests/browser/conftest.py), so the maps load real
tiles without any request leaving the machine, and a test can tell that tiles were asked for.
"""

from __future__ import annotations

import re
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TILE_PATH = re.compile(r"^/\d+/\d+/\d+\.png$")


def _png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (233, 238, 243)) -> bytes:
    """A plain-coloured PNG, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


TILE = _png()


class TileStub:
    """Start with `start()`; `url` is the Leaflet URL template, `origin` its origin, and
    `requested` the paths asked for so far."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                stub.requested.append(self.path)
                if not TILE_PATH.match(self.path):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(TILE)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(TILE)

            def log_message(self, *args) -> None:
                pass  # quiet: the test reads `requested`

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.origin + "/{z}/{x}/{y}.png"

    def start(self) -> TileStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
