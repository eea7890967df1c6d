// The portal's words in English and Japanese: every string the portal
// shows comes from a catalog (i18n/en.json, i18n/ja.json) through t(key,
// args). The language is the one remembered in localStorage, else the
// browser's first of navigator.languages we have, else English; the
// masthead switches it. The API is asked in the same language
// (Accept-Language, api.js), so its faults and events can follow. Dates
// and numbers are formatted by Intl for the language.
import en from "./i18n/en.json";
import ja from "./i18n/ja.json";

const CATALOGS = { en, ja };
const KEY = "vireo.lang";
// Each language named in itself (shown as is in every language).
export const LANGUAGES = [["en", "English"], ["ja", "日本語"]];

function pick() {
  try {
    const saved = localStorage.getItem(KEY);
    if (CATALOGS[saved]) return saved;
  } catch (e) { /* storage refused: choose from the browser */ }
  for (const l of navigator.languages || [navigator.language || ""]) {
    const base = String(l).toLowerCase().split("-")[0];
    if (CATALOGS[base]) return base;
  }
  return "en";
}

let lang = pick();
document.documentElement.lang = lang;
const listeners = new Set();

export const getLang = () => lang;
export const onLangChange = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };

export function setLang(l) {
  if (!CATALOGS[l] || l === lang) return;
  lang = l;
  try { localStorage.setItem(KEY, l); } catch (e) { /* not remembered, still switched */ }
  document.documentElement.lang = l;
  for (const fn of listeners) fn(l);
}

// The Accept-Language the API gets: the portal's language first.
export const acceptLanguage = () => (lang === "en" ? "en" : `${lang}, en;q=0.5`);

// The text of key in the current language with {name} replaced by args'
// values (numbers formatted for the language). A key missing from the
// language falls back to English, then to the key itself (the test's
// catalog check keeps both complete).
export function t(key, args) {
  const s = CATALOGS[lang][key] ?? CATALOGS.en[key] ?? key;
  if (!args) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in args ? (typeof args[k] === "number" ? fmtNumber(args[k]) : String(args[k])) : m));
}

// An enumerated API value (a status, a severity, an action) in words, or
// the value itself when the catalog has none for it.
export function tValue(group, value) {
  const key = `${group}.${value}`;
  return CATALOGS[lang][key] ?? CATALOGS.en[key] ?? String(value ?? "");
}

const numberFormats = {};
export function fmtNumber(n, opts) {
  const k = lang + JSON.stringify(opts || {});
  numberFormats[k] = numberFormats[k] || new Intl.NumberFormat(lang, opts);
  return numberFormats[k].format(n);
}

// Epoch seconds as a date and time of the language.
export function fmtTime(epochS, opts = { dateStyle: "medium", timeStyle: "medium" }) {
  if (!epochS) return "";
  return new Intl.DateTimeFormat(lang, opts).format(new Date(epochS * 1000));
}

// Bytes in binary units (KiB, MiB, ...) with the language's digits.
export function fmtBytes(b) {
  if (b === null || b === undefined || b < 0) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return `${fmtNumber(b, { maximumFractionDigits: i ? 1 : 0 })} ${units[i]}`;
}
