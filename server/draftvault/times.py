"""How DraftVault writes times: ISO 8601 in UTC to the millisecond, and a compact stamp for file names."""

from __future__ import annotations

from datetime import datetime, timezone


def now_iso() -> str:
    return iso(datetime.now(timezone.utc))


def iso(moment: datetime) -> str:
    """An aware datetime as now_iso writes times (UTC, milliseconds)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def iso_of(epoch_s: float) -> str:
    """Seconds since the epoch as now_iso writes them."""
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat(timespec="milliseconds")


def file_stamp() -> str:
    """Now as 20261129-211500 (UTC): sorts by time, safe in any file name."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
