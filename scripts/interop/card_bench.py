#!/usr/bin/env python3
"""Timing loops for scripts/bench-card (a benchmark, not a test). Prints one JSON object.

    card_bench.py pkcs11 MODULE PIN N         (.venv python: python-pkcs11) sign N SHA-256 digests with
                                              the authentication key (ID 01), logged in once
    card_bench.py soft KEY.pem N              (.venv python: cryptography) the same N signatures in process
    card_bench.py apdu READER N               (/usr/bin/python3: pyscard) N READ BINARY of 256 bytes
"""
import json
import statistics
import sys
import time


def pkcs11_loop(module, pin, n):
    import pkcs11
    from pkcs11 import Mechanism, ObjectClass
    lib = pkcs11.lib(module)
    token = next(s.get_token() for s in lib.get_slots(token_present=True) if "Authentication" in s.get_token().label)
    with token.open(user_pin=pin) as session:
        key = next(session.get_objects({pkcs11.Attribute.CLASS: ObjectClass.PRIVATE_KEY, pkcs11.Attribute.ID: b"\x01"}))
        key.sign(b"warm-up", mechanism=Mechanism.SHA256_RSA_PKCS)
        start = time.perf_counter()
        for i in range(n):
            key.sign(b"message %d" % i, mechanism=Mechanism.SHA256_RSA_PKCS)
        elapsed = time.perf_counter() - start
    return {"signatures": n, "seconds": round(elapsed, 3), "per_second": round(n / elapsed, 1)}


def soft_loop(key_file, n):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    key = serialization.load_pem_private_key(open(key_file, "rb").read(), password=None)
    start = time.perf_counter()
    for i in range(n):
        key.sign(b"message %d" % i, padding.PKCS1v15(), hashes.SHA256())
    elapsed = time.perf_counter() - start
    return {"signatures": n, "seconds": round(elapsed, 3), "per_second": round(n / elapsed, 1)}


def apdu_loop(reader_name, n):
    from smartcard.System import readers
    reader = next(r for r in readers() if reader_name in str(r))
    connection = reader.createConnection()
    connection.connect()
    select_ap = list(bytes.fromhex("00A4040C0AD392F000260100000001"))
    select_ef = list(bytes.fromhex("00A4020C02000A"))
    read = list(bytes.fromhex("00B0000000"))
    for apdu in (select_ap, select_ef):
        _, sw1, sw2 = connection.transmit(apdu)
        assert (sw1, sw2) == (0x90, 0x00), f"select failed: {sw1:02X}{sw2:02X}"
    times = []
    for _ in range(n):
        start = time.perf_counter()
        data, sw1, sw2 = connection.transmit(read)
        times.append(time.perf_counter() - start)
        assert (sw1, sw2) == (0x90, 0x00) and len(data) == 256
    connection.disconnect()
    times.sort()
    us = lambda t: round(t * 1e6, 1)
    return {"reads": n, "bytes": 256, "mean_us": us(statistics.mean(times)), "p50_us": us(times[n // 2]),
            "p99_us": us(times[int(n * 0.99) - 1]), "per_second": round(n / sum(times), 1)}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "pkcs11":
        result = pkcs11_loop(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif mode == "soft":
        result = soft_loop(sys.argv[2], int(sys.argv[3]))
    elif mode == "apdu":
        result = apdu_loop(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(f"unknown mode {mode}")
    print(json.dumps(result))
