"""DraftVault's words, in one place: site names and where the sites live, resume targets,
role headings, what each failure kind means in words, and the phrases the chat sites
show when something failed.

The extension and the history page use the same words: `scripts/gen-schema` writes
this module as JavaScript to `extension/lib/vocabulary.js` and
`server/draftvault/web/static/vocabulary.js` (the page is served by the service and
cannot import extension files), and the words the extension shows (site and target
names, failure kinds) as the `vocab_*` messages of `extension/_locales/en/messages.json`,
where translations find them; `python -m draftvault.schema --check` fails when they
are stale. Edit the words here, never in the generated files.
"""

from __future__ import annotations

import json
import re
from typing import get_args

import msgspec

from .models import BranchReason, ResumeTarget
from .protocol import FailureKind, Role, Site


class SiteInfo(msgspec.Struct, frozen=True):
    name: str  # as the UI says it
    hosts: tuple[str, ...]  # host names its adapter serves
    origins: tuple[str, ...]  # match patterns (manifest host permissions)
    new_chat: str  # where a new chat starts


class Target(msgspec.Struct, frozen=True):
    """Where a resume pack can go."""

    name: str
    url: str | None  # the page that takes the pack (None: copy only)
    origin: str | None  # the permission that page needs
    content_script: bool  # DraftVault's content script runs there (fills the composer)


SITES: dict[Site, SiteInfo] = {
    "chatgpt": SiteInfo("ChatGPT", ("chatgpt.com", "chat.openai.com"),
                        ("https://chatgpt.com/*", "https://chat.openai.com/*"), "https://chatgpt.com/"),
    "claude": SiteInfo("Claude", ("claude.ai",), ("https://claude.ai/*",), "https://claude.ai/new"),
    "gemini": SiteInfo("Gemini", ("gemini.google.com",), ("https://gemini.google.com/*",),
                       "https://gemini.google.com/app"),
}

TARGETS: dict[ResumeTarget, Target] = {
    **{site: Target(s.name, s.new_chat, s.origins[0], True) for site, s in SITES.items()},
    "copilot": Target("Copilot", "https://copilot.microsoft.com/", "https://copilot.microsoft.com/*", False),
    "generic": Target("any assistant", None, None, False),
}

ROLE_HEADINGS: dict[Role, str] = {"user": "User", "assistant": "Assistant", "system": "System", "tool": "Tool"}

# One phrase per failure kind; {site} is the site's name ("The site" when unknown).
FAILURE_WORDS: dict[FailureKind, str] = {
    "error_message": "{site} showed an error",
    "rate_limited": "Rate or usage limit reached",
    "capacity": "{site} was at capacity",
    "http_error": "{site}'s server failed to answer",
    "stream_incomplete": "The answer was cut off",
    "stalled": "The answer stopped half-way",
    "turns_vanished": "Messages disappeared from the chat",
    "blank_page": "The page went blank",
    "offline": "The network went away",
    "logged_out": "You were logged out",
    "tab_closed": "The tab closed mid-answer or with an unsent draft",
}
UNKNOWN_SITE = "The site"

# Why an earlier version is no longer the current one, as "Earlier version, <words>".
BRANCH_REASONS: dict[BranchReason, str] = {
    "regenerated": "regenerated",
    "edited": "edited",
    "cut_off": "cut off",
    "conflict": "overwritten by another tab",
    "imported": "imported",
}

# What the sites say when an answer failed (matched without case). The detector
# refines error messages naming limits or capacity (the last two lists).
FAILURE_PHRASES = (
    "something went wrong",
    "there was an error generating a response",
    "network error",
    "message delivery timed out",
    "connection interrupted",
    "error in message stream",
    "internal server error",
    "bad gateway",
    "gateway timeout",
    "gateway time-out",
    "service unavailable",
    # ChatGPT's notices in place of an answer (2025-2026): the waiting card, stream errors
    "waiting for the complete answer",
    "resume stream unavailable",
    "stream cache expired",
    "thinking failed",
    "error in body stream",
    "maximum length for this conversation",
)
RATE_LIMIT_PHRASES = (
    "too many requests",
    "rate limit",
    "usage limit",
    "usage cap",
    "reached our limit",
    "reached the current usage",
    "hit your limit",
    "limit of messages",
    "message limit",
)
CAPACITY_PHRASES = ("at capacity", "capacity exceeded", "over capacity", "exceeded capacity")
ERROR_PHRASES = FAILURE_PHRASES + RATE_LIMIT_PHRASES + CAPACITY_PHRASES
# Broader: words that make an alert or toast outside the chat an error the adapter
# reports (the phrases above then decide whether it is a failure).
ALERT_WORDS = (
    "went wrong", "error", "network", "capacity", "too many requests", "rate limit", "bad gateway",
    "unavailable", "timed out", "failed", "try again", "limit", "interrupted",
)


def _check() -> None:
    """The words cover each closed list exactly (a new kind or site must get its words)."""
    for words, literal in ((SITES, Site), (TARGETS, ResumeTarget), (ROLE_HEADINGS, Role),
                           (FAILURE_WORDS, FailureKind), (BRANCH_REASONS, BranchReason)):
        if list(words) != list(get_args(literal)):
            raise RuntimeError(f"vocabulary: {sorted(words)} != {get_args(literal)}")


