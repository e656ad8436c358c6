"""`app.create_app` in-process with litestar's TestClient: routes, guard, limits, headers, /ws.

The same checks against a real `draftvault serve` (uvicorn, its connection limits) are
in test_transport.py; here they run without a socket, fast.
"""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

import frames
from draftvault import app as service
from draftvault import auth, protocol
from draftvault.routes import base

PORT = 8737


@pytest.fixture
def client(home, vault):
    app = service.create_app(home, vault, port=PORT)
    with TestClient(service.guarded(app), base_url=f"http://127.0.0.1:{PORT}") as client:
        client.token = auth.create_token(app.state.auth_db, "app-tests")
        client.headers["Authorization"] = f"Bearer {client.token}"
        yield client


def test_ingest_over_the_socket_then_read_over_http(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_text(frames.encode(frames.hello(client.token, "client-app-1")))
        assert protocol.decode_server_frame(ws.receive_text()).last_seq == 0
        ws.send_text(frames.encode(frames.snapshot(1, [("user", "hello there")], title="In process")))
        assert protocol.decode_server_frame(ws.receive_text()) == protocol.Ack(seq=1)
    (item,) = client.get("/api/conversations").json()["items"]
    assert item["title"] == "In process"
    assert client.get(f"/api/conversations/{item['id']}").json()["turns"][0]["text"] == "hello there"
    assert client.get("/api/search", params={"q": "hello"}).json()["items"][0]["conversation"] == item["id"]


def test_auth_guard_and_open_routes(client):
    assert client.get("/api/conversations", headers={"Authorization": ""}).status_code == 401
    assert client.get("/schema/openapi.json", headers={"Authorization": ""}).status_code == 401
    assert client.get("/api/health", headers={"Authorization": ""}).json() == {"status": "ok"}
    link = client.post("/api/login-link").json()["url"]
    assert link.startswith(f"http://127.0.0.1:{PORT}/login?t=")
    assert client.get("/api/conversations/nope").status_code == 404


@pytest.mark.parametrize("path", ["/", "/static/index.html", "/static/app.js", "/api/conversations", "/api/health",
                                  "/no/such/path"])
def test_every_response_carries_the_security_headers(client, path):
    res = client.get(path)
    assert "frame-ancestors 'none'" in res.headers["content-security-policy"]
    assert res.headers["x-content-type-options"] == "nosniff"
    assert res.headers["referrer-policy"] == "no-referrer"
    api = not (path == "/" or path.startswith("/static/"))
    assert res.headers["cache-control"] == ("no-store" if api else "no-cache")


def test_bad_requests_are_4xx_with_a_json_body(client):
    deep = b"[" * 5000 + b"]" * 5000
    for method, path, body in [
        ("POST", "/api/pair", deep), ("POST", "/api/export", b'{"ids": ' + deep + b"}"),
        ("POST", "/api/pair", b"x" * (base.MAX_BODY + 1)), ("POST", "/api/failures/x/resolve", b"{" * 20_000),
        ("GET", "/static/app.js%00.txt", b""), ("GET", "/api/conversations?offset=" + "9" * 30, b""),
    ]:
        res = client.request(method, path, content=body, headers={"Content-Type": "application/json"})
        assert 400 <= res.status_code < 500, (path, res.status_code)
        assert res.json()["detail"], path
