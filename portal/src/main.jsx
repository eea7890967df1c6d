// One bundle, two portals: /vm is the VM Portal, everything else the
// Administration Portal. Both log in through POST /api/sso/token.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { AdminPortal } from "./admin.jsx";
import { VmPortal } from "./vmportal.jsx";
import { currentSession, login, logout, setLogoutHandler } from "./api.js";
import { LANGUAGES, getLang, onLangChange, setLang, t } from "./i18n.js";
import { Alert, Button } from "./ui.jsx";

const isVm = location.pathname === "/vm" || location.pathname.startsWith("/vm/");
const title = () => t(isVm ? "vmportal.title" : "admin.title");

// The language switch (login page and masthead); each language is named
// in itself.
function LanguageSelect() {
  return (
    <span class="pf-v6-c-form-control vireo-lang">
      <select id="language" aria-label={t("language.label")} value={getLang()}
              onChange={(e) => setLang(e.currentTarget.value)}>
        {LANGUAGES.map(([code, label]) => <option value={code} lang={code}>{label}</option>)}
      </select>
    </span>
  );
}

function Login({ onIn, reason }) {
  const [user, setUser] = useState("");
  const [pw, setPw] = useState("");
  const [error, setError] = useState(reason || "");
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      onIn(await login(user.trim(), pw));
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };
  return (
    <div class="pf-v6-c-login">
      <div class="pf-v6-c-login__container">
        <header class="pf-v6-c-login__header"><span class="vireo-brand">Vireo</span> <LanguageSelect /></header>
        <main class="pf-v6-c-login__main">
          <header class="pf-v6-c-login__main-header">
            <h1 class="pf-v6-c-title pf-m-3xl">{title()}</h1>
            <p class="pf-v6-c-login__main-header-desc">{t("login.hint")}</p>
          </header>
          <div class="pf-v6-c-login__main-body">
            <form class="pf-v6-c-form" onSubmit={submit} id="login-form">
              {error && <Alert title={error} id="login-error" />}
              <div class="pf-v6-c-form__group">
                <label class="pf-v6-c-form__label" for="login-user"><span class="pf-v6-c-form__label-text">{t("login.user")}</span></label>
                <span class="pf-v6-c-form-control"><input id="login-user" autocomplete="username" required value={user}
                  onInput={(e) => setUser(e.currentTarget.value)} /></span>
              </div>
              <div class="pf-v6-c-form__group">
                <label class="pf-v6-c-form__label" for="login-password"><span class="pf-v6-c-form__label-text">{t("login.password")}</span></label>
                <span class="pf-v6-c-form-control"><input id="login-password" type="password" autocomplete="current-password"
                  required value={pw} onInput={(e) => setPw(e.currentTarget.value)} /></span>
              </div>
              <div class="pf-v6-c-form__group pf-m-action">
                <button class="pf-v6-c-button pf-m-primary pf-m-block" type="submit" id="login-submit" disabled={busy}>
                  <span class="pf-v6-c-button__text">{t("login.submit")}</span>
                </button>
              </div>
            </form>
          </div>
        </main>
      </div>
    </div>
  );
}

function App() {
  const [session, setSession] = useState(currentSession());
  const [reason, setReason] = useState("");
  const [lang, setLangState] = useState(getLang());
  useEffect(() => setLogoutHandler((why) => { setReason(why); setSession(null); }), []);
  useEffect(() => onLangChange(setLangState), []);
  useEffect(() => { document.title = `Vireo — ${title()}`; }, [lang]);
  // A new language renders every page again from the catalogs (key).
  if (!session) return <Login key={lang} onIn={(s) => { setReason(""); setSession(s); }} reason={reason} />;
  return (
    <div class="pf-v6-c-page" key={lang}>
      <header class="pf-v6-c-masthead">
        <div class="pf-v6-c-masthead__main">
          <span class="pf-v6-c-masthead__brand vireo-brand">Vireo · {title()}</span>
        </div>
        <div class="pf-v6-c-masthead__content">
          <div class="vireo-user">
            <LanguageSelect />
            <span id="current-user" class="vireo-data">{session.user}</span>
            <Button variant="secondary" id="logout" onClick={async () => { await logout(); setSession(null); }}>{t("button.logout")}</Button>
          </div>
        </div>
      </header>
      <div class="pf-v6-c-page__main-container">
        <main class="pf-v6-c-page__main" tabindex="-1">{isVm ? <VmPortal /> : <AdminPortal />}</main>
      </div>
    </div>
  );
}

render(<App />, document.getElementById("root"));
// The first screen is up and answers input (bench/portal_bench.py reads this).
performance.mark("vireo-ready");