_check()


def site_name(site: str | None) -> str:
    return SITES[site].name if site in SITES else (site or UNKNOWN_SITE)


def role_heading(role: str) -> str:
    return ROLE_HEADINGS.get(role, role.title())


def failure_in_words(kind: str, site: str | None = None) -> str:
    words = FAILURE_WORDS.get(kind)
    return words.format(site=site_name(site)) if words else kind


# ---- the extension's messages ----------------------------------------------------------

# The words the extension shows go through chrome.i18n as these messages (the
# JavaScript copy looks them up, English when there is no chrome.i18n); role headings,
# branch reasons and the phrases are the history page's or the sites' words.
MESSAGE_PREFIX = "vocab_"


def _message(text: str, description: str) -> dict:
    """A chrome.i18n message; {site} becomes its placeholder $site$ (filled with $1)."""
    message: dict = {"message": text.replace("$", "$$").replace("{site}", "$site$"), "description": description}
    if "{site}" in text:
        message["placeholders"] = {"site": {"content": "$1", "example": SITES["chatgpt"].name}}
    return message


def messages() -> dict[str, dict]:
    """The extension's `vocab_*` messages (English), in vocabulary.py's order."""
    where = "(generated from server/draftvault/vocabulary.py: edit the English there)"
    out = {f"{MESSAGE_PREFIX}site_{k}": _message(s.name, f"A chat site's name {where}") for k, s in SITES.items()}
    out[f"{MESSAGE_PREFIX}site_unknown"] = _message(UNKNOWN_SITE, f"Stands for a site's name when it is unknown {where}")
    out.update({f"{MESSAGE_PREFIX}target_{k}": _message(t.name, f"Where a resume pack can go {where}")
                for k, t in TARGETS.items()})
    out.update({f"{MESSAGE_PREFIX}failure_{k}": _message(w, f"What went wrong in a failed chat session {where}")
                for k, w in FAILURE_WORDS.items()})
    return out


# ---- the JavaScript copy --------------------------------------------------------------

def _js_regexp(phrases: tuple[str, ...]) -> str:
    alternatives = "|".join(re.sub(r"[\\^$.*+?()[\]{}|/-]", r"\\\g<0>", p) for p in phrases)
    return f"/{alternatives}/i"


def _js_data(value) -> str:
    return json.dumps(msgspec.to_builtins(value), ensure_ascii=False, indent=2)


def javascript() -> str:
    """This module as an ES module (what scripts/gen-schema writes)."""
    sites = {k: {"name": s.name, "hosts": s.hosts, "origins": s.origins, "newChat": s.new_chat}
             for k, s in SITES.items()}
    targets = {k: {"name": t.name, "url": t.url, "origin": t.origin, "contentScript": t.content_script}
               for k, t in TARGETS.items()}
    return f"""\
// generated by scripts/gen-schema from vocabulary.py; do not edit
// (DraftVault's words: site names, resume targets, role headings, failure kinds in
// words, the error phrases the chat sites show; see server/draftvault/vocabulary.py)

const freeze = (o) => Object.freeze(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Object.freeze(v)])));

// In the extension the words a person sees come from _locales/<language>/messages.json
// ("{MESSAGE_PREFIX}*", generated from vocabulary.py too), so a translation names them; where there is
// no chrome.i18n (the history page, Node) they are the English here.
const word = (key, english, subs) => globalThis.chrome?.i18n?.getMessage(key, subs) || english;
const named = (group, o) =>
  freeze(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, {{ ...v, name: word(`{MESSAGE_PREFIX}${{group}}_${{k}}`, v.name) }}])));

export const SITES = named("site", {_js_data(sites)});

export const TARGETS = named("target", {_js_data(targets)});

export const ROLE_HEADINGS = Object.freeze({_js_data(ROLE_HEADINGS)});

// {{site}}: the site's name ({json.dumps(UNKNOWN_SITE)} when unknown).
export const FAILURE_WORDS = Object.freeze({_js_data(FAILURE_WORDS)});

// Why an earlier version is no longer the current one.
export const BRANCH_REASONS = Object.freeze({_js_data(BRANCH_REASONS)});

// What the sites say when an answer failed.
export const ERROR_PHRASES = {_js_regexp(ERROR_PHRASES)};

// Words that make an alert outside the chat an error the adapter reports.
export const ALERT_WORDS = {_js_regexp(ALERT_WORDS)};

/** A site's name as the UI says it. */
export function siteName(site) {{
  return Object.hasOwn(SITES, site) ? SITES[site].name : site || word("{MESSAGE_PREFIX}site_unknown", {json.dumps(UNKNOWN_SITE)});
}}

/** What went wrong, in words right for the site. */
export function kindInWords(kind, site) {{
  if (!Object.hasOwn(FAILURE_WORDS, kind)) return kind;
  const name = siteName(site);
  return word(`{MESSAGE_PREFIX}failure_${{kind}}`, FAILURE_WORDS[kind].replace("{{site}}", name), [name]);
}}
"""
