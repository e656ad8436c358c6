"""What a test needs from the machine: missing on a developer's machine, the test is
skipped with the reason (pytest -ra lists it); missing under CI (CI=true), where
scripts/test installs everything and runs as root, it fails, so a lost install step or
permission shows instead of hiding as a skip."""

import os

import pytest


def missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must provide it")
    pytest.skip(reason)
