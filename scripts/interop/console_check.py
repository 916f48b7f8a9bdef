#!/usr/bin/env python3
"""Drives the operator console (`serve`, /console/) in headless Chromium (Debian chromium + chromium-driver,
Selenium) as ConsoleTests asks: sign in, register, issue, suspend (openssl ocsp sees certificateHold),
release, revoke as lost, PKCS#12 download opened with openssl, a renewal refused outside the window, an
agent's request and its second visit, the viewer's view and a forged viewer POST, CSRF refusals, stored
XSS, axe-core (bundled by axe-selenium-python, offline) on every main page, screenshots.

Prints one JSON object: {"ok": bool, "checks": [[name, ok, detail], ...], "screenshots": [...]}; exits 1
when a check failed.
"""
import argparse
import glob
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CHECKS = []
SHOTS = []


def check(name, ok, detail=""):
    CHECKS.append([name, bool(ok), str(detail)[:2000]])
    return ok


def snapshot(home):
    """The register and the audit log, to prove a refused POST changed nothing."""
    c = sqlite3.connect(os.path.join(home, "sandbox.sqlite"))
    out = []
    for t in ["meta", "residents", "cards", "certificates", "requests", "audit"]:
        out += [(t, repr(row)) for row in c.execute(f"SELECT * FROM {t} ORDER BY 1")]
    c.close()
    return out


class Browser:
    def __init__(self, url, downloads):
        o = Options()
        o.binary_location = "/usr/bin/chromium"
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                  "--lang=en-US", "--no-first-run", "--disable-extensions"]:
            o.add_argument(a)
        o.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False,
                                            "intl.accept_languages": "en-US,en"})
        self.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
        self.d.set_page_load_timeout(30)
        self.d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        self.url = url

    def go(self, path):
        self.d.get(self.url + path)

    def q(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def qs(self, css):
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def fill(self, css, value):
        e = self.q(css)
        if e.get_attribute("type") == "date":
            self.d.execute_script("arguments[0].value = arguments[1]", e, value)
        else:
            e.clear()
            e.send_keys(value)

    def click(self, css):
        """Clicks and waits for the next page (every console button posts a form or follows a link)."""
        self.click_element(self.q(css))

    def click_element(self, element):
        old = self.q("html")
        element.click()

        def gone(_):
            try:
                old.tag_name
                return False
            except WebDriverException:   # stale (or, in some Chromium builds, "node does not belong to the document")
                return True
        WebDriverWait(self.d, 20).until(gone)

    def flash(self):
        f = self.qs("#flash")
        return (f[0].get_attribute("class"), f[0].text) if f else ("", "")

    def text(self, css):
        e = self.qs(css)
        return e[0].text if e else ""

    def cookie(self):
        c = self.d.get_cookie("jpki_console")
        return c["value"] if c else ""

    def csrf(self):
        e = self.qs("input[name=csrf]")
        return e[0].get_attribute("value") if e else ""

    def no_alert(self):
        try:
            self.d.switch_to.alert
            return False
        except NoAlertPresentException:
            return True


def http_call(url, method, path, cookie=None, form=None):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {}
    body = None
    if cookie:
        headers["Cookie"] = f"jpki_console={cookie}"
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    result = (r.status, dict((k.lower(), v) for k, v in r.getheaders()), data, r.headers.get_all("Set-Cookie") or [])
    c.close()
    return result


def http_signin(url, token):
    status, headers, _, cookies = http_call(url, "POST", "/console/signin", form={"token": token})
    for c in cookies:
        m = re.match(r"jpki_console=([0-9a-f]{64})", c)
        if m:
            return m.group(1)
    raise RuntimeError(f"sign-in failed: {status}")


def page_csrf(url, cookie):
    _, _, body, _ = http_call(url, "GET", "/console/", cookie=cookie)
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', body.decode())
    return m.group(1) if m else ""


def shoot(b, folder, name, width, height=None):
    b.d.set_window_size(width, height or 900)
    b.d.execute_script("window.scrollTo(0, 0)")
    total = b.d.execute_script("return Math.min(document.documentElement.scrollHeight, 1500)")
    b.d.set_window_size(width, max(total + 120, 600) if height is None else height)
    b.d.execute_script("window.scrollTo(0, 0)")
    path = os.path.join(folder, f"{name}.png")
    b.d.save_screenshot(path)
    SHOTS.append(path)
    b.d.set_window_size(1280, 900)


def axe(b, axe_source, page):
    b.d.execute_script(axe_source)
    result = b.d.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(function (r) { done(r.violations); }, function (e) { done(String(e)); });")
    if isinstance(result, str):
        return check(f"axe {page}", False, result)
    bad = [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["html"][:160] if v["nodes"] else "") for v in result
           if v.get("impact") in ("serious", "critical")]
    return check(f"axe {page}: no serious or critical violations", not bad, bad)


