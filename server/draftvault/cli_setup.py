"""The commands that set DraftVault up for a person: `service`, `extension`, `doctor`.

Each is a few lines over install.py, packaging.py and doctor.py; cli.py adds them to
the `draftvault` group.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import config, doctor, guide, install, packaging


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@click.group()
def service() -> None:
    """Start DraftVault by itself at every log-in (systemd, launchd, Task Scheduler)."""


@service.command("install")
@click.option("--no-start", is_flag=True, help="Only write the service file; do not ask the service manager to start it.")
def service_install(no_start: bool) -> None:
    """Install the service for this user and start it now (again: updates it)."""
    home = config.home()
    running = doctor.running(home)
    try:
        click.echo(install.install(start=not no_start))
    except install.ServiceError as e:
        _fail(str(e))
    if running:
        click.echo(f"DraftVault was already running (pid {running.pid}). If you started it yourself with "
                   "`draftvault serve`, stop it (Ctrl-C in its window) and run `draftvault service install` "
                   "again, so the service takes over.")
    click.echo(guide.after_service_install(bool(doctor.extension_tokens(home))))


@service.command("uninstall")
def service_uninstall() -> None:
    """Stop the service and remove it (the vault stays)."""
    try:
        click.echo(install.uninstall())
    except install.ServiceError as e:
        _fail(str(e))


@service.command("status")
def service_status() -> None:
    """Whether the service is installed and running, on which port, since when."""
    try:
        svc = install.manager()
    except install.ServiceError as e:
        _fail(str(e))
    state = svc.state() if svc.path.exists() else None
    click.echo(f"installed: {'yes, ' + str(svc.path) if svc.path.exists() else 'no'}"
               + (f" ({svc.manager_name}: {state})" if state else ""))
    info = doctor.running(config.home())
    if info:
        click.echo(f"running: yes, pid {info.pid}, port {info.port}, since {doctor.since(info.started_at)}")
    else:
        click.echo("running: no")


@click.command("extension")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to write the extension (or its zip) into.")
@click.option("--browser", type=click.Choice(["chrome", "firefox"]), default="chrome", show_default=True)
@click.option("--zip", "as_zip", is_flag=True, help="Write draftvault-BROWSER-VERSION.zip (for the store) instead of a folder.")
def extension(out: Path, browser: str, as_zip: bool) -> None:
    """Write the browser extension, ready to load or to upload to the store."""
    try:
        written = packaging.write_extension(out, browser, as_zip=as_zip)
    except packaging.PackagingError as e:
        _fail(str(e))
    click.echo(f"wrote {written}")
    if not as_zip:
        how = ("Firefox: about:debugging, This Firefox, Load Temporary Add-on, choose its manifest.json"
               if browser == "firefox" else "Chrome: chrome://extensions, Developer mode on, Load unpacked, choose the folder")
        click.echo(f"To load it: {how}.")


@click.command("doctor")
def doctor_cmd() -> None:
    """Check the service, port, extension, vault, key file and disk; say what to do."""
    checks = doctor.run_checks(config.home())
    for c in checks:
        click.echo(f"{c.level.upper():5} {c.name}: {c.detail}")
        if c.todo and c.level != "ok":
            click.echo(f"      what to do: {c.todo}")
    failed = sum(c.level == "fail" for c in checks)
    click.echo("Everything looks right." if not failed else f"{failed} problem{'s' if failed != 1 else ''} found.")
    sys.exit(1 if failed else 0)


COMMANDS = [service, extension, doctor_cmd]
