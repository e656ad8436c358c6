"""`draftvault service install|uninstall|status`: the service starts at log-in.

One small class per platform writes its service manager's file and asks the manager
to start it: a systemd user unit on Linux, a launchd agent on macOS, a Task Scheduler
task at log-on on Windows. Each runs the `draftvault` of this installation (absolute
path) with `serve`, and carries DRAFTVAULT_HOME / DRAFTVAULT_PORT when they are set,
so the service uses the vault and port that `draftvault serve` here would. Install is
idempotent (the file is rewritten, the manager told again); uninstall removes only the
service, never the vault.
"""

from __future__ import annotations

import os
import platform
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

NAME = "draftvault"
LABEL = "app.draftvault.service"  # launchd label
TASK = "DraftVault"  # Windows task name
CARRIED_ENV = ("DRAFTVAULT_HOME", "DRAFTVAULT_PORT")
DESCRIPTION = "DraftVault: keeps your AI chats and drafts, and resumes failed sessions"


class ServiceError(Exception):
    """The service manager refused; the message says what to do."""


def command() -> list[str]:
    """This installation's `draftvault` as an absolute command line, plus `serve`.

    The console script beside this Python (a venv's, pipx's or uv's bin/ or Scripts/);
    `python -m draftvault` when there is none (run from a checkout without install)."""
    script = Path(sys.executable).parent / ("draftvault.exe" if os.name == "nt" else NAME)
    if script.is_file():
        return [str(script.absolute()), "serve"]
    return [str(Path(sys.executable).absolute()), "-m", NAME, "serve"]


def carried_env() -> dict[str, str]:
    env = {k: os.environ[k] for k in CARRIED_ENV if os.environ.get(k)}
    if "DRAFTVAULT_HOME" in env:
        env["DRAFTVAULT_HOME"] = str(Path(env["DRAFTVAULT_HOME"]).expanduser().absolute())
    return env


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


