// The portal's one way to the engine: the public REST API with a bearer
// token. The token lives in sessionStorage (this tab only, gone when the
// tab closes) and travels in the Authorization header, never in a cookie,
// so another site cannot make the browser send it (no CSRF).
import { acceptLanguage, t } from "./i18n.js";

const KEY = "vireo.session";

let session = null;
try { session = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { session = null; }
let onLogout = () => {};

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export const currentSession = () => session;
export const setLogoutHandler = (fn) => { onLogout = fn; };

function forget() {
  session = null;
  sessionStorage.removeItem(KEY);
}

// One call: resolves to the parsed body (null for 204), rejects with an
// ApiError whose message is the API's own fault detail.
export async function api(method, path, body) {
  const headers = { Accept: "application/json", "Accept-Language": acceptLanguage() };
  if (session) headers.Authorization = "Bearer " + session.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let r;
  try {
    r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                            credentials: "omit", cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, t("error.unreachable", { reason: e.message }));
  }
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (r.ok) return data;
  const detail = data && data.fault ? data.fault.detail : t("error.http", { status: r.status });
  if (r.status === 401 && session && path !== "/api/sso/token") {
    forget();
    onLogout(detail);
  }
  throw new ApiError(r.status, detail);
}

export async function login(username, password) {
  const t = await api("POST", "/api/sso/token", { grant_type: "password", username, password });
  session = { token: t.access_token, user: username };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

export async function logout() {
  try { await api("DELETE", "/api/sso/token"); } catch (e) { /* revoked or expired already */ }
  forget();
}

// A list query string: search, paging, sort.
export function listPath(collection, { search = "", page = 1, max = 20, sortby = "" } = {}) {
  const q = new URLSearchParams({ max: String(max), page: String(page) });
  if (search) q.set("search", search);
  if (sortby) q.set("sortby", sortby);
  return `/api/${collection}?${q}`;
}
