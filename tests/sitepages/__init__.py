"""Fake-but-real-structured chat pages for browser tests.

Each site module (``chatgpt``, ``claude``, ``gemini``) builds pages from the real
captures under ``../shared/fixtures/real/`` (their scripts stripped): the real turn
markup is the template for every turn, the real composer is the composer. A small
page-world control script (``control.js``, ``window.__dv_test``) plays the site:
typing, sending, streaming, errors, blank pages, SPA navigation.

Usage (any Playwright ``BrowserContext``; with the extension use ``browser_ctx.context``)::

    from sitepages import chatgpt   # tests/ is on sys.path under pytest (tests/conftest.py)

    site = chatgpt.serve(browser_ctx.context)        # routes https://chatgpt.com/** (and chat.openai.com)
    chat = site.open("c0ffee-1", turns=[("user", "Hi"), ("assistant", "Hello **there**")],
                     title="Greeting")                # https://chatgpt.com/c/c0ffee-1
    new = site.open()                                 # https://chatgpt.com/ : a new chat, no id yet
    chat.type("my draft")        # real keyboard input into the ProseMirror #prompt-textarea
    chat.send()                  # Enter: draft -> new user turn, composer cleared; in a new
                                 # chat the URL becomes /c/<new id> (history.pushState)
    chat.stream(["Hel", "lo ", "world"], interval=0.05)   # assistant answer in pieces, then finish
    chat.stream_start(); chat.stream_chunk("Hel"); chat.finish()   # the same, step by step
    chat.error()                 # ChatGPT's red error block ("Something went wrong ...") in the thread
    chat.blank()                 # the page goes blank (body emptied)
    chat.logout()                # the log-in screen replaces the app
    chat.generate(500)           # appends 500 alternating turns (fast, in the page)
    chat.navigate("beef-2", turns=[...], title="Other")   # SPA navigation to another chat
    chat.conversation_id         # the id in the page's URL now, or None
    chat.draft()                 # the composer's text as the page shows it
    chat.page                    # the Playwright Page

``turns``: list of ``(role, content)``; user content is plain text, assistant content is
Markdown-ish text rendered to the site's HTML by ``render_html`` (paragraphs, ``**bold**``,
`` `code` ``, fenced code with a language, ``- `` lists) or raw HTML when it starts with ``<``.
``site.open(..., temporary=True)`` opens ``/?temporary-chat=true``; ``project="g-p-123"``
opens ``/g/g-p-123/c/<id>``; ``chatgpt.serve(context, composer="textarea")`` gives the older
``<textarea>`` composer. ``chat.stop()`` clicks the stop button; ``chat.stream_html(html)``
re-renders the streaming answer at once (as React does). While an answer streams, the
composer's submit button is the stop button (``[data-testid="stop-button"]``).
Claude's and Gemini's errors appear as toasts (``role="alert"``), ChatGPT's in the thread.
Claude (``claude.serve``: https://claude.ai/chat/<id>, new chat /new) and Gemini
(``gemini.serve``: https://gemini.google.com/app/<id>, new chat /app) have the same API.

In the page, ``window.__dv_test`` has the same verbs (``type(text)`` sets the composer
text directly, ``send()``, ``streamStart()``, ``streamChunk(text)``, ``streamHtml(html)``,
``finish()``, ``error(text?)``, ``blank()``, ``logout()``, ``generate(n)``,
``navigate(path, turns, title)``, ``stop()``); the Python methods call them.

``real_capture_html(name)`` returns a real capture (scripts stripped) wrapped as a full
HTML document, for adapter tests that read the captures themselves.
"""

from .base import REAL_FIXTURES, SitePage, SiteServer, real_capture_html, render_html

__all__ = ["REAL_FIXTURES", "SitePage", "SiteServer", "real_capture_html", "render_html"]
