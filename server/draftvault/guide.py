"""The next step, in words a person who is not a developer follows.

Printed by `draftvault serve` when it starts and by `draftvault service install`.
"""

from __future__ import annotations

ADD_EXTENSION = (
    "Add the DraftVault extension to your browser: from the Chrome Web Store or Firefox Add-ons, "
    "or write it to a folder with `draftvault extension --out ~/draftvault-extension` and load that "
    "folder (Chrome: chrome://extensions, turn on Developer mode, Load unpacked)."
)


def serve_banner(*, version: str, vault: str, port: int, code: str, login_link: str, paired: bool) -> str:
    lines = [f"DraftVault {version} is running. Your chats are kept, encrypted, in {vault}", ""]
    if paired:
        lines += [
            "Your browser's extension is paired: nothing to do. Chat as usual; if a chat fails,",
            "DraftVault's icon turns red: click it, then “Resume in ChatGPT”.",
            f"Pairing another browser? Click its DraftVault icon and type this code: {code} (valid 5 minutes)",
        ]
    else:
        lines += [
            "Next step: connect your browser.",
            f"  1. {ADD_EXTENSION}",
            "  2. Click the DraftVault icon in the toolbar (under the puzzle piece) and type this code:",
            f"         {code}",
            "     It is valid for 5 minutes; `draftvault pair` prints a new one.",
            "  3. Chat as usual. If a chat fails, the icon turns red: click it, then “Resume in ChatGPT”.",
        ]
    lines += [
        "",
        f"Your history page (this link signs you in once): {login_link}",
        f"The service listens on http://127.0.0.1:{port}. Keep this window open, or run",
        "`draftvault service install` so DraftVault starts by itself every time you log in.",
        "`draftvault doctor` checks everything and says what to do.",
    ]
    return "\n".join(lines)


def after_service_install(paired: bool) -> str:
    if paired:
        return "Your browser's extension is paired already: nothing more to do."
    return "\n".join([
        "Next step: connect your browser.",
        f"  1. {ADD_EXTENSION}",
        "  2. Run `draftvault pair`, click the DraftVault icon in the toolbar and type the code it prints.",
    ])
