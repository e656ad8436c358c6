"""`draftvault mcp` driven by the MCP SDK's own client over stdio, as Claude Desktop runs it:
with the service down (it reads the vault file) and with it running (it reads through the
service's API with a read-only token). And read-only tokens held to reading."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from websockets.exceptions import ConnectionClosed

from draftvault import agent_tools, auth, config, crypto, protocol
from draftvault.store import Vault
from frames import encode, signal, snapshot

DRAFTVAULT = Path(sys.executable).parent / "draftvault"
CANARY = "The pangolin canary recites 4417 amber limericks backwards"
DRAFT = "Unsent: ask the pangolin about limerick number 4418"
BRANCH_ANSWER = "An earlier answer about the ocelot that was regenerated"
TOOLS = {"search", "read_conversation", "resume_pack", "failed_sessions", "unsent_drafts", "recent_conversations"}
LONG_TURNS = [("user" if i % 2 == 0 else "assistant", f"Long turn {i}: " + "lorem ipsum " * 400) for i in range(30)]


def run_mcp(home: Path, body, **env: str):
    """Starts `draftvault mcp` with the SDK's stdio client and runs `body(session)` in it."""
    params = StdioServerParameters(command=str(DRAFTVAULT), args=["mcp"], env={"DRAFTVAULT_HOME": str(home), **env})

    async def main():
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)

    # In a thread of its own: a session-wide Playwright (the browser tests) keeps an event
    # loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, main).result()


async def text_of(session, tool: str, **arguments) -> str:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.content[0].text


def seed(vault: Vault) -> dict[str, str]:
    """The canary conversation (with a draft and a failure), an imported one with a branch, a long one."""
    vault.apply("client-mcp", snapshot(1, [("user", "Tell me about pangolins"), ("assistant", CANARY)],
                                       conv="c-pangolin", title="Pangolin poetry", draft=DRAFT))
    canary = vault.conversation_for_page("page-0001")
    vault.record_failure(canary, "error_message", detail="Something went wrong")
    ocelot, _ = vault.import_conversation(
        site="chatgpt", conversation_id="c-ocelot", title="Ocelots", url=None, model=None, created_at=None,
        updated_at=None, turns=[("user", "Ocelots?"), ("assistant", "Small wild cats.")],
        branches=[(0, [("user", "Ocelots?"), ("assistant", BRANCH_ANSWER)])],
    )
    long, _ = vault.import_conversation(site="chatgpt", conversation_id="c-long", title="Long", url=None, model=None,
                                        created_at=None, updated_at=None, turns=LONG_TURNS)
    return {"canary": canary, "ocelot": ocelot, "long": long}


def test_mcp_reads_the_vault_file_when_the_service_is_down(home):
    vault = Vault.open(home)
    ids = seed(vault)
    vault.close()

    async def body(session):
        assert {t.name for t in (await session.list_tools()).tools} == TOOLS
        found = await text_of(session, "search", query="pangolin limericks")
        assert ids["canary"] in found and "Pangolin poetry" in found
        text = await text_of(session, "read_conversation", id=ids["canary"])
        assert CANARY in text and "## User (turn 0)" in text and DRAFT in text
        assert ids["canary"] in await text_of(session, "failed_sessions")
        assert DRAFT in await text_of(session, "unsent_drafts")
        assert "I was in the middle of a ChatGPT chat" in await text_of(session, "resume_pack", id=ids["canary"])

        ocelot = await text_of(session, "read_conversation", id=ids["ocelot"])
        assert BRANCH_ANSWER not in ocelot and "include_branches" in ocelot
        assert BRANCH_ANSWER in await text_of(session, "read_conversation", id=ids["ocelot"], include_branches=True)

        first = await text_of(session, "read_conversation", id=ids["long"])
        assert first.startswith("[page 1 of ") and len(first) <= agent_tools.PAGE_CHARS + 100
        pages = int(first.split()[3].rstrip(";]"))
        rest = [await text_of(session, "read_conversation", id=ids["long"], page=n) for n in range(2, pages + 1)]
        assert all(f"Long turn {i}:" in first + "".join(rest) for i in range(30))
        beyond = await session.call_tool("read_conversation", {"id": ids["long"], "page": pages + 1})
        assert beyond.is_error and "has" in beyond.content[0].text

        missing = await session.call_tool("read_conversation", {"id": "no-such-id"})
        assert missing.is_error and "no conversation" in missing.content[0].text

        resources = (await session.list_resources()).resources
        uris = {str(r.uri) for r in resources}
        assert f"draftvault://conversations/{ids['canary']}" in uris and "draftvault://recent" in uris
        read = await session.read_resource(f"draftvault://conversations/{ids['canary']}")
        assert CANARY in read.contents[0].text

    run_mcp(home, body)


def test_mcp_without_a_vault_says_so_and_creates_none(home):
    async def body(session):
        result = await session.call_tool("search", {"query": "anything"})
        assert result.is_error and "no DraftVault vault" in result.content[0].text
        assert [str(r.uri) for r in (await session.list_resources()).resources] == ["draftvault://recent"]

    run_mcp(home, body)
    assert not (home / "vault.db").exists()


