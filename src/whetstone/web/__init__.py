"""The web dashboard: static files served by ``whetstone.server.routes.web`` (docs/web.md).

``static/`` holds the app shell (``index.html``, ``app.js``, ``style.css``), the page
modules (``pages/``) and their helpers (``lib/``); ``js/whetstone.js`` is the browser
client, served at ``/static/whetstone.js``.
"""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
CLIENT_JS = WEB_DIR / "js" / "whetstone.js"
