"""Shared fixtures: a private DRAFTVAULT_HOME, an open Vault, and a real service.

`server` runs the real `python -m draftvault serve --port FREE` as a subprocess with
DRAFTVAULT_HOME set, and waits until /api/health answers. Its token is created with
auth.create_token before the first start. Extra environment for the service (e.g.
the detector's timings) comes from the `server_env` fixture, which a test module
overrides:

    @pytest.fixture
    def server_env():
        return {"DRAFTVAULT_SILENCE_S": "3"}
"""

from __future__ import annotations

import json as jsonlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from draftvault import auth, protocol
from ports import free_port
from draftvault.store import Vault

ROOT = Path(__file__).resolve().parents[1]
_DEFAULT = object()


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return jsonlib.loads(self.body)


class Server:
    """One `draftvault serve` process; see the module docstring."""

    def __init__(self, home: Path, port: int, env: dict[str, str], log_path: Path):
        self.home, self.port, self.log_path = home, port, log_path
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/ws"
        self.env = {**os.environ, "DRAFTVAULT_HOME": str(home), "DRAFTVAULT_PORT": str(port), **env}
        db = auth.connect(home)
        self.token = auth.create_token(db, "tests")
        db.conn.close()
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "draftvault", "serve", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"draftvault serve exited with {self.proc.returncode}:\n{self.log}")
            try:
                if self.request("GET", "/api/health", token=None).status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"draftvault serve did not become healthy:\n{self.log}")
            time.sleep(0.05)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), as Ctrl-C or a service manager does."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"draftvault serve ignored SIGTERM:\n{self.log}")

    def kill(self) -> None:
        """SIGKILL: the process dies mid-whatever, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def request(self, method: str, path: str, *, params=None, json=None, data: bytes | None = None,
                headers: dict | None = None, token=_DEFAULT) -> Response:
        """One HTTP request; any status comes back as a Response (no exception)."""
        token = self.token if token is _DEFAULT else token
        hdrs = dict(headers or {})
        if token:
            hdrs.setdefault("Authorization", f"Bearer {token}")
        if json is not None:
            data = jsonlib.dumps(json).encode()
            hdrs.setdefault("Content-Type", "application/json")
        url = self.url + path + (("?" + urllib.parse.urlencode(params)) if params else "")
        req = urllib.request.Request(url, method=method, data=data, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return Response(res.status, res.headers, res.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def api(self, method: str, path: str, **kw):
        """A request that must succeed; returns the JSON body (or bytes for other types)."""
        res = self.request(method, path, **kw)
        assert 200 <= res.status < 300, f"{method} {path} -> {res.status}: {res.body[:500]!r}"
        if "json" in (res.headers.get("Content-Type") or "").split(";")[0]:
            return res.json()
        return res.body

    @contextmanager
    def connect(self, client_id: str = "test-client-1", *, token=_DEFAULT, origin: str | None = None,
                hello: bool = True, **kw):
        """A websockets (sync) connection, by default after hello: yields (ws, welcome or None)."""
        from websockets.sync.client import connect

        with connect(self.ws_url, origin=origin, max_size=None, open_timeout=10, **kw) as ws:
            if not hello:
                yield ws, None
                return
            token = self.token if token is _DEFAULT else token
            ws.send(protocol.encode(protocol.Hello(protocol=protocol.PROTOCOL_VERSION, token=token, client_id=client_id)))
            yield ws, protocol.decode_server_frame(ws.recv(timeout=10))


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    monkeypatch.setenv("DRAFTVAULT_HOME", str(path))
    monkeypatch.delenv("DRAFTVAULT_PASSPHRASE", raising=False)
    return path


@pytest.fixture
def vault(home):
    v = Vault.open(home)
    yield v
    v.close()


@pytest.fixture
def server_env() -> dict[str, str]:
    return {}


@pytest.fixture
def server(home, tmp_path, server_env, monkeypatch):
    port = free_port()
    srv = Server(home, port, server_env, tmp_path / "server.log")
    monkeypatch.setenv("DRAFTVAULT_PORT", str(port))  # CLI commands run by the test find this service
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def port_source():
    """free_port, for a test that starts services of its own."""
    return free_port