def test_pages_stay_bounded_and_lose_nothing(vault):
    huge = "".join(f"{i:07d} " for i in range(agent_tools.PAGE_CHARS // 3))  # one turn of ~2.7 pages
    id, _ = vault.import_conversation(site="claude", conversation_id="c-huge", title="Huge", url=None, model=None,
                                      created_at=None, updated_at=None,
                                      turns=[("user", "short"), ("assistant", huge), ("user", "the end")])
    reader = agent_tools.VaultReader(vault)
    first = agent_tools.read_conversation(reader, id)
    count = int(first.split()[3].rstrip(";]"))
    pages = [first] + [agent_tools.read_conversation(reader, id, page=n) for n in range(2, count + 1)]
    assert count == 3 and all(len(p.split("\n", 1)[1]) <= agent_tools.PAGE_CHARS for p in pages)
    whole = "".join(p.split("\n", 1)[1] for p in pages)
    assert huge in whole and whole.index("short") < whole.index(huge) < whole.index("the end")


def test_a_passphrase_locked_vault_needs_the_service_or_the_passphrase(home, monkeypatch):
    vault = Vault.open(home)
    ids = seed(vault)
    vault.close()
    crypto.set_passphrase(config.key_path(home), None, "correct horse")
    access = agent_tools.Access(home)
    with pytest.raises(agent_tools.AgentError, match="DRAFTVAULT_PASSPHRASE"):
        with access.reader():
            pass
    monkeypatch.setenv("DRAFTVAULT_PASSPHRASE", "correct horse")
    with access.reader() as reader:
        assert CANARY in agent_tools.read_conversation(reader, ids["canary"])


def token_names(home: Path) -> dict[str, bool]:
    db = auth.connect(home)
    try:
        return {t.name: t.read_only for t in auth.list_tokens(db)}
    finally:
        db.conn.close()


def test_mcp_reads_through_the_running_service_with_a_read_only_token(server, home):
    with server.connect("client-mcp-live") as (ws, welcome):
        seq = welcome.last_seq
        ws.send(encode(snapshot(seq + 1, [("user", "Pangolins?"), ("assistant", CANARY)],
                                conv="c-live", title="Live pangolins", draft=DRAFT)))
        ws.send(encode(signal(seq + 2, "error_message", conv="c-live", detail="Something went wrong")))
        assert protocol.decode_server_frame(ws.recv(timeout=10)) == protocol.Ack(seq=seq + 1)
        assert protocol.decode_server_frame(ws.recv(timeout=10)) == protocol.Ack(seq=seq + 2)
    conv = server.api("GET", "/api/conversations")["items"][0]["id"]
    gone = subprocess.Popen(["true"])
    gone.wait()
    db = auth.connect(home)
    auth.create_token(db, f"mcp-{gone.pid}", read_only=True)  # a killed run's token
    db.conn.close()

    async def body(session):
        found = await text_of(session, "search", query="pangolin canary")
        assert conv in found
        assert CANARY in await text_of(session, "read_conversation", id=conv)
        assert DRAFT in await text_of(session, "unsent_drafts")
        assert DRAFT in await text_of(session, "resume_pack", id=conv, target="claude")
        failed = await text_of(session, "failed_sessions")
        assert "error_message in “Live pangolins” (chatgpt), unresolved" in failed and "unsent draft kept" in failed
        assert f"draftvault://conversations/{conv}" in {str(r.uri) for r in (await session.list_resources()).resources}
        # The search went through the service, with a read-only token made for this run.
        minted = {name: ro for name, ro in token_names(home).items() if name.startswith("mcp-")}
        assert list(minted.values()) == [True] and f"mcp-{gone.pid}" not in minted
        return minted

    minted = run_mcp(home, body)
    assert not set(minted) & set(token_names(home))  # revoked when the MCP server ended

    given = subprocess.run([sys.executable, "-m", "draftvault", "token", "create", "--name", "claude", "--read-only"],
                           capture_output=True, text=True, check=True, env=server.env).stdout.strip()

    async def with_token(session):
        assert CANARY in await text_of(session, "read_conversation", id=conv)

    run_mcp(home, with_token, DRAFTVAULT_TOKEN=given)
    assert not any(name.startswith("mcp-") for name in token_names(home))  # DRAFTVAULT_TOKEN was used, none made


def test_read_only_token_is_refused_on_every_writing_route_and_on_the_websocket(server):
    token = subprocess.run([sys.executable, "-m", "draftvault", "token", "create", "--name", "agent", "--read-only"],
                           capture_output=True, text=True, check=True, env=server.env).stdout.strip()
    listed = subprocess.run([sys.executable, "-m", "draftvault", "token", "list"],
                            capture_output=True, text=True, check=True, env=server.env).stdout
    assert any(line.split("\t")[1] == "agent" and line.endswith("read-only") for line in listed.splitlines())
    with server.connect("client-mcp-rw") as (ws, welcome):
        ws.send(encode(snapshot(welcome.last_seq + 1, [("user", "Keep me")], conv="c-keep", title="Keep")))
        ws.recv(timeout=10)
    conv = server.api("GET", "/api/conversations")["items"][0]["id"]

    assert server.request("GET", "/api/conversations", token=token).status == 200
    assert server.request("GET", f"/api/conversations/{conv}/export.md", token=token).status == 200
    # Every route that is not a read, as the service itself lists them (POST /api/pair needs no token at all).
    paths = server.api("GET", "/schema/openapi.json")["paths"]
    writes = [(method.upper(), path.replace("{id}", conv)) for path, ops in paths.items() for method in ops
              if method not in ("get", "head", "options") and path != "/api/pair"]
    assert {m for m, _ in writes} >= {"POST", "DELETE"} and len(writes) >= 5
    for method, path in writes:
        res = server.request(method, path, token=token, json={})
        assert res.status == 403 and b"read-only" in res.body, (method, path, res.status, res.body)
    assert server.api("GET", f"/api/conversations/{conv}")["title"] == "Keep"  # the DELETE did nothing

    with server.connect("client-agent", token=token) as (ws, welcome):
        assert welcome.code == "unauthorized" and "read-only" in welcome.message
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
