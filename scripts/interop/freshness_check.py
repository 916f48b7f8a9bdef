"""Freshness under concurrency (issue 8): relying parties ask OCSP and fetch the CRL in a loop while
the CLI suspends, resumes and revokes. Every answer whose request *started* after a command exited
(and before the next one started) must show that command's status.

Usage: freshness_check.py --binary B --home H --url http://127.0.0.1:PORT --cert LEAF.pem --issuer ROOT.pem
                          --card ID --pin PIN [--rounds N] [--threads T]
Prints one JSON line with the counts; exits 1 when any answer or CRL was stale.
"""
import argparse, http.client, json, subprocess, sys, threading, time, urllib.parse
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

p = argparse.ArgumentParser()
p.add_argument("--binary", required=True); p.add_argument("--home", required=True); p.add_argument("--url", required=True)
p.add_argument("--cert", required=True); p.add_argument("--issuer", required=True)
p.add_argument("--card", required=True); p.add_argument("--pin", required=True)
p.add_argument("--rounds", type=int, default=10); p.add_argument("--threads", type=int, default=6)
a = p.parse_args()

cert = x509.load_pem_x509_certificate(open(a.cert, "rb").read())
issuer = x509.load_pem_x509_certificate(open(a.issuer, "rb").read())
request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build().public_bytes(serialization.Encoding.DER)
host = urllib.parse.urlparse(a.url)

def status_of(der):
    r = ocsp.load_der_ocsp_response(der)
    if r.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL: return "error"
    if r.certificate_status == ocsp.OCSPCertStatus.GOOD: return "good"
    if r.certificate_status == ocsp.OCSPCertStatus.UNKNOWN: return "unknown"
    return "certificateHold" if r.revocation_reason == x509.ReasonFlags.certificate_hold else "revoked"

answers = []  # (started, status)
lock = threading.Lock()
stop = threading.Event()

def asker():
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    while not stop.is_set():
        started = time.monotonic()
        try:
            conn.request("POST", "/ocsp", body=request, headers={"Content-Type": "application/ocsp-request"})
            body = conn.getresponse().read()
        except Exception:
            conn.close(); conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30); continue
        with lock: answers.append((started, status_of(body)))

def crl_status():
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=float(__import__("os").environ.get("CRL_TIMEOUT", "60")))
    conn.request("GET", "/crl/sign.crl"); der = conn.getresponse().read(); conn.close()
    crl = x509.load_der_x509_crl(der)
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is None: return "good"
    try:
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        reason = None
    return "certificateHold" if reason == x509.ReasonFlags.certificate_hold else "revoked"

def cli(*args):
    r = subprocess.run([a.binary, *args, "--home", a.home, "--json"], capture_output=True, text=True)
    if r.returncode != 0: sys.exit(f"{' '.join(args)} failed: {r.stdout}{r.stderr}")

threads = [threading.Thread(target=asker, daemon=True) for _ in range(a.threads)]
for t in threads: t.start()
time.sleep(0.5)

commands = []
for _ in range(a.rounds):
    commands += [(("card", "suspend", a.card), "certificateHold"), (("card", "resume", a.card, "--pin", a.pin), "good")]
windows = []  # (exited, next started, expected)
crl_checks = crl_stale = 0
previous_exit = None
for args, expected in commands:
    started = time.monotonic()
    if windows: windows[-1][1] = started
    cli(*args)
    exited = time.monotonic()
    windows.append([exited, None, expected])
    # The CRL fetched right after the command returned must show it too.
    crl_checks += 1
    got = crl_status()
    if got != expected:
        crl_stale += 1
        print(f"stale CRL after {' '.join(args[:2])}: {got}, expected {expected}", file=sys.stderr)
    time.sleep(0.15)

# The last step: a revocation, then concurrent CRL fetches.
serial_hex = format(cert.serial_number, "X").rjust(32, "0")
windows[-1][1] = time.monotonic()
cli("cert", "revoke", serial_hex, "--reason", "keyCompromise")
windows.append([time.monotonic(), None, "revoked"])
crl_results = []
def fetch():
    s = crl_status()
    with lock: crl_results.append(s)
fetchers = [threading.Thread(target=fetch) for _ in range(30)]
for f in fetchers: f.start()
for f in fetchers: f.join()
time.sleep(0.3)
stop.set()
for t in threads: t.join(timeout=30)
windows[-1][1] = time.monotonic()

checked = stale = 0
for started, status in answers:
    for exited, until, expected in windows:
        if exited < started < until:
            checked += 1
            if status != expected: stale += 1
            break
crl_stale += sum(1 for s in crl_results if s != "revoked")
if any(s != "revoked" for s in crl_results): print(f"stale CRLs after cert revoke: {crl_results}", file=sys.stderr)
crl_checks += len(crl_results)
print(json.dumps({"answers": len(answers), "checked": checked, "stale": stale, "crlChecks": crl_checks, "crlStale": crl_stale,
                  "commands": len(commands) + 1}))
sys.exit(1 if stale or crl_stale or checked == 0 else 0)
