// Language: Korean or English, defaulting from the browser, remembered in localStorage.
import en from "./i18n/en.js";
import ko from "./i18n/ko.js";
import { storageGet, storageSet } from "./storage.js";

const CATALOGS = { ko, en };
const STORAGE_KEY = "idealtype.lang";
let current = "en";

export function detectLanguage() {
  const saved = storageGet(STORAGE_KEY);
  if (saved && CATALOGS[saved]) return saved;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language || ""];
  for (const tag of preferred) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (CATALOGS[base]) return base;
  }
  return "en";
}

export function currentLanguage() {
  return current;
}

export function setLanguage(lang, { remember = false } = {}) {
  current = CATALOGS[lang] ? lang : "en";
  if (remember) storageSet(STORAGE_KEY, current);
  document.documentElement.lang = current;
  document.title = t("app.title");
  for (const el of document.querySelectorAll("[data-i18n], [data-i18n-attrs]")) translateElement(el);
}

/** t("round.heading", {i: 1, m: 10}); `fallback` is used when no catalog has the key. */
export function t(key, vars = {}, fallback) {
  let text = CATALOGS[current][key] ?? CATALOGS.en[key] ?? fallback ?? key;
  if (typeof text === "function") text = text(vars);
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

export function translateElement(el) {
  if (el.dataset.i18n) {
    const vars = el.dataset.i18nVars ? JSON.parse(el.dataset.i18nVars) : {};
    el.textContent = t(el.dataset.i18n, vars, vars.fallback);
  }
  if (el.dataset.i18nAttrs) {
    for (const [attr, [key, vars = {}]] of Object.entries(JSON.parse(el.dataset.i18nAttrs))) {
      el.setAttribute(attr, t(key, vars, vars.fallback));
    }
  }
}

/** Percent with the language's number formatting. */
export function formatPercent(value) {
  return new Intl.NumberFormat(current === "ko" ? "ko-KR" : "en-US", {
    maximumFractionDigits: 0,
  }).format(value);
}
