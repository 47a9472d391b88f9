// /login — sign in with an API key (kept in this browser's localStorage), or with a one-time
// login link: /login#code=…&next=/path. The code is in the URL fragment, which the browser
// never sends to the server; this page drops it from the address bar at once, trades it
// (POST /api/auth/login) for a new API key, and goes on to `next`.

import { WhetstoneClient } from "../whetstone.js";
import { h, replace } from "../lib/dom.js";

/** `path` if it is a path on this site (not `//host`, not the login page), else "/". */
export function safeNext(path) {
  if (typeof path !== "string" || !path.startsWith("/") || path.startsWith("//") || path.startsWith("/\\")) return "/";
  if (/[\\\r\n\t]/.test(path) || path === "/login" || path.startsWith("/login?")) return "/";
  return path;
}

async function redeem(code) {
  const response = await fetch("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
    credentials: "omit",
    cache: "no-store",
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (body && body.error) || {};
    throw Object.assign(new Error(error.message || `HTTP ${response.status}`), { code: error.code || "http_error" });
  }
  return body.data;
}

async function checkKey(apiKey) {
  const client = new WhetstoneClient({ apiKey });
  try {
    await client.optimizations.list({ limit: 1 });
  } finally {
    client.close();
  }
}

function keyForm(ctx, next, status) {
  const input = h("input", {
    type: "password",
    id: "api-key",
    name: "apiKey",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "wst_…",
    required: true,
    "data-testid": "api-key-input",
  });
  const button = h("button", { type: "submit", class: "button primary", "data-testid": "login-submit" }, "Sign in");
  const form = h(
    "form",
    { class: "login-form", "data-testid": "login-form" },
    h("label", { for: "api-key" }, "API key"),
    input,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const apiKey = input.value.trim();
    if (!apiKey) return;
    button.disabled = true;
    status.show("Checking the key…");
    try {
      await checkKey(apiKey);
      ctx.session.signIn(apiKey);
      ctx.navigate(next, { replace: true });
    } catch (err) {
      button.disabled = false;
      status.fail(err.code === "unauthorized" ? "The server did not accept this key." : err.message);
    }
  });
  return form;
}

function statusLine() {
  const el = h("p", { class: "login-status", role: "status", "data-testid": "login-status" });
  return {
    el,
    show(text) {
      el.className = "login-status";
      el.removeAttribute("data-error");
      el.setAttribute("data-testid", "login-status");
      replace(el, text);
    },
    fail(text) {
      el.className = "login-status error";
      el.dataset.error = "true";
      el.setAttribute("data-testid", "login-error");
      replace(el, text);
    },
  };
}

export async function render(root, ctx) {
  ctx.setTitle("Sign in");
  const fragment = new URLSearchParams(location.hash.slice(1));
  const code = fragment.get("code");
  const next = safeNext(fragment.get("next") || ctx.query.next || "/");
  const status = statusLine();
  const intro = [
    h("p", {}, "The dashboard talks to this server's API with an API key, kept in this browser (localStorage) only."),
    h(
      "p",
      { class: "muted small" },
      "Open the login link that ",
      h("code", {}, "whetstone serve"),
      " prints (valid 15 minutes, once), or paste a key from ",
      h("code", {}, "whetstone keys create"),
      ".",
    ),
  ];
  const card = h("section", { class: "card login-card" }, h("h1", {}, "Sign in to Whetstone"), intro, status.el);
  root.append(card);
  if (ctx.query.reason === "rejected") status.fail("The server no longer accepts the stored key; sign in again.");
  if (code) {
    history.replaceState(null, "", `/login${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`);
    status.show("Signing you in with the login link…");
    try {
      const { apiKey } = await redeem(code);
      ctx.session.signIn(apiKey);
      ctx.navigate(next, { replace: true });
      return undefined;
    } catch (err) {
      status.fail(
        err.code === "unauthorized"
          ? "This login link is unknown, expired or already used. Ask for a new one, or paste an API key."
          : `The login link did not work: ${err.message}`,
      );
    }
  } else if (ctx.session.signedIn) {
    status.show("You are signed in. Paste another key to switch.");
  }
  card.append(keyForm(ctx, next, status));
  return undefined;
}
