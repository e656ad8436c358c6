"""What the three fake sites share: reading the real captures, turning them into
templates, routing, and the Python side of the page's control script (see __init__)."""

from __future__ import annotations

import html
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
REAL_FIXTURES = Path(
    os.environ.get("DRAFTVAULT_REAL_FIXTURES") or REPO / ".." / "shared" / "fixtures" / "real"
).resolve()
CONTROL_JS = Path(__file__).with_name("control.js")
CONTROL_PATH = "/__dv_test/control.js"


# ---- the captures -------------------------------------------------------------------

def strip_scripts(markup: str) -> str:
    """The capture without the site's scripts and without other extensions'
    injected shadow roots (QuillBot's <template shadowrootmode>)."""
    markup = re.sub(r"<script\b[^>]*>.*?</script\s*>", "", markup, flags=re.S | re.I)
    return re.sub(r"<template\s+shadowrootmode[^>]*>.*?</template\s*>", "", markup, flags=re.S | re.I)


def read_capture(name: str) -> str:
    return strip_scripts((REAL_FIXTURES / name).read_text(encoding="utf-8"))


def real_capture_html(name: str, title: str | None = None) -> str:
    """A real capture (path under REAL_FIXTURES), scripts stripped, as a full document."""
    markup = read_capture(name)
    if re.search(r"<html\b", markup, re.I):
        return markup
    head = f"<title>{html.escape(title)}</title>" if title else ""
    return f'<!doctype html><html><head><meta charset="utf-8">{head}</head><body>{markup}</body></html>'


def element_span(markup: str, start: int) -> tuple[int, int]:
    """(start, end) of the element whose start tag begins at `start`, balancing
    nested tags of the same name."""
    name = re.match(r"<([a-zA-Z][\w-]*)", markup[start:]).group(1)
    pattern = re.compile(rf"<(/?){name}\b[^>]*?(/?)>", re.I)
    depth = 0
    for m in pattern.finditer(markup, start):
        if m.group(1):
            depth -= 1
        elif not m.group(2):
            depth += 1
        if depth == 0:
            return start, m.end()
    raise ValueError(f"unbalanced <{name}> at {start}")


def replace_element(markup: str, start: int, replacement: str) -> str:
    s, e = element_span(markup, start)
    return markup[:s] + replacement + markup[e:]


def must_find(markup: str, needle: str, start: int = 0) -> int:
    i = markup.find(needle, start)
    if i < 0:
        raise ValueError(f"the capture no longer contains {needle[:60]!r}")
    return i


# ---- Markdown-ish text -> site HTML ---------------------------------------------------

def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<!\*)\*([^*]+)\*(?!\*)", r"<em>\1</em>", out)
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2" target="_blank" rel="noopener">\1</a>', out)


def render_html(text: str) -> str:
    """Assistant content as the sites render it: raw HTML when it starts with "<",
    else paragraphs, `# ` headings, `- ` lists, fenced code with a language."""
    if text.lstrip().startswith("<"):
        return text
    out: list[str] = []
    blocks = re.split(r"(```[\w+#-]*\n.*?\n```)", text, flags=re.S)
    for block in blocks:
        fence = re.match(r"```([\w+#-]*)\n(.*?)\n```$", block, re.S)
        if fence:
            lang, code = fence.groups()
            cls = f' class="language-{lang}"' if lang else ""
            out.append(f"<pre><code{cls}>{html.escape(code, quote=False)}</code></pre>")
            continue
        for para in re.split(r"\n\s*\n", block.strip()):
            if not para:
                continue
            lines = para.split("\n")
            if all(line.startswith("- ") for line in lines):
                items = "".join(f"<li><p>{_inline(line[2:])}</p></li>" for line in lines)
                out.append(f"<ul>{items}</ul>")
            elif m := re.match(r"(#{1,6}) (.*)$", para):
                n = len(m.group(1))
                out.append(f"<h{n}>{_inline(m.group(2))}</h{n}>")
            else:
                out.append("<p>" + "<br>".join(_inline(line) for line in lines) + "</p>")
    return "".join(out)


# ---- a site: templates + routing ------------------------------------------------------

@dataclass
class SiteSpec:
    """One fake site, built by its module from the real capture.

    The paths come from `config` (control.js reads the same keys): conversationPath
    ("/c/{id}"), newChatPath ("/"), idPattern (a regex with one group: the id in a path).
    """

    name: str
    origins: list[str]  # "https://chatgpt.com"
    build_page: object  # (conversation | None, conversation_id | None, options) -> html
    parts: object  # () -> {"user": ..., "assistant": ..., ["pair": ...]}: turn templates from the capture
    config: dict  # for control.js (templates, selectors, snippets)

    @property
    def conversation_path(self) -> str:
        return self.config["conversationPath"]

    @property
    def new_chat_path(self) -> str:
        return self.config["newChatPath"]

    @property
    def id_pattern(self) -> str:
        return self.config["idPattern"]

    def serve(self, context, *, composer: str = "prosemirror") -> "SiteServer":
        """Routes the site's origins in `context` (a Playwright BrowserContext); see __init__."""
        parts = self.parts()
        self.config.update({f"{k}Template": parts[k] for k in ("user", "assistant", "pair") if k in parts})
        return SiteServer(context, self, composer=composer)


