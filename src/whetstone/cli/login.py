"""The one-time login link ``whetstone serve`` prints at startup (docs/web.md).

It is minted in this process, in the app's own :class:`LoginLinks`, for the workspace of
the data dir's local key (``cli.key``), so opening it signs the browser in to the same
workspace the CLI on this machine uses. Like every login link it works once, within 15
minutes; later links come from ``POST /api/auth/login-links``.
"""

from __future__ import annotations

from whetstone.server.login_links import LoginLinks, login_url


def startup_link(app: object, base_url: str, workspace_id: str, next_path: str = "/") -> str:
    """A link minted in ``app``'s own code store (``create_app`` puts it in ``app.state``)."""
    links = getattr(getattr(app, "state", None), "login_links", None)
    if not isinstance(links, LoginLinks):
        raise TypeError(f"{app!r} is not a Whetstone app (no state.login_links)")
    code, _ = links.mint(workspace_id, next_path)
    return login_url(base_url, code, next_path)
