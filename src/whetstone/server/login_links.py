"""One-time login links for the browser: a short-lived code that buys a new API key once.

A link is ``<base>/login#code=<code>&next=<path>``. The code travels in the URL *fragment*,
which browsers never send to a server, so it stays out of access logs and ``Referer``
headers. Codes live in memory only (a restart forgets them), are 256-bit random, are kept
as SHA-256 digests, expire after 15 minutes and can be redeemed once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from whetstone.clock import Clock

TTL = timedelta(minutes=15)
MAX_PENDING = 1000  # codes not yet redeemed or expired; the oldest goes first past it


@dataclass(frozen=True, slots=True)
class LoginCode:
    workspace_id: str
    next_path: str
    expires_at: datetime


def safe_next(path: str | None) -> str | None:
    """``path`` if it is a path on this site (``/…``, not ``//host`` or ``/\\host``), else
    None. Used for ``next`` so a link can never send the browser elsewhere."""
    if not path:
        return "/"
    if (
        len(path) > 2000
        or not path.startswith("/")
        or path.startswith(("//", "/\\"))
        or any(c in path for c in "\\\r\n\t")
    ):
        return None
    return path


def login_url(base_url: str, code: str, next_path: str) -> str:
    return f"{base_url.rstrip('/')}/login#code={code}&next={quote(next_path, safe='/')}"


def _digest(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


class LoginLinks:
    """The pending codes of one server process."""

    def __init__(self, clock: Clock, *, ttl: timedelta = TTL, max_pending: int = MAX_PENDING):
        self._clock = clock
        self._ttl = ttl
        self._max_pending = max_pending
        self._pending: list[tuple[bytes, LoginCode]] = []

    def mint(self, workspace_id: str, next_path: str = "/") -> tuple[str, LoginCode]:
        """A new code for ``workspace_id`` and what it will grant."""
        self._prune()
        code = secrets.token_urlsafe(32)
        entry = LoginCode(workspace_id, next_path, self._clock.now() + self._ttl)
        self._pending.append((_digest(code), entry))
        del self._pending[: max(0, len(self._pending) - self._max_pending)]
        return code, entry

    def redeem(self, code: str) -> LoginCode | None:
        """What ``code`` grants, once; None for an unknown, used or expired code. Every pending
        digest is compared in constant time, without stopping at a match."""
        self._prune()
        digest = _digest(code)
        found: int | None = None
        for index, (candidate, _) in enumerate(self._pending):
            if hmac.compare_digest(candidate, digest):
                found = index
        if found is None:
            return None
        return self._pending.pop(found)[1]

    def _prune(self) -> None:
        now = self._clock.now()
        self._pending = [(d, e) for d, e in self._pending if e.expires_at > now]

    def __len__(self) -> int:
        return len(self._pending)