@dataclass
class Conversation:
    turns: list[tuple[str, str]]
    title: str | None = None


@dataclass
class SiteServer:
    """Routes one site's origins in a Playwright BrowserContext (see __init__)."""

    context: object
    spec: SiteSpec
    composer: str = "prosemirror"
    conversations: dict[str, Conversation] = field(default_factory=dict)

    def __post_init__(self):
        for origin in self.spec.origins:
            self.context.route(f"{origin}/**", self._handle)

    def add(self, conversation_id: str, turns, title: str | None = None) -> None:
        self.conversations[conversation_id] = Conversation(list(turns), title)

    def url(self, conversation_id=None, *, temporary=False, project=None) -> str:
        path = self.spec.conversation_path.format(id=conversation_id) if conversation_id else self.spec.new_chat_path
        if project:
            path = f"/g/{project}{path}"
        if temporary:
            path += "?temporary-chat=true"
        return self.spec.origins[0] + path

    def open(self, conversation_id=None, *, turns=None, title=None, temporary=False, project=None) -> "SitePage":
        if conversation_id and turns is not None:
            self.add(conversation_id, turns, title)
        page = self.context.new_page()
        page.goto(self.url(conversation_id, temporary=temporary, project=project))
        page.wait_for_function("window.__dv_test && window.__dv_test.ready")
        return SitePage(page, self)

    def page_html(self, path: str) -> str:
        m = re.search(self.spec.id_pattern, path)
        cid = m.group(1) if m else None
        conv = self.conversations.get(cid) if cid else None
        config = dict(self.spec.config, composerKind=self.composer)
        body = self.spec.build_page(conv, cid, {"composer": self.composer})
        script = (
            f"<script>window.__dv_site = {json.dumps(config)};</script>"
            f'<script src="{CONTROL_PATH}"></script>'
        )
        return body.replace("</body>", script + "</body>")

    def _handle(self, route):
        request = route.request
        path = urlsplit(request.url).path
        if path == CONTROL_PATH:
            route.fulfill(status=200, content_type="text/javascript", body=CONTROL_JS.read_text())
        elif request.resource_type == "document":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self.page_html(path))
        else:
            route.fulfill(status=404, body="")


class SitePage:
    """One open tab of a fake site; the verbs of __init__'s docstring."""

    def __init__(self, page, site: SiteServer):
        self.page = page
        self.site = site

    def _call(self, verb: str, *args):
        return self.page.evaluate(f"([...a]) => window.__dv_test.{verb}(...a)", list(args))

    @property
    def conversation_id(self) -> str | None:
        m = re.search(self.site.spec.id_pattern, urlsplit(self.page.url).path)
        return m.group(1) if m else None

    def type(self, text: str) -> None:
        """Types with the real keyboard; newlines as Shift+Enter (Enter sends)."""
        self.page.click(self.site.spec.config["composer"])
        for i, line in enumerate(text.split("\n")):
            if i:
                self.page.keyboard.press("Shift+Enter")
            if line:
                self.page.keyboard.type(line)

    def send(self, *, click: bool = False) -> None:
        if click:
            self.page.click(self.site.spec.config["sendButton"])
        else:
            self.page.click(self.site.spec.config["composer"])
            self.page.keyboard.press("Enter")

    def draft(self) -> str:
        return self._call("draft")

    def stream_start(self) -> None:
        self._call("streamStart")

    def stream_chunk(self, text: str) -> None:
        self._call("streamChunk", text)

    def stream_html(self, markup: str) -> None:
        self._call("streamHtml", markup)

    def finish(self) -> None:
        self._call("finish")

    def stream(self, pieces, interval: float = 0.05, finish: bool = True) -> None:
        self.stream_start()
        for piece in pieces:
            self.stream_chunk(piece)
            time.sleep(interval)
        if finish:
            self.finish()

    def stop(self) -> None:
        """The user presses the stop button."""
        self.page.click(self.site.spec.config["stopButton"])

    def error(self, text: str | None = None) -> None:
        self._call("error", text) if text else self._call("error")

    def blank(self) -> None:
        self._call("blank")

    def logout(self) -> None:
        self._call("logout")

    def generate(self, n: int) -> None:
        self._call("generate", n)

    def navigate(self, conversation_id: str | None, turns=(), title: str | None = None) -> None:
        """SPA navigation (history.pushState) to another chat, or to a new chat."""
        path = self.site.spec.conversation_path.format(id=conversation_id) if conversation_id else self.site.spec.new_chat_path
        self._call("navigate", path, [[r, render_html(t) if r != "user" else t] for r, t in turns], title)

    def close(self) -> None:
        self.page.close()


def fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template


def render_turns(config: dict, turns, id_prefix: str = "t") -> str:
    """The thread's turns as the site renders them (same templates as control.js)."""
    out: list[str] = []
    pairs = config.get("pairs", False)
    for n, (role, text) in enumerate(turns, 1):
        ident = f"{id_prefix}{n:05d}"
        if role == "user":
            out.append(fill(config["userTemplate"], ID=ident, N=str(n), TEXT=user_html(config, text)))
        else:
            reply = fill(config["assistantTemplate"], ID=ident, N=str(n), HTML=render_html(text), STREAMING="false")
            if pairs:
                if out and out[-1].endswith(config["pairEnd"]):
                    out[-1] = out[-1][: -len(config["pairEnd"])] + reply + config["pairEnd"]
                else:
                    out.append(fill(config["pairTemplate"], ID=ident, BODY=reply))
            else:
                out.append(reply)
    return "".join(out)


def user_html(config: dict, text: str) -> str:
    line = config.get("userLine")
    if line:
        return "".join(fill(line, LINE=html.escape(part, quote=False)) for part in text.split("\n"))
    return html.escape(text, quote=False)


def document(title: str, body: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )


# ---- a plain Chromium page with the extension's modules (adapter tests, benchmarks) -----

EXTENSION_DIR = REPO / "extension"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXT_PATH = "/__dv_ext/"


def launch_plain(playwright):
    """Debian's Chromium without the extension."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)


def route_extension_modules(context, origin: str) -> None:
    """Serve extension/ under `origin`/__dv_ext/ so a page can import() the content
    modules (dom-to-markdown.js, sites/*.js) the way the extension loads them."""

    def handle(route):
        rel = urlsplit(route.request.url).path[len(EXT_PATH):]
        path = (EXTENSION_DIR / rel).resolve()
        if EXTENSION_DIR not in path.parents or not path.is_file():
            route.fulfill(status=404, body="")
        else:
            route.fulfill(status=200, content_type="text/javascript", body=path.read_text())

    context.route(f"{origin}{EXT_PATH}**", handle)


def set_children(markup: str, start: int, inner: str, *, attrs: str = "") -> str:
    """The element starting at `start` with its children replaced by `inner` (and
    `attrs` added to its start tag)."""
    s, e = element_span(markup, start)
    tag_end = markup.index(">", s)
    name = re.match(r"<([a-zA-Z][\w-]*)", markup[s:]).group(1)
    start_tag = markup[s:tag_end].rstrip("/") + (f" {attrs}" if attrs else "") + ">"
    return markup[:s] + start_tag + inner + f"</{name}>" + markup[e:]


def wait_for(predicate, timeout: float = 30, what: str = "the service"):
    """Polls `predicate` until it returns something truthy, and returns that; fails
    naming `what` and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last: {getattr(predicate, 'seen', value)!r}")
        time.sleep(0.05)


def open_markup(context, url: str, markup: str):
    """A page at `url` (https://chatgpt.com/...) showing `markup`, with the extension's
    modules under /__dv_ext/."""
    origin = re.match(r"https://[^/]+", url).group(0)
    route_extension_modules(context, origin)

    def serve(route):
        if route.request.resource_type == "document":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=markup)
        else:
            route.fallback()

    context.route(f"{origin}/**", serve)
    page = context.new_page()
    page.goto(url)
    return page


# Everything a site adapter reads from the open page ([site, selector]: the turn
# elements, or the one element `selector` finds).
READ_ADAPTER = """async ([site, selector]) => {
  const a = (await import('/__dv_ext/sites/' + site + '.js')).default;
  const els = selector ? [document.querySelector(selector)] : a.turnElements(document);
  return {id: a.conversationId(location, document), ignore: a.ignore(location), temporary: a.temporary(location),
    title: a.title(document), model: a.model(document), turns: els.map((e) => a.readTurn(e)),
    listed: a.turnElements(document).length, draft: a.readDraft(document), streaming: a.isStreaming(document),
    error: a.errorText(document), loggedOut: a.loggedOut(document)};
}"""


def read_adapter(context, url: str, markup: str, site: str, selector: str | None = None) -> dict:
    """READ_ADAPTER on `markup` served at `url`."""
    return open_markup(context, url, markup).evaluate(READ_ADAPTER, [site, selector])


def read_served(context, serve, conversation_id: str, turns) -> dict:
    """READ_ADAPTER on a fake site's chat holding `turns` (`serve`: chatgpt.serve, ...)."""
    site = serve(context)
    route_extension_modules(context, site.spec.origins[0])
    tab = site.open(conversation_id, turns=turns)
    return tab.page.evaluate(READ_ADAPTER, [site.spec.name, None])
