// Building DOM without a framework and without innerHTML (so no markup injection, and the
// Content-Security-Policy needs no exceptions).
//
//   h("a", { href: "/new", class: "button", dataset: { testid: "x" } }, "New job")
//   h("button", { onclick: () => …, disabled: true }, "Pause")
//
// attrs: `class` (string or array), `dataset` (object), `on<event>` (listener), boolean
// values set or remove the attribute, null/undefined/false are skipped, anything else
// becomes an attribute. children: strings, numbers, nodes, arrays of them; null/false skip.

const SVG_NS = "http://www.w3.org/2000/svg";

function applyAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") {
      el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (name === "dataset") {
      for (const [k, v] of Object.entries(value)) {
        if (v !== null && v !== undefined) el.dataset[k] = String(v);
      }
    } else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "style") {
      throw new Error("h(): no inline styles (CSP); use a class");
    } else if (value === true) {
      el.setAttribute(name, "");
    } else if (name === "value" && "value" in el) {
      el.value = String(value);
    } else {
      el.setAttribute(name, String(value));
    }
  }
}

export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  return append(el, ...children);
}

/** An SVG element (for charts and icons). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  return append(el, ...children);
}

/** Remove every child of `el`; returns `el`. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replace the children of `el`. */
export function replace(el, ...children) {
  return append(clear(el), ...children);
}

/** Set `el`'s text only when it changed (cheap to call on every update). */
export function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
  return el;
}

/** An error box for a caught error (a WhetstoneError shows its code and message). */
export function errorBox(error, title = "Something went wrong") {
  const code = error && error.code ? ` (${error.code})` : "";
  const message = (error && error.message) || String(error);
  return h("div", { class: "error-box", role: "alert" }, h("strong", {}, title + code), h("p", {}, message));
}

/** A "Loading…" placeholder. */
export function loading(text = "Loading…") {
  return h("p", { class: "muted loading" }, text);
}
