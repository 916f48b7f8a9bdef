"""Connection bounds of `serve` (issue 8, item 3), checked from outside with raw sockets.

Usage: connection_check.py --url http://127.0.0.1:PORT --timeout T --max-connections N
(the server started with --idle-timeout T --request-timeout T --max-connections N).
Exits 1 with a message on the first bound that does not hold.
"""
import argparse, socket, sys, time, urllib.parse

p = argparse.ArgumentParser()
p.add_argument("--url", required=True); p.add_argument("--timeout", type=float, required=True)
p.add_argument("--max-connections", type=int, required=True)
a = p.parse_args()
u = urllib.parse.urlparse(a.url)
limit = a.timeout + 3.0  # the timeout plus the check interval and a loaded machine's slack

def connect():
    s = socket.create_connection((u.hostname, u.port), timeout=30)
    return s

def closed_within(s, seconds):
    """Reads until the server closes; returns the seconds it took, or None if it stayed open."""
    start = time.monotonic()
    s.settimeout(seconds)
    try:
        while True:
            data = s.recv(4096)
            if not data: return time.monotonic() - start
    except (socket.timeout, TimeoutError):
        return None
    except ConnectionResetError:
        return time.monotonic() - start

def fail(message):
    print(message); sys.exit(1)

def healthz():
    s = connect()
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    s.settimeout(30)
    reply = b""
    while True:
        d = s.recv(4096)
        if not d: break
        reply += d
    return reply.split(b"\r\n", 1)[0]

# 1. A POST /ocsp whose body stops half-way.
s = connect()
s.sendall(b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: 200\r\n\r\n0123456789")
if closed_within(s, limit) is None: fail("a partial OCSP body kept the connection open")
# 2. An announced body that never comes (to the router, not the OCSP path).
s = connect()
s.sendall(b"POST /crl/sign.crl HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n")
if closed_within(s, limit) is None: fail("an announced body that never came kept the connection open")
# 3. A connection that sends nothing, and one whose request head never ends.
s = connect()
if closed_within(s, limit) is None: fail("an idle connection was not closed")
s = connect(); s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
if closed_within(s, limit) is None: fail("an unfinished request head kept the connection open")
# 4. CONNECT is refused and the connection closed.
s = connect(); s.sendall(b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n")
s.settimeout(10)
head = s.recv(4096)
if not head.startswith(b"HTTP/1.1 405"): fail(f"CONNECT got {head[:40]!r}")
# 5. The cap: hold N idle connections; the next one is refused cleanly, then the server recovers.
held = [connect() for _ in range(a.max_connections)]
time.sleep(0.3)
status = healthz()
if not status.startswith(b"HTTP/1.1 503"): fail(f"over the cap, /healthz got {status!r} instead of a clean 503")
for h in held: h.close()
deadline = time.monotonic() + 10
while True:
    status = healthz()
    if status.startswith(b"HTTP/1.1 200"): break
    if time.monotonic() > deadline: fail(f"the server did not recover after the held connections closed: {status!r}")
    time.sleep(0.2)
# 6. Held connections the client never closes are freed by the idle timeout, and the server recovers.
held = [connect() for _ in range(a.max_connections)]
time.sleep(limit)
status = healthz()
if not status.startswith(b"HTTP/1.1 200"): fail(f"idle connections at the cap were not timed out: {status!r}")
print("ok")
