"""The service's log: to stderr, and unable to flood it.

An attack or a broken disk can raise the same error thousands of times a second
(asyncio logged EMFILE 317,439 times in 20 s). `OncePerInterval` lets one line of
each kind (logger, level, first line of the message template) through per
INTERVAL_S and counts the rest into the next line of that kind.
"""

from __future__ import annotations

import logging
import time

INTERVAL_S = 60.0


class OncePerInterval(logging.Filter):
    def __init__(self, interval_s: float = INTERVAL_S, clock=time.monotonic):
        super().__init__()
        self.interval_s, self.clock = interval_s, clock
        self._seen: dict[tuple, tuple[float, int]] = {}  # kind -> (last let through, suppressed since)

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, record.levelno, str(record.msg).split("\n", 1)[0][:200])
        now = self.clock()
        last, suppressed = self._seen.get(kind, (None, 0))
        if last is not None and now - last < self.interval_s:
            self._seen[kind] = (last, suppressed + 1)
            return False
        if len(self._seen) > 1000:  # bounded however many kinds there are
            self._seen.clear()
        self._seen[kind] = (now, 0)
        if suppressed:
            record.msg = f"{record.msg} ({suppressed} more like this in the last {self.interval_s:g} s)"
        return True


def config(level: str = "WARNING") -> dict:
    """A logging.config dict for uvicorn's `log_config`: every logger through one throttled handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"throttle": {"()": OncePerInterval}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["throttle"],
                       "stream": "ext://sys.stderr"},
        },
        "loggers": {name: {"level": level, "handlers": [], "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
        "root": {"level": level, "handlers": ["stderr"]},
    }
