"""`draftvault service install|uninstall|status`, run as a person runs it, and the
service files of the three platforms: the systemd unit passes `systemd-analyze
verify`, the launchd plist and the Windows task XML parse and say the right things.

The CLI runs with a PATH that has no systemctl, so a test never touches the real
user's systemd (and the "no systemd here" message is what it shows)."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from needs import missing
from draftvault import config, install

BIN = Path(sys.executable).parent
INSTALLED = BIN / "draftvault"  # the console script of the venv the tests run in


def dv(*args: str, xdg: Path, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg), "PATH": str(BIN), **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "draftvault", *args], capture_output=True, text=True, env=env, timeout=60)


def unit_path(xdg: Path) -> Path:
    return xdg / "systemd" / "user" / "draftvault.service"


def test_install_writes_a_unit_that_runs_this_draftvault_on_this_vault(home, tmp_path):
    xdg = tmp_path / "config dir"  # a space, as in many home folders
    done = dv("service", "install", xdg=xdg)
    assert done.returncode == 0, done.stderr
    unit = unit_path(xdg).read_text()
    assert f'ExecStart="{INSTALLED}" "serve"' in unit
    assert INSTALLED.is_file()
    assert f'Environment="DRAFTVAULT_HOME={home}"' in unit
    assert "Restart=on-failure" in unit and "WantedBy=default.target" in unit
    # No systemd for this user here: the person is told, and what to do meanwhile.
    assert "systemctl not found" in done.stdout and "draftvault serve" in done.stdout
    assert "Next step: connect your browser" in done.stdout


def test_unit_passes_systemd_analyze_verify(home, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing("systemd-analyze is missing (scripts/test installs Debian's systemd)")
    assert dv("service", "install", "--no-start", xdg=tmp_path).returncode == 0
    unit = unit_path(tmp_path)
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    # verify exits 0 even on a bad line: what it says about our file is the verdict.
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if unit.name in line]
    assert done.returncode == 0 and complaints == [], done.stdout + done.stderr
    # ...and it does catch a bad unit here.
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert f"{unit.name}:" in done.stdout + done.stderr


def test_install_twice_uninstall_twice_leaves_one_then_none_and_the_vault(home, tmp_path):
    config.write_private(config.db_path(home), b"")  # stands for the vault: uninstall must leave it
    for _ in range(2):
        assert dv("service", "install", "--no-start", xdg=tmp_path).returncode == 0
    assert list((tmp_path / "systemd" / "user").iterdir()) == [unit_path(tmp_path)]
    status = dv("service", "status", xdg=tmp_path)
    assert f"installed: yes, {unit_path(tmp_path)}" in status.stdout and "running: no" in status.stdout
    first, second = dv("service", "uninstall", xdg=tmp_path), dv("service", "uninstall", xdg=tmp_path)
    assert first.returncode == second.returncode == 0
    assert "Your vault is untouched" in first.stdout and "nothing to remove" in second.stdout
    assert list((tmp_path / "systemd" / "user").iterdir()) == []
    assert config.db_path(home).exists()
    assert "installed: no" in dv("service", "status", xdg=tmp_path).stdout


def test_status_says_running_port_and_since(server, tmp_path):
    out = dv("service", "status", xdg=tmp_path, extra_env={"DRAFTVAULT_PORT": str(server.port)}).stdout
    assert f"running: yes, pid {server.proc.pid}, port {server.port}, since 20" in out
    assert "(just now)" in out or "minute" in out
    # A service started by hand: the person learns how the installed one takes over.
    out = dv("service", "install", "--no-start", xdg=tmp_path).stdout
    assert f"already running (pid {server.proc.pid})" in out and "Ctrl-C" in out


def test_launchd_plist_runs_at_load_and_keeps_alive(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    agent = install.Launchd()
    plist = plistlib.loads(agent.render([str(INSTALLED), "serve"], {"DRAFTVAULT_HOME": "/Users/a b/vault"}))
    assert agent.path == tmp_path / "Library" / "LaunchAgents" / "app.draftvault.service.plist"
    assert plist["Label"] == "app.draftvault.service"
    assert plist["ProgramArguments"] == [str(INSTALLED), "serve"]
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["EnvironmentVariables"] == {"DRAFTVAULT_HOME": "/Users/a b/vault"}


TASK = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"


@pytest.mark.parametrize("env", [{}, {"DRAFTVAULT_HOME": r"C:\Users\a b\vault"}])
def test_windows_task_starts_draftvault_at_log_on(env):
    exe = r"C:\Users\a b\pipx\venvs\draftvault\Scripts\draftvault.exe"
    task = ET.fromstring(install.TaskScheduler().render([exe, "serve"], env))
    assert task.find(f"{TASK}Triggers/{TASK}LogonTrigger/{TASK}Enabled").text == "true"
    action = task.find(f"{TASK}Actions/{TASK}Exec")
    command, arguments = action.find(f"{TASK}Command").text, action.find(f"{TASK}Arguments").text
    if env:  # a task has no environment of its own: cmd.exe sets it, then runs draftvault
        assert command == "cmd.exe" and f'"{exe}" serve' in arguments and r'set "DRAFTVAULT_HOME=C:\Users\a b\vault"' in arguments
    else:
        assert (command, arguments) == (exe, "serve")
    assert task.find(f"{TASK}Settings/{TASK}RestartOnFailure/{TASK}Count").text == "999"
