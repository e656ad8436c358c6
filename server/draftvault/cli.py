"""The `draftvault` command: each command is a few lines over a library function.

The vault lives under $DRAFTVAULT_HOME (else the platform's user data directory).
A passphrase-protected key is unlocked with $DRAFTVAULT_PASSPHRASE, else a prompt.
A wrong passphrase, like any refused input, exits 2 with a one-line message. No
traceback reaches the user: a broken vault (key missing, replaced, damaged or readable by
others; a damaged database; a home that cannot be written) is explained in a few lines,
anything unexpected in one; `draftvault --debug COMMAND` shows the traceback.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import webbrowser
from contextlib import contextmanager
from pathlib import Path

import click

# Light imports only: commands that need the vault, the web stack or rich import them inside.
from . import auth, config, crypto, runtime, times


def _home() -> Path:
    return config.home()


def _passphrase(home: Path) -> str | None:
    env = config.passphrase()
    if env is not None:
        return env
    key = config.key_path(home)
    if key.exists() and crypto.is_passphrase_protected(key):
        return click.prompt("Vault passphrase", hide_input=True, err=True)
    return None


@contextmanager
def _vault():
    from .store import NewerSchema, Vault

    home = _home()
    try:
        vault = Vault.open(home, _passphrase(home))
    except (crypto.WrongPassphrase, crypto.PassphraseRequired, NewerSchema) as e:  # KeyMismatch: _explain
        _fail(str(e))
    try:
        yield vault
    finally:
        vault.close()


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@contextmanager
def _progress(what: str):
    """A rich progress bar on stderr; yields the callback progress(done, total)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _explain(e: Exception) -> str | None:
    """A message for an error that a broken vault or machine causes, else None."""
    from .store import KeyMismatch

    if isinstance(e, crypto.KeyFileError):
        return str(e)
    if isinstance(e, KeyMismatch):
        return f"{e}. Restore the vault's own vault.key from your backup: a new key cannot open it"
    if isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError):
        return f"the vault database is damaged ({e}); `draftvault verify` shows what can still be read and how to salvage it"
    if isinstance(e, (OSError, sqlite3.OperationalError)):
        filename = getattr(e, "filename", None)
        where = filename or os.environ.get("DRAFTVAULT_HOME") or "the vault's directory"
        reason = getattr(e, "strerror", None) or str(e)
        if filename and not Path(os.path.abspath(filename)).is_relative_to(config.home_path().absolute()):
            return f"cannot use {where}: {reason}"  # a file the command was given (an --out), not the vault
        return (f"cannot use {where}: {reason}. The vault needs a directory it can write: "
                "make it writable, or set DRAFTVAULT_HOME to one")
    return None


