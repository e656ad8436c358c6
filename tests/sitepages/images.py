"""Images on the fake chatgpt.com as chatgpt.com shows them: a picture the person attached
(above the bubble of their turn) and a generated image (the final image over a blurred copy),
both from the estuary endpoint, which answers only with the session cookie. The markup
follows what tools that read chatgpt.com's page describe (alt "Uploaded image" /
"Generated image", an `image-<uuid>` container, same-origin /backend-api/estuary/content
URLs with a signature); the real captures in ../shared have no images."""

from __future__ import annotations

import struct
import urllib.parse
import zlib

ESTUARY = "https://chatgpt.com/backend-api/estuary/content"
COOKIE = {"name": "__Secure-next-auth.session-token", "value": "test-session", "domain": "chatgpt.com", "path": "/",
          "secure": True}
UPLOADED = (
    '<div class="flex w-full flex-col gap-1 empty:hidden items-end rtl:items-start"><div class="overflow-hidden '
    'rounded-lg"><button type="button" aria-label="Open image"><img alt="Uploaded image" width="64" height="64" '
    'class="max-w-full object-cover" src="{src}"></button></div></div>'
)
GENERATED = (
    '<div id="image-7b0e61c2-5a9e-4a43-9f0e-2b1d6f8a9c10" class="group/imagegen-image relative w-full"><div '
    'class="relative"><img alt="Generated image" class="absolute top-0 z-1 w-full" src="{src}"><img '
    'alt="Generated image" aria-hidden="true" class="absolute top-0 w-full blur-2xl" src="{src}"></div></div>'
)
# Puts markup at the start of the message of turn i (0-based), for each [i, markup].
INSERT = """(items) => {
  const messages = document.querySelectorAll('[data-message-author-role]');
  for (const [i, markup] of items) messages[i].insertAdjacentHTML('afterbegin', markup);
}"""


def png(seed: int, side: int = 64) -> bytes:
    """A real PNG (side x side pixels) whose pixels depend on `seed`."""
    rows = b"".join(b"\0" + bytes((x * seed + y * 7 + c * 31) % 256 for x in range(side) for c in range(3))
                    for y in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Estuary:
    """chatgpt.com's file endpoint: the bytes for a request with the session cookie, 403 without.
    Notes every request (file id, the page's <img> or a fetch, whether it had the cookie).
    Sync Playwright runs route handlers only inside its own calls: a waiting test calls it."""

    def __init__(self, context, files: dict[str, bytes]):
        self.files, self.requests = files, []
        context.add_cookies([COOKIE])
        context.route(f"{ESTUARY}**", self.handle)  # after the site's route: routes added later win

    @staticmethod
    def url(id: str) -> str:
        return f"{ESTUARY}?id={id}&ts=496764&p=fs&cid=1&sig=d920e074ba57cf45&v=0"

    def handle(self, route) -> None:
        request = route.request
        id = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)["id"][0]
        authed = "test-session" in (request.all_headers().get("cookie") or "")
        self.requests.append((id, request.resource_type, authed))
        if not authed or id not in self.files:
            route.fulfill(status=403, body="")
        else:
            route.fulfill(status=200, content_type="image/png", body=self.files[id])

    def fetched(self, id: str) -> list[bool]:
        """Whether each fetch() of the file (the capture's, not the page's <img>) had the cookie."""
        return [authed for i, kind, authed in self.requests if i == id and kind == "fetch"]
