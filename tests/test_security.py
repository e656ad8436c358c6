"""Host, Origin and token checks, pairing and sign-in, against a real `draftvault serve`."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import closing

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from draftvault import auth, protocol

EVIL = "https://evil.example"
EXT = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
DEV_EXT = "chrome-extension://chplhlmlobckblhjmicoamkpblapcgpg"


def ws_refused(server, **kw) -> int:
    with pytest.raises(InvalidStatus) as refused:
        with connect(kw.pop("url", server.ws_url), open_timeout=10, **kw):
            pass
    return refused.value.response.status_code


# ---- Host (DNS rebinding) --------------------------------------------------------------------


def test_foreign_host_is_refused_over_http_and_loopback_names_pass(server):
    for host in ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost.evil.example:{port}",
                 "127.0.0.2:{port}", ""]:
        res = server.request("GET", "/api/conversations", headers={"Host": host.format(port=server.port)})
        assert res.status == 403, host
        assert b"Host" in res.body
    for name in ("127.0.0.1", "localhost", "LOCALHOST", "[::1]"):
        assert server.request("GET", "/api/conversations", headers={"Host": f"{name}:{server.port}"}).status == 200
    # a path that does not exist is refused the same way: a foreign page cannot probe which do
    assert server.request("GET", "/no/such/path", headers={"Host": "evil.example"}).status == 403
    assert server.request("GET", "/no/such/path", headers={"Origin": EVIL}).status == 403
    assert server.request("GET", "/no/such/path").status == 404


def test_foreign_host_is_refused_over_websocket(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    # The URL names the Host header; the socket goes to our service, as after DNS rebinding.
    assert ws_refused(server, url=f"ws://rebind.evil.example:{server.port}/ws", sock=sock) == 403


# ---- Origin ---------------------------------------------------------------------------------


def test_cross_origin_websocket_is_refused(server):
    assert ws_refused(server, origin=EVIL) == 403
    assert ws_refused(server, origin=f"http://127.0.0.1:{server.port + 1}") == 403
    assert ws_refused(server, origin="null") == 403


def test_allowed_origins_may_use_the_websocket(server):
    for origin in [None, DEV_EXT, f"http://127.0.0.1:{server.port}", f"http://localhost:{server.port}"]:
        with server.connect("client-origin", origin=origin) as (_, welcome):
            assert isinstance(welcome, protocol.Welcome), origin


def test_cross_origin_api_requests_get_403_before_anything_runs(server):
    nonces = auth.connect(server.home).conn.execute("SELECT COUNT(*) FROM auth_login_nonces")
    before = nonces.fetchone()[0]
    for method, path in [("GET", "/api/conversations"), ("POST", "/api/login-link"), ("GET", "/api/health"),
                         ("POST", "/api/pair"), ("DELETE", "/api/conversations/x"), ("GET", "/")]:
        res = server.request(method, path, headers={"Origin": EVIL}, json={"code": "AAA-AAA"} if "pair" in path else None)
        assert res.status == 403, (method, path, res.status)
    # The sign-in link asked for from the evil origin was never created.
    assert auth.connect(server.home).conn.execute("SELECT COUNT(*) FROM auth_login_nonces").fetchone()[0] == before


# ---- tokens ---------------------------------------------------------------------------------


def test_missing_wrong_and_revoked_tokens_are_refused(server):
    assert server.request("GET", "/api/conversations", token=None).status == 401
    assert server.request("GET", "/api/conversations", token="not-a-token").status == 401
    assert server.request("GET", "/api/conversations", headers={"Authorization": "Basic eDp5"}, token=None).status == 401
    assert server.request("GET", "/schema/openapi.json", token=None).status == 401

    token = subprocess.run([sys.executable, "-m", "draftvault", "token", "create", "--name", "script"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert server.request("GET", "/api/conversations", token=token).status == 200
    with server.connect("client-script", token=token) as (_, welcome):
        assert isinstance(welcome, protocol.Welcome)

    subprocess.run([sys.executable, "-m", "draftvault", "token", "revoke", "script"], check=True, capture_output=True)
    assert server.request("GET", "/api/conversations", token=token).status == 401
    with server.connect("client-script", token=token) as (ws, welcome):
        assert welcome.code == "unauthorized"
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)


def test_health_needs_no_token_and_reveals_nothing(server):
    res = server.request("GET", "/api/health", token=None)
    assert (res.status, res.json()) == (200, {"status": "ok"})


def test_openapi_document_is_served_to_authorized_clients(server):
    doc = server.api("GET", "/schema/openapi.json")
    assert "/api/conversations/{id}" in doc["paths"]
    assert "/api/search" in doc["paths"]


# ---- pairing --------------------------------------------------------------------------------


def pair_code() -> str:
    out = subprocess.run([sys.executable, "-m", "draftvault", "pair"], capture_output=True, text=True, check=True).stdout
    return re.search(r"\b[A-Z0-9]{3}-[A-Z0-9]{3}\b", out).group(0)


def test_pairing_end_to_end_gives_a_token_bound_to_the_extension(server):
    code = pair_code()
    res = server.request("POST", "/api/pair", json={"code": code.lower(), "name": "my chrome"}, headers={"Origin": EXT},
                         token=None)
    assert res.status == 200, res.body
    token = res.json()["token"]
    assert res.json()["name"] == "my chrome"

    # The token works from the origin that paired it, over HTTP and WebSocket...
    assert server.request("GET", "/api/conversations", token=token, headers={"Origin": EXT}).status == 200
    with server.connect("client-paired", token=token, origin=EXT) as (ws, welcome):
        assert isinstance(welcome, protocol.Welcome)
    # ...and from no other origin, not even another allowed one.
    assert server.request("GET", "/api/conversations", token=token, headers={"Origin": DEV_EXT}).status == 401
    # Chromium sends no Origin on the extension's own GETs: those pass (a web page's always names one).
    assert server.request("GET", "/api/conversations", token=token).status == 200
    with server.connect("client-paired", token=token, origin=DEV_EXT) as (_, welcome):
        assert welcome.code == "unauthorized"

    # One use only.
    again = server.request("POST", "/api/pair", json={"code": code}, headers={"Origin": EXT}, token=None)
    assert again.status == 403
    assert "pairing code" in again.json()["detail"]


def test_expired_pairing_code_is_refused(server):
    code = auth.create_pair_code(auth.connect(server.home), ttl_s=1)
    time.sleep(1.2)
    assert server.request("POST", "/api/pair", json={"code": code}, headers={"Origin": EXT}, token=None).status == 403


def test_pairing_codes_die_after_a_few_wrong_guesses(server):
    code = pair_code()
    for guess in ("AAA-AAA", "BBB-BBB", "CCC-CCC", "DDD-DDD", "EEE-EEE"):
        assert server.request("POST", "/api/pair", json={"code": guess}, token=None).status == 403
    assert server.request("POST", "/api/pair", json={"code": code}, token=None).status == 403


def test_pairing_from_a_web_page_is_refused(server):
    res = server.request("POST", "/api/pair", json={"code": pair_code()}, headers={"Origin": EVIL}, token=None)
    assert res.status == 403


# ---- sign-in links --------------------------------------------------------------------------


def test_sign_in_link_works_once_and_sets_a_strict_httponly_cookie(server):
    url = server.api("POST", "/api/login-link")["url"]
    assert url.startswith(f"http://127.0.0.1:{server.port}/login?t=")
    path = url[len(server.url):]

    # http.client: the redirect's own answer (urllib would follow it).
    with closing(http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)) as conn:
        conn.request("GET", path)
        res = conn.getresponse()
        res.read()
    assert res.status in (302, 303) and res.getheader("Location") in ("/", f"{server.url}/")
    cookie = res.getheader("Set-Cookie")
    assert re.search(r"\bdv_session=", cookie)
    assert "HttpOnly" in cookie and re.search(r"SameSite=Strict", cookie, re.I)
    session = re.search(r"dv_session=([^;]+)", cookie).group(1)

    cookie_header = {"Cookie": f"dv_session={session}"}
    assert server.request("GET", "/api/conversations", token=None, headers=cookie_header).status == 200
    assert server.request("GET", "/api/conversations", token=None, headers={"Cookie": "dv_session=forged"}).status == 401
    assert server.request("GET", path, token=None).status == 403  # used up
    assert server.request("GET", "/login?t=guess", token=None).status == 403


def test_vault_files_are_private(server):
    server.stop()
    assert oct(server.home.stat().st_mode & 0o777) == "0o700"
    for path in server.home.rglob("*"):
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert os.listdir(server.home)
