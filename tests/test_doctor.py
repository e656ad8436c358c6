"""First run for a person: what `draftvault serve` prints, and `draftvault doctor`'s
checks with what to do for each, run as a person runs them (subprocesses)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

from draftvault import config, protocol

from ports import free_port

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


def doctor(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "draftvault", "doctor"], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def line(out: str, name: str) -> str:
    """The check's line and its what-to-do line, if any."""
    m = re.search(rf"^(OK|WARN|FAIL) +{re.escape(name)}: .*(\n      what to do: .*)?", out, re.M)
    assert m, f"no {name!r} check in:\n{out}"
    return m.group(0)


def pair_extension(server) -> str:
    """Pairs as the extension does: a code from `draftvault pair`, redeemed from its Origin."""
    code = subprocess.run([sys.executable, "-m", "draftvault", "pair"], capture_output=True, text=True, check=True,
                          env=server.env).stdout.strip()
    return server.api("POST", "/api/pair", json={"code": code, "name": "DraftVault extension"},
                      headers={"Origin": EXTENSION}, token=None)["token"]


def test_serve_tells_a_person_the_next_step_then_that_nothing_is_left(server):
    out = server.log
    assert "Next step: connect your browser" in out
    code = re.search(r"type this code:\s+([A-Z0-9]{3}-[A-Z0-9]{3})", out).group(1)
    server.api("POST", "/api/pair", json={"code": code}, headers={"Origin": EXTENSION}, token=None)
    assert f"http://127.0.0.1:{server.port}/login?t=" in out and "draftvault service install" in out
    server.stop()
    server.start()
    assert "paired: nothing to do" in server.log.split("is running")[-1]


def test_a_fresh_home_says_what_to_do(home):
    done = doctor()
    assert done.returncode == 1
    assert "draftvault service install" in line(done.stdout, "service")
    assert "draftvault pair" in line(done.stdout, "extension")
    assert "`draftvault serve` creates it" in line(done.stdout, "vault")
    assert line(done.stdout, "disk").startswith("OK")
    assert not list(home.iterdir()), "doctor created files in a fresh home"


def test_everything_right_with_a_paired_extension_that_connected(server):
    token = pair_extension(server)
    with server.connect("client-doctor", token=token, origin=EXTENSION) as (ws, welcome):
        assert isinstance(welcome, protocol.Welcome)
    done = doctor(**server.env)
    assert done.returncode == 0, done.stdout
    assert f"port {server.port} since" in line(done.stdout, "service")
    assert line(done.stdout, "port") == f"OK    port: port {server.port} is DraftVault's"
    assert line(done.stdout, "extension seen") == "OK    extension seen: last connected just now"
    assert line(done.stdout, "vault").startswith("OK") and line(done.stdout, "key file").startswith("OK")
    assert "Everything looks right." in done.stdout


def test_paired_but_never_connected_is_a_warning(server):
    pair_extension(server)
    out = doctor(**server.env).stdout
    assert line(out, "extension").startswith("OK")
    assert line(out, "extension seen").startswith("WARN") and "pair again" in line(out, "extension seen")


def test_key_file_readable_by_others_fails_with_the_fix(server):
    key = config.key_path(server.home)
    os.chmod(key, 0o644)
    done = doctor(**server.env)
    assert done.returncode == 1
    assert f"`chmod 600 {key}`" in line(done.stdout, "key file")


def test_port_taken_by_another_program(home):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = doctor(DRAFTVAULT_PORT=str(port))
    found = line(done.stdout, "port")
    assert found.startswith("FAIL") and f"DRAFTVAULT_PORT={port + 1} draftvault serve" in found
    assert f"http://127.0.0.1:{port + 1}" in found
    assert line(doctor(DRAFTVAULT_PORT=str(free_port())).stdout, "port").startswith("OK")
