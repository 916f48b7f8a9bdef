#!/usr/bin/env python3
"""HTTP/1.0 connection handling of `serve` (RFC 9112 §9.3), over raw sockets.

An HTTP/1.0 request without keep-alive is the last on its connection: the server must close it after the
response (clients such as `ab` without -k read to the end of the stream). With `Connection: keep-alive`
the connection stays open for the next request. Checked on a Hummingbird route (/healthz), on the OCSP
fast path (POST /ocsp and GET /ocsp/…), and on HTTP/1.1 for contrast (kept open).

usage: http10_check.py --url http://127.0.0.1:PORT --issuer ROOT.pem --cert LEAF.pem
Exit status 0 when every check passes; each failure is printed.
"""
import argparse, base64, socket, sys, time, urllib.parse
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--issuer", required=True)
p.add_argument("--cert", required=True)
a = p.parse_args()
u = urllib.parse.urlparse(a.url)
issuer = x509.load_pem_x509_certificate(open(a.issuer, "rb").read())
leaf = x509.load_pem_x509_certificate(open(a.cert, "rb").read())
req = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1()).build().public_bytes(serialization.Encoding.DER)
get_path = "/ocsp/" + urllib.parse.quote(base64.b64encode(req).decode(), safe="")
failures = []


def request(version, method, path, body=b"", keep_alive=False, extra=""):
    head = f"{method} {path} {version}\r\nHost: {u.hostname}\r\n"
    if keep_alive:
        head += "Connection: keep-alive\r\n"
    if method == "POST":
        head += f"Content-Type: application/ocsp-request\r\nContent-Length: {len(body)}\r\n"
    return (head + extra + "\r\n").encode() + body


def read_response(s):
    """One response (by Content-Length); returns (status, body) or raises on timeout."""
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed before a response")
        data += d
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next((int(l.split(":", 1)[1]) for l in lines[1:] if l.lower().startswith("content-length:")), 0)
    while len(rest) < length:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed inside a body")
        rest += d
    return status, rest[:length]


def closed_within(s, seconds):
    s.settimeout(seconds)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


cases = [
    ("GET /healthz", "GET", "/healthz", b""),
    ("POST /ocsp (fast path)", "POST", "/ocsp", req),
    ("GET /ocsp/… (fast path)", "GET", get_path, b""),
]
for label, method, path, body in cases:
    # HTTP/1.0, no keep-alive: answered, then closed by the server.
    s = socket.create_connection((u.hostname, u.port), timeout=5)
    t = time.time()
    s.sendall(request("HTTP/1.0", method, path, body))
    try:
        status, _ = read_response(s)
        if status != 200:
            failures.append(f"{label}, HTTP/1.0: status {status}")
        if not closed_within(s, 2):
            failures.append(f"{label}, HTTP/1.0 without keep-alive: connection still open 2 s after the response")
        else:
            print(f"ok: {label}, HTTP/1.0: 200, closed after {time.time() - t:.3f} s")
    except Exception as e:
        failures.append(f"{label}, HTTP/1.0: {e}")
    s.close()
    # HTTP/1.0 with keep-alive, and HTTP/1.1: two requests on one connection.
    for version, keep in (("HTTP/1.0", True), ("HTTP/1.1", False)):
        s = socket.create_connection((u.hostname, u.port), timeout=5)
        try:
            for i in range(2):
                s.sendall(request(version, method, path, body, keep_alive=keep))
                status, _ = read_response(s)
                if status != 200:
                    failures.append(f"{label}, {version} keep-alive request {i + 1}: status {status}")
            print(f"ok: {label}, {version}{' keep-alive' if keep else ''}: two requests on one connection")
        except Exception as e:
            failures.append(f"{label}, {version}{' keep-alive' if keep else ''}: {e}")
        s.close()

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
