// The app shell: the session (API key in localStorage), the router (History API) and the
// mounting of page modules.
//
// Page modules live in /static/pages/<name>.js and export
//     async function render(root, ctx) -> optional cleanup function
// with ctx = {client, params, query, navigate(path, {replace}?), setTitle(text), session}:
//   client   a WhetstoneClient (/static/whetstone.js) holding the user's key
//   params   the route's named parts, e.g. {id} for /optimizations/:id
//   query    the query string as a plain object of strings
//   session  {signedIn, signIn(apiKey), signOut()}
// The cleanup runs when the user navigates away (close subscriptions, stop timers).

import { WhetstoneClient } from "./whetstone.js";
import { clear, errorBox, h, loading } from "./lib/dom.js";

export const KEY_STORAGE = "whetstone.apiKey";
const APP_NAME = "Whetstone";

const ROUTES = [
  { pattern: "/", page: "jobs", nav: "jobs" },
  { pattern: "/new", page: "new", nav: "new" },
  { pattern: "/optimizations/:id", page: "job", nav: "jobs" },
  { pattern: "/prompts", page: "prompts", nav: "prompts" },
  { pattern: "/prompts/:id", page: "prompt", nav: "prompts" },
  { pattern: "/datasets", page: "datasets", nav: "datasets" },
  { pattern: "/datasets/:id", page: "dataset", nav: "datasets" },
  { pattern: "/login", page: "login", public: true },
];

function matchRoute(pathname) {
  const parts = pathname.replace(/\/+$/, "").split("/").filter(Boolean);
  for (const route of ROUTES) {
    const want = route.pattern.split("/").filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    const ok = want.every((segment, i) => {
      if (segment.startsWith(":")) {
        params[segment.slice(1)] = decodeURIComponent(parts[i]);
        return true;
      }
      return segment === parts[i];
    });
    if (ok) return { route, params };
  }
  return null;
}

function readKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || null;
  } catch {
    return null;
  }
}

class App {
  constructor(main, sessionBox) {
    this.main = main;
    this.sessionBox = sessionBox;
    this.apiKey = readKey();
    this.client = null;
    this.cleanup = null;
    this.renderCount = 0;
  }

  getClient() {
    if (!this.client) this.client = new WhetstoneClient({ apiKey: this.apiKey || undefined });
    return this.client;
  }

  resetClient() {
    if (this.client) this.client.close();
    this.client = null;
  }

  signIn(apiKey) {
    localStorage.setItem(KEY_STORAGE, apiKey);
    this.apiKey = apiKey;
    this.resetClient();
    this.renderSession();
  }

  signOut() {
    localStorage.removeItem(KEY_STORAGE);
    this.apiKey = null;
    this.resetClient();
    this.renderSession();
  }

  navigate(path, { replace = false } = {}) {
    if (replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
    if (!replace) window.scrollTo(0, 0);
    return this.render();
  }

  setTitle(text) {
    document.title = text ? `${text} · ${APP_NAME}` : APP_NAME;
  }

  renderSession() {
    clear(this.sessionBox);
    if (this.apiKey) {
      const out = h("button", { type: "button", class: "link-button", "data-testid": "sign-out" }, "Sign out");
      out.addEventListener("click", () => {
        this.signOut();
        this.navigate("/login");
      });
      this.sessionBox.append(h("span", { class: "muted", title: "Signed in with an API key stored in this browser" }, "Signed in"), out);
    } else {
      this.sessionBox.append(h("a", { href: "/login" }, "Sign in"));
    }
  }

  markNav(route) {
    for (const link of document.querySelectorAll("[data-nav]")) {
      if (route && link.dataset.nav === route.nav) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  async render() {
    const token = ++this.renderCount;
    this.runCleanup();
    const found = matchRoute(location.pathname);
    this.markNav(found && found.route);
    if (!found) return this.show(this.notFound(`No page at ${location.pathname}.`));
    if (!found.route.public && !this.apiKey) {
      const next = location.pathname + location.search;
      return this.navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
    }
    this.setTitle("");
    this.show(loading());
    let module;
    try {
      module = await import(`./pages/${found.route.page}.js`);
    } catch (err) {
      if (token !== this.renderCount) return;
      console.warn(`page module ${found.route.page}.js failed to load`, err);
      return this.show(this.notFound(`This page (${found.route.page}) is not available in this build.`));
    }
    if (token !== this.renderCount) return;
    const root = h("div", { class: "page", "data-page": found.route.page });
    this.show(root);
    const ctx = {
      client: this.getClient(),
      params: found.params,
      query: Object.fromEntries(new URLSearchParams(location.search)),
      navigate: (path, opts) => this.navigate(path, opts),
      setTitle: (text) => this.setTitle(text),
      session: {
        signedIn: Boolean(this.apiKey),
        signIn: (key) => this.signIn(key),
        signOut: () => this.signOut(),
      },
    };
    try {
      const cleanup = await module.render(root, ctx);
      if (token !== this.renderCount) {
        if (typeof cleanup === "function") cleanup();
        return;
      }
      this.cleanup = typeof cleanup === "function" ? cleanup : null;
    } catch (err) {
      if (token !== this.renderCount) return;
      this.pageFailed(err);
    }
  }

  pageFailed(err) {
    if (err && err.code === "unauthorized" && this.apiKey) {
      this.signOut();
      const next = location.pathname + location.search;
      this.navigate(`/login?reason=rejected&next=${encodeURIComponent(next)}`, { replace: true });
      return;
    }
    if (err && err.code === "not_found") {
      this.show(this.notFound(err.message));
      return;
    }
    this.show(h("section", { class: "page" }, errorBox(err, "This page could not be shown")));
  }

  runCleanup() {
    const cleanup = this.cleanup;
    this.cleanup = null;
    if (cleanup) {
      try {
        cleanup();
      } catch (err) {
        console.warn("page cleanup failed", err);
      }
    }
  }

  notFound(message) {
    this.setTitle("Not found");
    return h(
      "section",
      { class: "page not-found", "data-testid": "not-found" },
      h("h1", {}, "Not found"),
      h("p", {}, message),
      h("p", {}, h("a", { href: "/" }, "Back to the jobs")),
    );
  }

  show(node) {
    clear(this.main).append(node);
  }

  onClick(event) {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest("a[href]");
    if (!link || link.target || link.hasAttribute("download") || link.dataset.native !== undefined) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/static/")) return;
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
    event.preventDefault();
    this.navigate(url.pathname + url.search + url.hash);
  }

  start() {
    document.addEventListener("click", (event) => this.onClick(event));
    window.addEventListener("popstate", () => this.render());
    window.addEventListener("storage", (event) => {
      if (event.key !== KEY_STORAGE) return;
      this.apiKey = readKey();
      this.resetClient();
      this.renderSession();
      this.render();
    });
    this.renderSession();
    return this.render();
  }
}

const app = new App(document.getElementById("main"), document.getElementById("session"));
app.start();
