"""The HTTP routes: one module per entity, each a thin layer over a plain function.

Requests pass security.guard_middleware first (Host and Origin, 403 before any
handler; app.guarded). Then:
- no auth (`OPEN`): GET /api/health, POST /api/pair (the pairing code is the
  credential), GET /login?t= (the one-time link is);
- everything under /api else (`PROTECTED`), and the OpenAPI document at /schema, needs
  `Authorization: Bearer TOKEN` or the page's `dv_session` cookie, else 401 (base.require_auth).
The history page (web) and /ws (pump; the token travels in `hello`) are mounted by app.py.

Handlers declare where each argument comes from (FromQuery, FromPath, JSONBody; a
constraint as Annotated[int, QueryParameter(ge=0)]), as Litestar 3 no longer infers them; the
tests make its deprecation warnings errors (pyproject.toml, filterwarnings).

Request bodies are small unless a route says otherwise: base.MAX_BODY for every route,
a larger limit only on the routes that need one (export's id list, import's upload).
"""

from __future__ import annotations

from . import access, attachments, conversations, failures, health, search, settings, transfer

# Mounted under /api behind base.require_auth.
PROTECTED = [
    *conversations.HANDLERS, *failures.HANDLERS, search.search, access.login_link, *transfer.HANDLERS, health.capture_health,
    *settings.HANDLERS, *attachments.HANDLERS,
]
# Mounted under /api without a guard.
OPEN = [health.health, access.pair]
# Mounted at the root without a guard.
ROOT = [access.login]
