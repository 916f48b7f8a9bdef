#!/usr/bin/env python3
"""Plays pcscd's vpcd driver towards a `jpki-sandbox card insert --reader 127.0.0.1:PORT`, to send it
what a well-behaved pcscd never does: control bytes out of range, empty frames, APDUs of bad
lengths, a connection dropped in the middle of a frame.

    vpcd_peer.py PORT STEP...

Listens on 127.0.0.1:PORT and accepts the card's connection, then runs each STEP and prints one JSON
object: {"replies": [...]} with, per step that expects an answer, the answer in hex (or null when
the card said nothing within a second). Steps:
    ctl:XX        a 1-byte control frame (04 is answered with the ATR; others are not)
    apdu:HEX      a frame holding HEX (answered with a response APDU)
    raw:HEX       bytes sent as they are, no framing (e.g. a length announcing more than follows)
    empty         a zero-length frame (not answered)
    drop          close the connection (the card dials again); then accept the next one
"""
import json
import socket
import struct
import sys

port = int(sys.argv[1])
steps = sys.argv[2:]

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(1)
server.settimeout(30)
conn, _ = server.accept()
conn.settimeout(1.0)


def recv_exact(n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def answer():
    try:
        (length,) = struct.unpack(">H", recv_exact(2))
        return recv_exact(length).hex().upper()
    except (socket.timeout, ConnectionError):
        return None


replies = []
for step in steps:
    kind, _, arg = step.partition(":")
    if kind == "ctl":
        conn.sendall(struct.pack(">H", 1) + bytes.fromhex(arg))
        if arg.upper() == "04":
            replies.append(answer())
    elif kind == "apdu":
        payload = bytes.fromhex(arg)
        conn.sendall(struct.pack(">H", len(payload)) + payload)
        replies.append(answer())
    elif kind == "raw":
        conn.sendall(bytes.fromhex(arg))
    elif kind == "empty":
        conn.sendall(struct.pack(">H", 0))
    elif kind == "drop":
        conn.close()
        conn, _ = server.accept()
        conn.settimeout(1.0)
    else:
        sys.exit(f"unknown step {step}")
# Silence from the card for a control byte it does not know is checked by the ATR still answering.
print(json.dumps({"replies": replies}))
conn.close()
server.close()