class Manager:
    """One platform's service manager."""

    path: Path
    manager_name: str

    def render(self, cmd: list[str], env: dict[str, str]) -> bytes:
        raise NotImplementedError

    def available(self) -> str | None:
        """None when the manager can start services here, else why not (for the person)."""
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def state(self) -> str | None:
        """The manager's word for the service's state, when it can tell."""
        return None

    def install(self, cmd: list[str], env: dict[str, str], *, start: bool = True) -> str:
        """Writes the file; starts it when asked and possible. Returns what happened, in words."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(self.render(cmd, env))
        if not start:
            return f"Wrote {self.path} (not started: --no-start)."
        why_not = self.available()
        if why_not:
            return f"Wrote {self.path}, but {why_not}. Until then, start DraftVault yourself with `draftvault serve`."
        self.start()
        return f"Installed {self.path}: DraftVault runs now and starts by itself every time you log in."

    def uninstall(self) -> str:
        if not self.path.exists():
            return "The DraftVault service was not installed; nothing to remove."
        if self.available() is None:
            self.stop()
        self.path.unlink()
        return f"Removed {self.path}. Your vault is untouched; `draftvault serve` still runs it by hand."


# ---- Linux: systemd user unit -------------------------------------------------------


def _systemd_quote(word: str) -> str:
    # systemd unit syntax: double quotes with C-style escapes; % starts a specifier.
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


class Systemd(Manager):
    manager_name = "systemd"

    def __init__(self):
        config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        self.path = config / "systemd" / "user" / f"{NAME}.service"

    def render(self, cmd, env) -> bytes:
        lines = [
            "[Unit]",
            f"Description={DESCRIPTION}",
            "",
            "[Service]",
            "Type=simple",
            "ExecStart=" + " ".join(_systemd_quote(w) for w in cmd),
            *(f"Environment={_systemd_quote(f'{k}={v}')}" for k, v in env.items()),
            "Restart=on-failure",
            "RestartSec=5",
            # Exit 2 is a refusal that a restart cannot mend (another DraftVault already
            # runs on this vault, a passphrase nobody can type): stop instead of looping.
            "RestartPreventExitStatus=2",
            "",
            "[Install]",
            "WantedBy=default.target",
            "",
        ]
        return "\n".join(lines).encode()

    def available(self):
        if not shutil.which("systemctl"):
            return "this system has no systemd (systemctl not found)"
        if _run("systemctl", "--user", "show-environment").returncode != 0:
            return "systemd is not running for your user session here (`systemctl --user` cannot connect)"
        return None

    def start(self):
        _run("systemctl", "--user", "daemon-reload")
        done = _run("systemctl", "--user", "enable", "--now", f"{NAME}.service")
        if done.returncode != 0:
            raise ServiceError(f"systemctl --user enable --now {NAME}.service failed: {done.stderr.strip()}")
        _run("systemctl", "--user", "restart", f"{NAME}.service")  # an older unit's process picks up the new file

    def stop(self):
        _run("systemctl", "--user", "disable", "--now", f"{NAME}.service")
        _run("systemctl", "--user", "daemon-reload")

    def state(self):
        if self.available() is None:
            return _run("systemctl", "--user", "is-active", f"{NAME}.service").stdout.strip() or None
        return None


# ---- macOS: launchd agent -------------------------------------------------------------


class Launchd(Manager):
    manager_name = "launchd"

    def __init__(self):
        self.path = Path.home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"

    def render(self, cmd, env) -> bytes:
        logs = Path.home() / "Library" / "Logs" / "DraftVault.log"
        plist = {
            "Label": LABEL,
            "ProgramArguments": cmd,
            "RunAtLoad": True,
            # Started again when it stops with an error, not after a clean stop.
            "KeepAlive": {"SuccessfulExit": False},
            "ProcessType": "Background",
            "StandardOutPath": str(logs),
            "StandardErrorPath": str(logs),
        }
        if env:
            plist["EnvironmentVariables"] = env
        return plistlib.dumps(plist)

    def available(self):
        return None if shutil.which("launchctl") else "launchctl was not found"

    def _domain(self) -> str:
        return f"gui/{os.getuid()}"

    def start(self):
        _run("launchctl", "bootout", f"{self._domain()}/{LABEL}")  # an older version of the agent
        done = _run("launchctl", "bootstrap", self._domain(), str(self.path))
        if done.returncode != 0:
            raise ServiceError(f"launchctl bootstrap failed: {done.stderr.strip()}")

    def stop(self):
        _run("launchctl", "bootout", f"{self._domain()}/{LABEL}")

    def state(self):
        return "loaded" if _run("launchctl", "print", f"{self._domain()}/{LABEL}").returncode == 0 else "not loaded"


# ---- Windows: a scheduled task at log-on ------------------------------------------------

TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"


def _cmd_line(cmd: list[str], env: dict[str, str]) -> tuple[str, str]:
    """(program, arguments) for the task: the command itself, or through cmd.exe when
    variables must be set first (a task's action has no environment of its own)."""
    args = subprocess.list2cmdline(cmd[1:])
    if not env:
        return cmd[0], args
    sets = " && ".join(f'set "{k}={v}"' for k, v in env.items())
    return "cmd.exe", f'/d /c "{sets} && {subprocess.list2cmdline(cmd)}"'


class TaskScheduler(Manager):
    manager_name = "Task Scheduler"

    def __init__(self):
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        self.path = base / "DraftVault" / "draftvault-task.xml"

    def render(self, cmd, env) -> bytes:
        ET.register_namespace("", TASK_NS)
        q = lambda tag: f"{{{TASK_NS}}}{tag}"  # noqa: E731

        def sub(parent, tag, text=None):
            el = ET.SubElement(parent, q(tag))
            if text is not None:
                el.text = text
            return el

        task = ET.Element(q("Task"), version="1.2")
        sub(sub(task, "RegistrationInfo"), "Description", DESCRIPTION)
        trigger = sub(sub(task, "Triggers"), "LogonTrigger")
        sub(trigger, "Enabled", "true")
        user = os.environ.get("USERNAME")
        if user:
            domain = os.environ.get("USERDOMAIN")
            sub(trigger, "UserId", f"{domain}\\{user}" if domain else user)
        principal = sub(sub(task, "Principals"), "Principal", None)
        principal.set("id", "Author")
        sub(principal, "LogonType", "InteractiveToken")
        sub(principal, "RunLevel", "LeastPrivilege")
        settings = sub(task, "Settings")
        for tag, text in [("MultipleInstancesPolicy", "IgnoreNew"), ("DisallowStartIfOnBatteries", "false"),
                          ("StopIfGoingOnBatteries", "false"), ("ExecutionTimeLimit", "PT0S"), ("Hidden", "true")]:
            sub(settings, tag, text)
        restart = sub(settings, "RestartOnFailure")
        sub(restart, "Interval", "PT1M")
        sub(restart, "Count", "999")
        actions = sub(task, "Actions")
        actions.set("Context", "Author")
        exe = sub(actions, "Exec")
        program, arguments = _cmd_line(cmd, env)
        sub(exe, "Command", program)
        sub(exe, "Arguments", arguments)
        return ET.tostring(task, encoding="utf-16", xml_declaration=True)

    def available(self):
        return None if shutil.which("schtasks") else "schtasks was not found"

    def start(self):
        done = _run("schtasks", "/Create", "/TN", TASK, "/XML", str(self.path), "/F")
        if done.returncode != 0:
            raise ServiceError(f"schtasks /Create failed: {done.stderr.strip() or done.stdout.strip()}")
        _run("schtasks", "/Run", "/TN", TASK)

    def stop(self):
        _run("schtasks", "/End", "/TN", TASK)
        _run("schtasks", "/Delete", "/TN", TASK, "/F")

    def state(self):
        done = _run("schtasks", "/Query", "/TN", TASK)
        return "registered" if done.returncode == 0 else "not registered"


MANAGERS = {"Linux": Systemd, "Darwin": Launchd, "Windows": TaskScheduler}


def manager(system: str | None = None) -> Manager:
    system = system or platform.system()
    try:
        return MANAGERS[system]()
    except KeyError:
        raise ServiceError(f"no service manager is known for {system}; run `draftvault serve` yourself") from None


def install(*, start: bool = True, system: str | None = None) -> str:
    return manager(system).install(command(), carried_env(), start=start)


def uninstall(*, system: str | None = None) -> str:
    return manager(system).uninstall()
