// Tiny DOM helpers: build elements declaratively, with translatable text kept on the element
// (data-i18n*) so a language switch re-labels the page without rebuilding it.
import { translateElement } from "./i18n.js";

/**
 * h("button", {class: "x", i18n: ["start.go"], onclick}, child, ...)
 * Special props: i18n: [key, vars] for textContent; i18nAttrs: {alt: [key, vars], ...}.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "i18n") {
      el.dataset.i18n = value[0];
      if (value[1]) el.dataset.i18nVars = JSON.stringify(value[1]);
    } else if (name === "i18nAttrs") {
      el.dataset.i18nAttrs = JSON.stringify(value);
    } else if (name.startsWith("on")) {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name in el && typeof value !== "string") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : value);
    }
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  if (props.i18n || props.i18nAttrs) translateElement(el);
  return el;
}

/** Change an element's translated text (and its variables) in place. */
export function setI18n(el, key, vars) {
  el.dataset.i18n = key;
  if (vars) el.dataset.i18nVars = JSON.stringify(vars);
  else delete el.dataset.i18nVars;
  translateElement(el);
}