class _Main(click.Group):
    """Turns errors into messages (see the module's docstring)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as e:
            if isinstance(e, (click.ClickException, click.exceptions.Exit, click.Abort)) or (ctx.obj or {}).get("debug"):
                raise
            message = _explain(e)
            if message is None:
                click.echo(f"Error: unexpected {type(e).__name__}: {e} (`draftvault --debug ...` shows where)", err=True)
                sys.exit(1)
            _fail(message)


@click.group(cls=_Main)
@click.version_option(package_name="draftvault")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """DraftVault: an encrypted local vault of your AI chats and drafts."""
    ctx.obj = {"debug": debug}


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback only by default).")
@click.option("--port", type=int, default=None, help="Port (default $DRAFTVAULT_PORT or 8737).")
def serve(host: str, port: int | None) -> None:
    """Run the service (creates the vault on first run)."""
    from .app import serve as run

    home = _home()
    try:
        run(home, host, port or config.port(), _passphrase(home), echo=click.echo)
    except (crypto.WrongPassphrase, crypto.PassphraseRequired, runtime.AlreadyRunning) as e:
        _fail(str(e))


@main.command()
def pair() -> None:
    """Print a one-time pairing code for the extension (valid 5 minutes)."""
    click.echo(auth.create_pair_code(auth.connect(_home())))


@main.command("open")
def open_page() -> None:
    """Open the history page, signed in (a one-time link)."""
    home = _home()
    running = runtime.running_service(home)
    link = auth.login_link(auth.connect(home), running.port if running else config.port())
    click.echo(link)
    webbrowser.open(link)


@main.group()
def token() -> None:
    """API tokens for scripts."""


@token.command("create")
@click.option("--name", required=True, help="A name to recognise (and revoke) the token by.")
@click.option("--read-only", is_flag=True, help="Reading only: refused on every writing route and on the WebSocket.")
def token_create(name: str, read_only: bool) -> None:
    """Print a new API token."""
    click.echo(auth.create_token(auth.connect(_home()), name, read_only=read_only))


@token.command("list")
def token_list() -> None:
    """List live tokens (never the tokens themselves)."""
    for t in auth.list_tokens(auth.connect(_home())):
        click.echo(f"{t.id}\t{t.name}\t{t.origin or '-'}\t{t.created_at}" + ("\tread-only" if t.read_only else ""))


@token.command("revoke")
@click.argument("name_or_id")
def token_revoke(name_or_id: str) -> None:
    """Revoke the token with this id, or every token with this name."""
    if not auth.revoke_token(auth.connect(_home()), name_or_id):
        _fail(f"no live token named or with id {name_or_id!r}")
    click.echo(f"revoked {name_or_id}")


@main.command()
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {conversation, title, snippet}.")
@click.option("--site", type=click.Choice(["chatgpt", "claude", "gemini"]), default=None)
@click.option("--limit", type=int, default=20, show_default=True)
def search(query: str, as_json: bool, site: str | None, limit: int) -> None:
    """Search saved conversations and drafts."""
    with _vault() as vault:
        hits = vault.search(query, site=site, limit=limit)
    if as_json:
        click.echo(json.dumps([{"conversation": h.conversation, "title": h.title, "snippet": h.snippet} for h in hits]))
        return
    if not hits:  # on stderr: a script reading the hits still reads nothing
        click.echo(f"Nothing saved matches {query!r}.", err=True)
    for h in hits:
        click.echo(f"{h.conversation}  {h.title or '(untitled)'}\n    {h.snippet}")


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "chatgpt", "openwebui"]), default="md",
              show_default=True, help="chatgpt: ChatGPT's conversations.json; openwebui: Open WebUI's chat JSON.")
@click.option("--out", "out_arg", type=click.Path(), default=None,
              help="File to write (default: stdout for one conversation, else draftvault-export-TIME.zip, or "
                   ".json for chatgpt/openwebui). With md, an existing folder (or a path ending in /) gets one "
                   "note per conversation, updating the notes an earlier export wrote there.")
@click.argument("conversations", nargs=-1)
def export_cmd(fmt: str, out_arg: str | None, conversations: tuple[str, ...]) -> None:
    """Export one conversation as Markdown/JSON, or several (default all) as a .zip, a folder of notes,
    or a file that ChatGPT-reading tools and Open WebUI import."""
    from . import exchange, export

    out = Path(out_arg) if out_arg else None
    ids = list(conversations) or None
    stamp = times.file_stamp()
    with _vault() as vault:
        if fmt in ("chatgpt", "openwebui"):
            out = out or Path(f"draftvault-{fmt}-{stamp}.json")
            with _progress("Exporting") as progress, _private(out) as f:
                n = exchange.write(vault, ids, fmt, f, progress=progress)
            click.echo(f"exported {n} conversations to {out}")
            return
        if fmt == "md" and out is not None and (out.is_dir() or out_arg.endswith(("/", os.sep))):
            with _progress("Exporting") as progress:
                n = export.export_folder(vault, ids, out, progress=progress)
            click.echo(f"exported {n} conversations to {out}")
            return
        if len(conversations) == 1 and (out is None or out.suffix != ".zip"):
            detail = vault.get_conversation(conversations[0])
            if detail is None:
                _fail(f"no conversation {conversations[0]!r}")
            data = export.conversation_markdown(detail).encode() if fmt == "md" else export.conversation_json(detail)
            if out is None:
                sys.stdout.buffer.write(data)
            else:
                with _private(out) as f:
                    f.write(data)
            return
        out = out or Path(f"draftvault-export-{stamp}.zip")
        with _progress("Exporting") as progress, _private(out) as f:
            n = export.export_zip(vault, ids, fmt, f, progress=progress)
    click.echo(f"exported {n} conversations to {out}")


def _private(path: Path):
    """`path` opened for writing, 0600 (an export is the vault's plaintext)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    return os.fdopen(fd, "wb")


@main.group("import")
def import_group() -> None:
    """Import conversations from elsewhere."""


def _import(kind: str, path: Path) -> None:
    from .importers import IMPORTERS, ImportFailed

    with _vault() as vault, _progress("Importing") as progress:
        try:
            r = IMPORTERS[kind](vault, path, progress=progress)
        except ImportFailed as e:
            _fail(f"{e}; nothing was imported")
    click.echo(
        f"{r.conversations} conversations: {r.created} new, {r.updated} updated, {r.unchanged} unchanged; {r.turns} turns"
    )
    for note in r.notes:
        click.echo(note)


@import_group.command("chatgpt-export")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_chatgpt(path: Path) -> None:
    """Import a ChatGPT data export (its .zip, conversations.json or conversations-NNN.json)."""
    _import("chatgpt-export", path)


@import_group.command("claude-export")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_claude(path: Path) -> None:
    """Import a Claude data export (its .zip or conversations.json; projects.json beside it too)."""
    _import("claude-export", path)


@import_group.command("gemini-takeout")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_gemini(path: Path) -> None:
    """Import Google Takeout's My Activity for Gemini Apps (the .zip, My Activity.json or .html)."""
    _import("gemini-takeout", path)


@main.command("mcp")
def mcp_cmd() -> None:
    """Serve the vault, read-only, to AI assistants (Model Context Protocol on stdio).

    Through the running service (a read-only token: $DRAFTVAULT_TOKEN, else one made for
    this run), or from the vault file when the service is not running."""
    from .mcp_server import run

    run(_home())


@main.command()
def status() -> None:
    """Where the vault is, its size, how many conversations, whether the service runs."""
    home = _home()
    if not config.db_path(home).exists():
        click.echo(f"vault: none yet under {home} (`draftvault serve` creates it)")
    else:
        with _vault() as vault:
            stats = vault.stats()
        click.echo(f"vault: {stats['path']}")
        click.echo(f"size: {stats['size_bytes']} bytes")
        click.echo(f"conversations: {stats['conversations']}")
        click.echo(f"turns: {stats['turns']}")
    info = runtime.running_service(home)
    click.echo(f"service: running, pid {info.pid} on {info.host}:{info.port}" if info else "service: not running")


@main.command()
@click.option("--reindex", is_flag=True, help="Then rebuild the search index from the content (mends a damaged index).")
def verify(reindex: bool) -> None:
    """Check that every record decrypts and authenticates; exit 1 listing bad ones."""
    from . import salvage

    try:
        with _vault() as vault:
            report = vault.verify()
            if reindex:
                vault.reindex()
    except sqlite3.DatabaseError as e:
        if isinstance(e, sqlite3.OperationalError):
            raise
        for line in salvage.report(config.db_path(_home()), e):
            click.echo(line)
        sys.exit(1)
    for bad in report.bad:
        click.echo(f"BAD {bad}")
    click.echo(f"checked {report.checked} records, {len(report.bad)} bad")
    if reindex:
        click.echo("search index rebuilt")
    elif any(bad.startswith("search index") for bad in report.bad):
        click.echo("the search index can be rebuilt from the content: draftvault verify --reindex")
    sys.exit(1 if report.bad else 0)


@main.group()
def passphrase() -> None:
    """Protect the vault key with a passphrase, or go back to the key file alone."""


@passphrase.command("set")
def passphrase_set() -> None:
    """Set or change the passphrase (re-wraps the key; the vault is not re-encrypted)."""
    home = _home()
    if not config.key_path(home).exists():
        with _vault():  # first use: create the vault and its key
            pass
    _rewrap(home, ask_new=True)
    click.echo("passphrase set")


@passphrase.command("remove")
def passphrase_remove() -> None:
    """Remove the passphrase: the key file alone unlocks the vault."""
    _rewrap(_home(), ask_new=False)
    click.echo("passphrase removed")


def _rewrap(home: Path, *, ask_new: bool) -> None:
    key = config.key_path(home)
    current = _passphrase(home) if crypto.is_passphrase_protected(key) else None
    new = click.prompt("New passphrase", hide_input=True, confirmation_prompt=True, err=True) if ask_new else None
    try:
        crypto.set_passphrase(key, current, new)
    except (crypto.WrongPassphrase, crypto.PassphraseRequired) as e:
        _fail(str(e))


# Setting up for a person: service, extension, doctor (cli_setup.py).
from .cli_setup import COMMANDS as _SETUP_COMMANDS  # noqa: E402

for _command in _SETUP_COMMANDS:
    main.add_command(_command)
