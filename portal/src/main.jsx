// One bundle, two portals: /vm is the VM Portal, everything else the
// Administration Portal. Both log in through POST /api/sso/token.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { AdminPortal } from "./admin.jsx";
import { VmPortal } from "./vmportal.jsx";
import { currentSession, login, logout, setLogoutHandler } from "./api.js";
import { Alert, Button } from "./ui.jsx";

const isVm = location.pathname === "/vm" || location.pathname.startsWith("/vm/");
const TITLE = isVm ? "VM Portal" : "Administration Portal";

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
        <header class="pf-v6-c-login__header"><span class="vireo-brand">Vireo</span></header>
        <main class="pf-v6-c-login__main">
          <header class="pf-v6-c-login__main-header">
            <h1 class="pf-v6-c-title pf-m-3xl">{TITLE}</h1>
            <p class="pf-v6-c-login__main-header-desc">Log in as NAME@internal or as a directory user, uid@profile.</p>
          </header>
          <div class="pf-v6-c-login__main-body">
            <form class="pf-v6-c-form" onSubmit={submit} id="login-form">
              {error && <Alert title={error} id="login-error" />}
              <div class="pf-v6-c-form__group">
                <label class="pf-v6-c-form__label" for="login-user"><span class="pf-v6-c-form__label-text">User name</span></label>
                <span class="pf-v6-c-form-control"><input id="login-user" autocomplete="username" required value={user}
                  onInput={(e) => setUser(e.currentTarget.value)} /></span>
              </div>
              <div class="pf-v6-c-form__group">
                <label class="pf-v6-c-form__label" for="login-password"><span class="pf-v6-c-form__label-text">Password</span></label>
                <span class="pf-v6-c-form-control"><input id="login-password" type="password" autocomplete="current-password"
                  required value={pw} onInput={(e) => setPw(e.currentTarget.value)} /></span>
              </div>
              <div class="pf-v6-c-form__group pf-m-action">
                <button class="pf-v6-c-button pf-m-primary pf-m-block" type="submit" id="login-submit" disabled={busy}>
                  <span class="pf-v6-c-button__text">Log in</span>
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
  useEffect(() => setLogoutHandler((why) => { setReason(why); setSession(null); }), []);
  useEffect(() => { document.title = `Vireo — ${TITLE}`; }, []);
  if (!session) return <Login onIn={(s) => { setReason(""); setSession(s); }} reason={reason} />;
  return (
    <div class="pf-v6-c-page">
      <header class="pf-v6-c-masthead">
        <div class="pf-v6-c-masthead__main">
          <span class="pf-v6-c-masthead__brand vireo-brand">Vireo · {TITLE}</span>
        </div>
        <div class="pf-v6-c-masthead__content">
          <div class="vireo-user">
            <span id="current-user">{session.user}</span>
            <Button variant="secondary" id="logout" onClick={async () => { await logout(); setSession(null); }}>Log out</Button>
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
