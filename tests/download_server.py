"""A local HTTP server for the download tests: ``http.server`` on 127.0.0.1, port 0, in a
thread. It serves byte strings, honours ``Range: bytes=N-`` requests (206 with Content-Range,
416 past the end), and can drop a connection midway or ignore ranges; it logs every request.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    drop_after: dict[str, int] = field(default_factory=dict)  # path -> bytes sent, once
    ignore_range: set[str] = field(default_factory=set)
    log: list[tuple[str, str | None, int]] = field(default_factory=list)  # path, Range, status


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):  # noqa: N802 (http.server's naming)
        state: ServerState = self.server.state
        rng = self.headers.get("Range")
        data = state.files.get(self.path)
        if data is None:
            state.log.append((self.path, rng, 404))
            self.send_error(404, "Not Found")
            return
        start = 0
        if rng and self.path not in state.ignore_range:
            start = int(rng.removeprefix("bytes=").rstrip("-"))
            if start >= len(data):
                state.log.append((self.path, rng, 416))
                self.send_error(416, "Range Not Satisfiable")
                return
        status = 206 if start else 200
        state.log.append((self.path, rng, status))
        self.send_response(status)
        self.send_header("Content-Length", str(len(data) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        cut = state.drop_after.pop(self.path, None)
        self.wfile.write(data[start:] if cut is None else data[start:start + cut])
        self.wfile.flush()


@contextlib.contextmanager
def serve(monkeypatch) -> Iterator[tuple[ServerState, str]]:
    """Run a server; yield its state and base URL (``http://127.0.0.1:<port>``)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.state = ServerState()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield srv.state, f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()


def closed_port() -> int:
    """A local port nothing listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def zip_bytes(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    """A zip archive of ``members`` (stored); ``links`` are added as symbolic links."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as hex, as the sources table writes it."""
    return hashlib.sha256(data).hexdigest()


def listing(directory: Path) -> list[str]:
    """Every path below ``directory``, relative and sorted (to see what a download left)."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))