def own_a11y(b, page):
    """The manual checklist, run: html lang, one h1, every visible field labelled."""
    lang = b.q("html").get_attribute("lang")
    h1 = len(b.qs("h1"))
    unlabelled = []
    for e in b.qs("input, select, textarea"):
        if e.get_attribute("type") == "hidden":
            continue
        i = e.get_attribute("id")
        if not i or not b.qs(f'label[for="{i}"]'):
            if not e.get_attribute("aria-label"):
                unlabelled.append(e.get_attribute("name"))
    check(f"a11y {page}: lang, one h1, labelled fields", lang in ("en", "ja") and h1 == 1 and not unlabelled,
          f"lang={lang} h1={h1} unlabelled={unlabelled}")


def ocsp(url, home, openssl, folder, cookie, serial, kind):
    pem_path = os.path.join(folder, f"{serial}.pem")
    status, _, body, _ = http_call(url, "GET", f"/console/certificates/{serial}/cert.pem", cookie=cookie)
    with open(pem_path, "wb") as f:
        f.write(body)
    root = os.path.join(home, f"{kind}-root.pem")
    out = ""
    for _ in range(20):
        r = subprocess.run([openssl, "ocsp", "-issuer", root, "-cert", pem_path, "-url", url + "/ocsp", "-CAfile", root],
                           capture_output=True, text=True)
        out = r.stdout + r.stderr
        yield out
        time.sleep(0.25)


def ocsp_until(url, home, openssl, folder, cookie, serial, kind, want):
    last = ""
    for out in ocsp(url, home, openssl, folder, cookie, serial, kind):
        last = out
        if all(w in out for w in want):
            return True, out
    return False, last


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--home", required=True)
    p.add_argument("--admin-token", required=True)
    p.add_argument("--viewer-token", required=True)
    p.add_argument("--artefacts", required=True)
    p.add_argument("--openssl", default="/usr/bin/openssl")
    a = p.parse_args()
    os.makedirs(a.artefacts, exist_ok=True)
    downloads = tempfile.mkdtemp(prefix="console-downloads-")
    import axe_selenium_python
    axe_source = open(os.path.join(os.path.dirname(axe_selenium_python.__file__), "node_modules", "axe-core", "axe.min.js")).read()
    url = a.url
    b = Browser(url, downloads)
    try:
        run(b, a, url, downloads, axe_source)
    except Exception as e:  # a crash is a failed check, with what the browser showed
        check("the run finished", False, f"{type(e).__name__}: {e}; at {b.d.current_url}: {b.d.page_source[:1500]}")
    finally:
        b.d.quit()
    ok = all(c[1] for c in CHECKS)
    print(json.dumps({"ok": ok, "checks": CHECKS, "screenshots": SHOTS}, ensure_ascii=False))
    return 0 if ok else 1


