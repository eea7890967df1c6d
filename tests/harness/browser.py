"""A real headless Chromium for the portal tests (docs/portal.md), driven
through WebDriver: Debian's chromium and chromium-driver, Python's
selenium (python3-selenium). The engine's HTTPS certificate comes from the
test CA, which Chromium does not know, so certificate errors are ignored
for this throwaway profile only. Screenshots go to the artifacts folder
(kept after the run: BUILD/test-artifacts/portal/NAME.png).

    with Browser(artifacts) as b:
        b.open(f"https://127.0.0.1:{eng.port}/admin")
        b.type("#login-user", "admin@internal")
        b.wait_text("[data-list=vms]", "web1")
        b.shot("vms")
"""

import os
import shutil
import sys
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def available():
    """Why the browser cannot run here, or '' when it can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (scripts/setup installs chromium and chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        # A Python other than Debian's (pyenv) finds Debian's package there;
        # without this the browser tests depended on an earlier module
        # (test_engine_metrics) having added the path.
        if "/usr/lib/python3/dist-packages" not in sys.path:
            sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import selenium  # noqa: F401,F811
        except ImportError:
            return "Python's selenium is missing (scripts/setup installs python3-selenium)"
    return ""


class Browser:
    def __init__(self, artifacts, width=1280, height=800):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        self.artifacts = artifacts
        os.makedirs(artifacts, exist_ok=True)
        stale = os.path.join(artifacts, "timeout.png")  # a failed wait's picture from an earlier run
        if os.path.exists(stale):
            os.remove(stale)
        self.profile = tempfile.mkdtemp(prefix="vireo-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  f"--window-size={width},{height}", "--ignore-certificate-errors",
                  f"--user-data-dir={self.profile}", "--no-first-run", "--disable-extensions",
                  "--disable-background-networking", "--disable-component-update", "--lang=en-US"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.shots = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # ---------------------------------------------------------------- acting
    def open(self, url):
        self.driver.get(url)

    def find(self, css, timeout=10):
        from selenium.webdriver.common.by import By
        return self.wait(lambda: self.driver.find_element(By.CSS_SELECTOR, css), timeout, f"element {css}")

    def all(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def type(self, css, text, clear=True):
        from selenium.webdriver.common.keys import Keys
        el = self.find(css)
        if clear:  # by keys, so the page sees the input events (el.clear() sends none)
            el.send_keys(Keys.CONTROL, "a")
            el.send_keys(Keys.DELETE)
        el.send_keys(text)
        return el

    def click(self, css):
        el = self.wait(lambda: (lambda e: e if e.is_enabled() else None)(self.find(css)), 10, f"{css} enabled")
        el.click()
        return el

    def wait(self, fn, timeout=10, what="condition"):
        """Poll fn until it returns something true (exceptions count as
        not yet); returns that value."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                v = fn()
                if v:
                    return v
            except Exception as e:  # not there yet
                last = e
            if time.monotonic() > deadline:
                self.shot("timeout")
                raise AssertionError(f"browser: no {what} after {timeout}s (last: {last!r}); "
                                     f"page text: {self.text('body')[:1500]!r}")
            time.sleep(0.1)

    def text(self, css):
        try:
            from selenium.webdriver.common.by import By
            return self.driver.find_element(By.CSS_SELECTOR, css).text
        except Exception:
            return ""

    def wait_text(self, css, needle, timeout=10):
        return self.wait(lambda: needle in self.text(css), timeout, f"{needle!r} in {css}")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def shot(self, name):
        path = os.path.join(self.artifacts, f"{name}.png")
        self.driver.save_screenshot(path)
        self.shots.append(path)
        return path

    def console(self):
        """The page's console messages since the last call."""
        return self.driver.get_log("browser")

    def axe(self, axe_js, impacts=("serious", "critical")):
        """Accessibility violations of the page as axe-core finds them (its
        script injected through WebDriver, which the page's CSP does not
        govern), those of the given impacts: [{id, impact, help, nodes}]."""
        # Injected once per page load: it is 650 KB, and injecting it again
        # costs about a second each time (a single-page app keeps it).
        if not self.js("return typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
            self.js(axe_js)
        found = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then("
            "  r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            "                                    nodes: v.nodes.slice(0, 3).map(n => n.html)}))),"
            "  e => done('axe failed: ' + e))")
        if isinstance(found, str):
            raise AssertionError(found)
        return [v for v in found if v["impact"] in impacts]

    def alert_open(self):
        from selenium.common.exceptions import NoAlertPresentException
        try:
            self.driver.switch_to.alert  # noqa: B018
            return True
        except NoAlertPresentException:
            return False
