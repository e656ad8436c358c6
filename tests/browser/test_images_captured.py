"""Images in a ChatGPT conversation, end to end: the real extension in Chromium on the fake
chatgpt.com built from the real capture, with an uploaded image in the person's turn and a
generated image in the answer, inserted as chatgpt.com renders them (estuary URLs that need
the page's cookie); the real service. The vault holds the bytes the page was served, the
history page shows them, and the export's Markdown links to them inside the zip; with a
canvas beside them (issue 13's proof), the unpacked export shows all three in a Markdown
viewer."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import urllib.parse
import zipfile

import markdown_it
import pytest
from sitepages import chatgpt
from sitepages.base import read_capture, wait_for
from sitepages.chatgpt import canvas, codemirror_editor
from sitepages.images import GENERATED, INSERT, UPLOADED, Estuary, png

pytestmark = pytest.mark.browser

CODEMIRROR_EXPECTED = "chatgpt-fragments-2026/codeblocks--chatgpt-codemirror.md"
TURNS = [("user", "What is in this photo? Draw me one like it."), ("assistant", "A lighthouse. Here is yours:")]


def open_chat(browser_ctx, conv: str, files: dict[str, bytes]):
    site = chatgpt.serve(browser_ctx.context)
    estuary = Estuary(browser_ctx.context, files)
    tab = site.open(conv, turns=TURNS, title="A lighthouse")
    ids = list(files)
    tab.page.evaluate(INSERT, [[0, UPLOADED.format(src=estuary.url(ids[0]))], [1, GENERATED.format(src=estuary.url(ids[1]))]])
    return tab, estuary


def stored(server, page, conv: str, want: int):
    def check():
        page.evaluate("1")  # sync Playwright runs the route handlers (the page's file requests) only inside its calls
        items = [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] == conv]
        if not items:
            return None
        d = server.api("GET", f"/api/conversations/{items[0]['id']}")
        found = [a for t in d["turns"] for a in t.get("attachments", [])]
        return d if len(found) >= want else None

    return check


def with_placeholder(server, d: dict) -> dict:
    """The conversation once its first turn's text holds the uploaded image's placeholder (the
    image may load, and be kept, before capture reads the turn the page just changed)."""
    def check():
        now = server.api("GET", f"/api/conversations/{d['id']}")
        return now if now["turns"][0]["text"].startswith("[Image: Uploaded image]\n") else None

    return wait_for(check, what="the uploaded image's placeholder in the person's text")


def test_uploaded_and_generated_images_are_kept_as_bytes_and_exported_with_links(browser_ctx):
    server = browser_ctx.server
    files = {"file_00000000a6081f5aa52a9864da8eba6": png(3), "file_000000005c8820a871a60df847063cb": png(11)}
    tab, estuary = open_chat(browser_ctx, "6b2c-lighthouse", files)
    d = wait_for(stored(server, tab.page, "6b2c-lighthouse", 2), what="both images in the vault")
    [uploaded], [generated] = (t.get("attachments") for t in d["turns"])
    for shown, id in ((uploaded, "file_00000000a6081f5aa52a9864da8eba6"), (generated, "file_000000005c8820a871a60df847063cb")):
        assert shown["type"] == "image/png" and shown["bytes"] == len(files[id])
        body = server.api("GET", f"/api/attachments/{shown['id']}")
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(files[id]).hexdigest()
    assert uploaded["name"].startswith("uploaded-image-") and generated["name"].startswith("generated-image-")
    # Fetched once each, with the page's cookie, however many <img> show it and however the page changes.
    tab.type("thanks")
    wait_for(lambda: (server.api("GET", f"/api/conversations/{d['id']}")["draft"] or {}).get("text") == "thanks",
             what="the draft after the images")
    assert estuary.fetched("file_00000000a6081f5aa52a9864da8eba6") == [True]
    assert estuary.fetched("file_000000005c8820a871a60df847063cb") == [True]

    body = server.api("POST", "/api/export", json={"ids": [d["id"]]})
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        [note] = [n for n in zf.namelist() if n.endswith(".md")]
        # Each file once (a prompt captured before its image's placeholder is an earlier version linking it too).
        links = sorted(set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", zf.read(note).decode())))
        assert len(links) == 2
        assert sorted(zf.read(urllib.parse.unquote(link)) for link in links) == sorted(files.values())

    page = browser_ctx.context.new_page()
    link = server.api("POST", "/api/login-link")["url"]
    page.goto(link)
    page.wait_for_url(server.url + "/")
    page.goto(f"{server.url}/#c={d['id']}")
    page.reload()  # the page opens the conversation its address names when it loads
    images = page.locator(".turn .attachments img")
    images.nth(1).wait_for()
    wait_for(lambda: page.evaluate("[...document.querySelectorAll('.turn .attachments img')]"
                                   ".every((i) => i.complete && i.naturalWidth === 64)"), what="the images shown")
    # Each image shown once: the vault's text keeps the placeholders as captured, the page
    # shows the images in their stead (docs/markdown.md, "Images kept as files").
    # (The generated image sits beside the answer's Markdown, which is all the answer's text.)
    d = with_placeholder(server, d)
    assert d["turns"][1]["text"] == TURNS[1][1]
    page.reload()
    images.nth(1).wait_for()
    shown = [page.locator(f".turn[data-index='{i}']").inner_text() for i in (0, 1)]
    assert "[Image:" not in "".join(shown)
    assert TURNS[0][1] in shown[0] and TURNS[1][1] in shown[1]
    assert [images.nth(i).get_attribute("alt") for i in (0, 1)] == ["Uploaded image", "Generated image"]


def test_images_and_a_canvas_are_kept_and_the_export_shows_them_in_a_markdown_viewer(browser_ctx, tmp_path):
    """Issue 13's proof: a ChatGPT page with an uploaded image, a generated image and a
    canvas (the real CodeMirror editor). The vault holds the bytes served (same SHA-256)
    and the canvas text on the answer; the export zip, unpacked and its Markdown rendered
    (markdown-it, as Markdown viewers do) and opened in Chromium, shows both images from
    its own files and the canvas as code."""
    server = browser_ctx.server
    files = {"file_00000000proof0upload0000000000001": png(5), "file_00000000proof0generated000000000002": png(9)}
    tab, _ = open_chat(browser_ctx, "6b2c-proof", files)
    tab.page.evaluate("(html) => { [...document.querySelectorAll('[data-message-author-role=\"assistant\"]')].at(-1)"
                      ".insertAdjacentHTML('beforeend', html); }", canvas("p1", "lighthouse.py", codemirror_editor("python")))
    # The code its authors expect from that editor (the capture's Markdown).
    code = re.search(r"```python\n(.*?)\n```", read_capture(CODEMIRROR_EXPECTED), re.S).group(1)
    check = stored(server, tab.page, "6b2c-proof", 2)
    d = wait_for(lambda: (d := check()) and d["turns"][1].get("documents") and d, what="both images and the canvas")
    (user_image,), (answer_image,) = (t["attachments"] for t in d["turns"])
    for shown, served in ((user_image, files["file_00000000proof0upload0000000000001"]),
                          (answer_image, files["file_00000000proof0generated000000000002"])):
        body = server.api("GET", f"/api/attachments/{shown['id']}")
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(served).hexdigest()
    [doc] = d["turns"][1]["documents"]
    assert (doc["title"], doc["kind"], doc["language"]) == ("lighthouse.py", "code", "python")
    # The capture's CodeMirror has one more empty line than its authors' Markdown keeps.
    assert re.sub(r"\n{3,}", "\n\n", doc["text"]) == code + "\n"
    code = doc["text"].rstrip("\n")
    assert "documents" not in d["turns"][0]

    folder = tmp_path / "export"
    with zipfile.ZipFile(io.BytesIO(server.api("POST", "/api/export", json={"ids": [d["id"]]}))) as zf:
        zf.extractall(folder)
    [note] = folder.glob("*.md")
    markdown = note.read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    links = sorted(set(shown))  # each file once, as above
    assert len(links) == 2 and all(not link.startswith(("/", "http")) for link in links)
    assert sorted((folder / urllib.parse.unquote(link)).read_bytes() for link in links) == sorted(files.values())
    assert "lighthouse.py" in markdown
    view = note.with_suffix(".html")
    view.write_text('<!doctype html><meta charset="utf-8">' + markdown_it.MarkdownIt("commonmark").render(markdown),
                    encoding="utf-8")
    page = browser_ctx.context.new_page()
    page.goto(view.as_uri())
    images = page.locator("img")
    assert images.count() == len(shown)
    wait_for(lambda: page.evaluate("[...document.images].every((i) => i.complete && i.naturalWidth === 64)"),
             what="the exported images shown from the zip's files")
    assert page.locator("code.language-python").inner_text().rstrip("\n") == code


def test_an_image_over_the_cap_and_a_file_shown_by_name_are_kept_by_name_type_and_size(browser_ctx):
    server = browser_ctx.server
    browser_ctx.set_storage(attachmentMaxMB=0)
    files = {"file_1": png(5), "file_2": png(6)}
    tab, _ = open_chat(browser_ctx, "6b2c-capped", files)
    tab.page.evaluate(INSERT, [[0, '<a download="minutes 2026.pdf" href="#"><span>minutes 2026.pdf</span></a>']])
    d = wait_for(stored(server, tab.page, "6b2c-capped", 3), what="both images and the file recorded")
    shown = sorted((a["name"].split("-")[0], a["id"], a["type"], a["bytes"]) for t in d["turns"] for a in t.get("attachments", []))
    assert shown == [("generated", None, "image/png", len(files["file_2"])), ("minutes 2026.pdf", None, "application/pdf", 0),
                     ("uploaded", None, "image/png", len(files["file_1"]))]
    # Kept by name only: nothing shows the pictures, so their placeholders stay in what readers show.
    assert "shown_text" not in with_placeholder(server, d)["turns"][0]


def test_attachment_parts_wait_in_the_outbox_while_the_service_is_away(browser_ctx, server):
    """They reach the vault once it is back, and being large never makes the outbox fold
    the page's snapshots (compaction cannot shrink an attachment)."""
    ctx = browser_ctx
    ctx.set_storage(outboxLimits={"frames": 1000, "bytes": 200_000})
    ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")
    server.stop()
    data = os.urandom(300_000)
    page, conv = "page-away-1", "conv-away"
    part = {"type": "attachment", "page_id": page, "conversation_id": conv, "site": "chatgpt",
            "url": f"https://chatgpt.com/c/{conv}", "turn_index": 1, "key": "f1", "name": "big.bin",
            "mime": "application/octet-stream",
            "size": len(data), "parts": 1, "part": 0, "data": base64.b64encode(data).decode()}
    drafts = [ctx.snapshot(page, conversation_id=conv, turns_from=2, draft=f"draft {n}") for n in range(3)]
    ctx.send_frames([ctx.snapshot(page, conversation_id=conv, turns=TURNS), part, *drafts])
    assert ctx.status()["queued"] == 5
    server.start()
    d = wait_for(stored(server, ctx.producer(), conv, 1), what="the attachment stored")
    [shown] = d["turns"][1]["attachments"]
    assert server.api("GET", f"/api/attachments/{shown['id']}") == data