def run(b, a, url, downloads, axe_source):
    shots = a.artefacts
    # Signed out: every page leads to the sign-in form.
    b.go("/console/")
    check("signed out → sign-in page", b.d.current_url.endswith("/console/signin") and b.qs("#token"), b.d.current_url)
    own_a11y(b, "signin")
    axe(b, axe_source, "signin")
    shoot(b, shots, "signin-laptop", 1280)
    shoot(b, shots, "signin-phone", 390)
    b.fill("#token", "jpkis_not-a-token")
    b.click("#signin")
    check("a wrong token is refused", b.qs("#signin-error"), b.d.page_source[:300])

    # Sign in (admin token "alice").
    b.fill("#token", a.admin_token)
    b.click("#signin")
    check("signed in", b.text("#who") == "alice" and b.text("#role") == "admin", b.text("header"))
    b.go("/console/?lang=ja")
    check("Japanese on ?lang=ja (kept in a cookie)", b.q("html").get_attribute("lang") == "ja" and "住民" in b.text("nav"), b.text("nav"))
    b.go("/console/")
    check("the language cookie is kept", b.q("html").get_attribute("lang") == "ja")
    shoot(b, shots, "residents-ja-phone", 390)
    b.go("/console/?lang=en")

    # Register a resident.
    b.fill("#r-name", "山田 花子")
    b.fill("#r-birth", "1990-05-15")
    Select(b.q("#r-sex")).select_by_value("female")
    b.fill("#r-address", "埼玉県川越市元町1丁目3番地1")
    b.click("#register")
    kind, text = b.flash()
    check("resident registered", "ok" in kind and "/console/residents/" in b.d.current_url, f"{kind} {text}")
    resident_path = urllib.parse.urlparse(b.d.current_url).path
    own_a11y(b, "resident (no card)")

    # Issue a card.
    b.fill("#ic-sign", "ABC123")
    b.fill("#ic-auth", "1234")
    b.click("#issue-card")
    kind, text = b.flash()
    check("card issued", "ok" in kind and "issued" in text, f"{kind} {text}")
    card = b.qs("article.card")[0].get_attribute("id").split("-")[1]
    rows = {r.get_attribute("data-kind"): r.get_attribute("id")[len("cert-"):] for r in b.qs("table.certs tbody tr")}
    check("a signing and an authentication certificate", set(rows) == {"sign", "auth"}, rows)
    sign, auth = rows.get("sign", ""), rows.get("auth", "")
    check("validity basis shown", "birthday" in b.text(f"#cert-{sign}"), b.text(f"#cert-{sign}"))
    axe(b, axe_source, "resident")
    own_a11y(b, "resident")
    shoot(b, shots, "resident-laptop", 1280)
    shoot(b, shots, "resident-phone", 390)
    cookie = b.cookie()

    # Suspend: a confirmation step, then certificateHold over OCSP.
    b.click(f"#card-{card}-suspend")
    check("suspension asks for confirmation", b.qs("#confirm") and "suspend" in b.text("#confirm-what"), b.text("main"))
    axe(b, axe_source, "confirm")
    shoot(b, shots, "confirm-laptop", 1280)
    b.click("#confirm")
    kind, text = b.flash()
    check("card suspended", "ok" in kind and b.text(f"#card-{card}-status") == "suspended", f"{kind} {text}")
    good, out = ocsp_until(url, a.home, a.openssl, downloads, cookie, sign, "sign", ["revoked", "certificateHold"])
    check("openssl ocsp: the signing certificate is on hold (certificateHold)", good, out)

    # Release with the authentication PIN.
    b.fill(f"#card-{card}-resume-pin", "1234")
    b.click(f"#card-{card}-resume")
    kind, text = b.flash()
    check("suspension released", "ok" in kind and b.text(f"#card-{card}-status") == "active", f"{kind} {text}")
    good, out = ocsp_until(url, a.home, a.openssl, downloads, cookie, sign, "sign", [": good"])
    check("openssl ocsp: good again after the release", good, out)

    # A renewal outside the window: the CA's refusal, in its words.
    b.q(f"#cert-{auth}-renew").find_element(By.XPATH, "./ancestor::details").find_element(By.TAG_NAME, "summary").click()
    b.click(f"#cert-{auth}-renew")
    kind, text = b.flash()
    check("renewal outside the window refused with the CA's text", "error" in kind and "renewal opens on" in text, f"{kind} {text}")

    # Revoke the signing certificate as lost (window event → keyCompromise).
    b.q(f"#cert-{sign}-revoke").find_element(By.XPATH, "./ancestor::details").find_element(By.TAG_NAME, "summary").click()
    Select(b.q(f"#cert-{sign}-reason")).select_by_value("lost")
    b.click(f"#cert-{sign}-revoke")
    b.click("#confirm")
    kind, text = b.flash()
    check("signing certificate revoked as lost", "ok" in kind and b.text(f"#cert-{sign}-status") == "revoked"
          and "keyCompromise" in b.text(f"#cert-{sign}"), f"{kind} {text} {b.text(f'#cert-{sign}')}")
    good, out = ocsp_until(url, a.home, a.openssl, downloads, cookie, sign, "sign", ["revoked", "keyCompromise"])
    check("openssl ocsp: revoked, keyCompromise", good, out)

    # The PKCS#12 test identity of the authentication certificate, opened by openssl.
    b.q(f"#cert-{auth}-p12").find_element(By.XPATH, "./ancestor::details").find_element(By.TAG_NAME, "summary").click()
    b.fill(f"#cert-{auth}-p12-password", "pw-console-1")
    b.q(f"#cert-{auth}-p12").click()   # a download: the page stays
    p12 = None
    for _ in range(60):
        found = [f for f in glob.glob(os.path.join(downloads, "*.p12"))]
        if found:
            p12 = found[0]
            break
        time.sleep(0.25)
    if check("PKCS#12 downloaded", p12, os.listdir(downloads)):
        r = subprocess.run([a.openssl, "pkcs12", "-in", p12, "-passin", "pass:pw-console-1", "-nodes"], capture_output=True, text=True)
        check("openssl pkcs12 opens it (key and certificate)", r.returncode == 0 and "BEGIN CERTIFICATE" in r.stdout and "PRIVATE KEY" in r.stdout,
              r.stderr[:500])

    # A voluntary agent: a pending request, refused on the same day, completed the next.
    b.go(resident_path)
    b.q(f"#cert-{auth}-pin-reset").find_element(By.XPATH, "./ancestor::details").find_element(By.TAG_NAME, "summary").click()
    b.fill(f"#cert-{auth}-reset-pin", "4321")
    Select(b.q(f"#cert-{auth}-reset-applicant")).select_by_value("agent")
    b.click(f"#cert-{auth}-pin-reset")
    kind, text = b.flash()
    m = re.search(r"request (\d+) .*answer code mailed to the holder: ([A-Z0-9]+)", text)
    check("agent's PIN reset recorded as a pending request", "info" in kind and m, f"{kind} {text}")
    if m:
        rid, code = m.group(1), m.group(2)
        b.go("/console/requests")
        check("pending requests list it", b.qs(f"#request-{rid}"), b.text("main"))
        axe(b, axe_source, "requests")
        own_a11y(b, "requests")
        shoot(b, shots, "requests-laptop", 1280)
        b.fill(f"#rq-{rid}-answer", code)
        b.fill(f"#rq-{rid}-newpin", "4321")
        b.click(f"#rq-{rid}-complete")
        kind, text = b.flash()
        check("an agent on the same day is refused in the CA's words", "error" in kind and "never finishes the same day" in text, f"{kind} {text}")
        b.go("/console/clock")
        b.fill("#duration", "1d")
        b.click("#advance")
        kind, text = b.flash()
        check("clock advanced a day", "ok" in kind and "clock is now" in text, f"{kind} {text}")
        axe(b, axe_source, "clock")
        b.go("/console/requests")
        b.fill(f"#rq-{rid}-answer", code)
        b.fill(f"#rq-{rid}-newpin", "4321")
        b.click(f"#rq-{rid}-complete")
        kind, text = b.flash()
        check("second visit completes the request", "ok" in kind and "completed" in text, f"{kind} {text}")

    # The other screens.
    for path, name in [("/console/notices?within=10y", "notices"), ("/console/audit", "audit"), ("/console/scenarios", "scenarios"),
                       ("/console/downloads", "downloads")]:
        b.go(path)
        check(f"{name} page", b.qs("h1") and b.d.title, b.d.title)
        axe(b, axe_source, name)
        own_a11y(b, name)
    b.go("/console/audit")
    check("audit chain check intact", "ok" in b.q("#audit-check").get_attribute("class"), b.text("#audit-check"))
    check("audit names the token as actor", "alice" in b.text("#audit"), "")
    shoot(b, shots, "audit-laptop", 1280)
    b.go("/console/scenarios")
    buttons = b.qs("button[id^=scenario-]")
    if check("scenarios can be created", buttons, b.text("main")):
        b.click_element(buttons[0])
        kind, text = b.flash()
        check("scenario created", "ok" in kind and "scenario" in text, f"{kind} {text}")
    b.go("/console/downloads")
    roots = [e.get_attribute("href") for e in b.qs("main a[href^='/ca/'], main a[href*='/ca/']")]
    status, _, body, _ = http_call(url, "GET", "/ca/sign-root.pem")
    check("roots downloadable", roots and status == 200 and b"BEGIN CERTIFICATE" in body, roots)

    # Markup from users renders as text: a resident's name and address (the CA keeps them as full-width
    # characters, JIS X 0208), a search query reflected in the page, and a CA refusal quoting a forged reason.
    b.go("/console/")
    b.fill("#r-name", "<script>alert(1)</script>")
    b.fill("#r-birth", "1985-01-01")
    b.fill("#r-address", "埼玉県川越市元町1丁目<img src=x onerror=alert(2)>")
    b.click("#register")
    kind, text = b.flash()
    if "ok" not in kind:   # the CA may refuse markup in an address: then only the name carries it
        b.go("/console/")
        b.fill("#r-name", "<script>alert(1)</script>")
        b.fill("#r-birth", "1985-01-01")
        b.fill("#r-address", "埼玉県川越市元町1丁目3番地1")
        b.click("#register")
        kind, text = b.flash()
    check("a resident named <script>… registered", "ok" in kind, f"{kind} {text}")
    time.sleep(0.3)
    shown = unicodedata.normalize("NFKC", b.text("#resident-name"))
    check("resident page: no script element, no img, no alert, the name as text",
          not b.qs("script") and not b.qs("main img") and b.no_alert() and shown == "<script>alert(1)</script>", shown)
    b.go("/console/?q=" + urllib.parse.quote("<script>alert(3)</script>"))
    time.sleep(0.3)
    check("a reflected search query: no script element, no alert, kept as the field's text",
          not b.qs("script") and b.no_alert() and b.q("#q").get_attribute("value") == "<script>alert(3)</script>", b.q("#q").get_attribute("value"))
    csrf = b.csrf()
    status, _, _, _ = http_call(url, "POST", f"/console/certificates/{auth}/revoke", cookie=b.cookie(),
                                form={"csrf": csrf, "confirmed": "yes", "reason": "<script>alert(4)</script>", "back": resident_path})
    b.go(resident_path)
    time.sleep(0.3)
    kind, text = b.flash()
    check("a refusal quoting the input: escaped, inert", status == 303 and "error" in kind and "<script>alert(4)</script>" in text
          and not b.qs("script") and b.no_alert(), f"{status} {kind} {text}")
    shoot(b, shots, "xss-laptop", 1280)

    # CSRF: without the token, with another session's, from a signed-out session: refused, nothing changes.
    other = http_signin(url, a.admin_token)
    other_csrf = page_csrf(url, other)
    gone = http_signin(url, a.admin_token)
    gone_csrf = page_csrf(url, gone)
    http_call(url, "POST", "/console/signout", cookie=gone, form={"csrf": gone_csrf})
    before = snapshot(a.home)
    path = f"/console/cards/{card}/suspend"
    s1 = http_call(url, "POST", path, cookie=cookie, form={"confirmed": "yes", "back": resident_path})[0]
    s2 = http_call(url, "POST", path, cookie=cookie, form={"confirmed": "yes", "csrf": other_csrf})[0]
    s3 = http_call(url, "POST", path, cookie=gone, form={"confirmed": "yes", "csrf": gone_csrf})[0]
    s4 = http_call(url, "POST", path, form={"confirmed": "yes", "csrf": other_csrf})[0]
    after = snapshot(a.home)
    check("POST without CSRF / another session's / signed out / no session: 403", (s1, s2, s3, s4) == (403, 403, 403, 403), (s1, s2, s3, s4))
    check("refused POSTs changed nothing (register and audit)", before == after, [x for x in after if x not in before][:5])

    # Sign out in the browser: the session is gone.
    b.go("/console/")
    b.click("#signout")
    check("signed out", b.d.current_url.endswith("/console/signin"), b.d.current_url)
    status, headers, _, _ = http_call(url, "GET", "/console/", cookie=cookie)
    check("the old session cookie no longer works", status == 303 and headers.get("location") == "/console/signin", status)

    # A viewer: no action buttons; a forged POST refused.
    b.fill("#token", a.viewer_token)
    b.click("#signin")
    check("viewer signed in", b.text("#role") == "viewer", b.text("header"))
    for path in ["/console/", resident_path, "/console/requests", "/console/clock", "/console/scenarios", "/console/downloads"]:
        b.go(path)
        forms = b.qs("main form[method=post]")
        check(f"viewer sees no action on {path}", not forms, [f.get_attribute("action") for f in forms])
    b.go(resident_path)
    shoot(b, shots, "resident-viewer-phone", 390)
    viewer_cookie, viewer_csrf = b.cookie(), b.csrf()
    before = snapshot(a.home)
    s5, _, body, _ = http_call(url, "POST", f"/console/cards/{card}/suspend", cookie=viewer_cookie,
                               form={"csrf": viewer_csrf, "confirmed": "yes"})
    s6 = http_call(url, "POST", "/console/residents", cookie=viewer_cookie,
                   form={"csrf": viewer_csrf, "name": "x", "birth": "1990-01-01", "sex": "male", "address": "埼玉県川越市元町1丁目3番地1"})[0]
    check("a forged viewer POST is refused (403)", s5 == 403 and s6 == 403 and b"needs operator" in body, (s5, s6))
    check("and changes nothing", snapshot(a.home) == before, "")


if __name__ == "__main__":
    sys.exit(main())
