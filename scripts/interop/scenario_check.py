#!/usr/bin/env python3
"""Check scenario fixtures the way a CI job would: every certificate's expected verdict against
outside relying parties (docs/scenarios.md).

Usage (pyhanko-certvalidator needs the venv's interpreter, $JPKI_SANDBOX_VENV/bin/python):

    scenario_check.py [--no-pyhanko] [--openssl PATH] FILE...

Each FILE is a `manifest.json` written by `jpki-sandbox scenario create --all --out DIR`, or the
`--json` answer of `jpki-sandbox scenario create NAME --out DIR` saved inside DIR. The files the
JSON names are relative to the folder the JSON is in, so a fixture folder can be copied anywhere.
The OCSP and CRL URLs written in the certificates must reach a running `jpki-sandbox serve` of the
sandbox that made them.

For every certificate:
  - `openssl verify -crl_check -crl_download` against its root (the CRL is fetched from the
    certificate's distribution point): OK → good, error 23 → revoked, error 10 → expired,
    error 9 → notYetValid;
  - `openssl ocsp` against the certificate's OCSP URL: good, or revoked with the reason;
  - for signing certificates, pyhanko-certvalidator (hard-fail: revocation information must be
    fetched): valid → good, RevokedError → revoked with its reason, ExpiredError → expired.
Each must match `expected` (`verdict`, `reason`, `ocsp`, `ocspReason`).

Prints ONE JSON object: {"checked": N, "pyhanko": N, "mismatches": [...], "results": [...]}.
Exit status: 0 when everything matches, 1 on any mismatch, 2 on a usage error.
"""

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys


def camel(snake):
    head, *rest = snake.split("_")
    return head + "".join(w.capitalize() for w in rest)


def openssl_verdict(openssl, root, cert):
    r = subprocess.run([openssl, "verify", "-crl_check", "-crl_download", "-CAfile", root, cert],
                       capture_output=True, text=True)
    if r.returncode == 0:
        return {"verdict": "good"}
    text = r.stdout + r.stderr
    m = re.search(r"error (\d+) at \d+ depth lookup: (.*)", text)
    code = int(m.group(1)) if m else None
    verdict = {23: "revoked", 10: "expired", 9: "notYetValid"}.get(code, "error")
    return {"verdict": verdict, "detail": m.group(2) if m else text.strip()[-200:]}


def openssl_ocsp(openssl, root, cert, url):
    r = subprocess.run([openssl, "ocsp", "-issuer", root, "-cert", cert, "-url", url, "-CAfile", root],
                       capture_output=True, text=True)
    text = r.stdout + r.stderr
    if r.returncode != 0 or "Response verify OK" not in text:
        return {"ocsp": "error", "detail": text.strip()[-300:]}
    first = r.stdout.splitlines()[0] if r.stdout else ""
    status = first.rsplit(":", 1)[-1].strip()
    m = re.search(r"Reason: (\w+)", r.stdout)
    return {"ocsp": status, "ocspReason": m.group(1) if m else None}


async def pyhanko_verdict(root, cert):
    from asn1crypto import pem, x509
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import ExpiredError, NotYetValidError, RevokedError
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

    def load(path):
        data = open(path, "rb").read()
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        return x509.Certificate.load(data)

    backend = AIOHttpFetcherBackend(per_request_timeout=10)
    context = ValidationContext(trust_roots=[load(root)], allow_fetching=True, revocation_mode="hard-fail",
                                fetcher_backend=backend)
    try:
        await CertificateValidator(load(cert), validation_context=context).async_validate_usage({"digital_signature"})
        return {"verdict": "good"}
    except RevokedError as e:
        return {"verdict": "revoked", "reason": camel(e.reason.native)}
    except ExpiredError:
        return {"verdict": "expired"}
    except NotYetValidError:
        return {"verdict": "notYetValid"}
    except Exception as e:  # noqa: BLE001 - every other failure is a mismatch, reported
        return {"verdict": "error", "detail": f"{type(e).__name__}: {e}"}
    finally:
        await backend.close()


def scenarios_of(path):
    doc = json.load(open(path, encoding="utf-8"))
    base = os.path.dirname(os.path.abspath(path))
    if "scenarios" in doc:
        return base, doc["scenarios"]
    if "scenario" in doc:
        return base, [doc]
    raise ValueError(f"{path} is neither a manifest nor a scenario answer")


async def main_async(args):
    results, mismatches, jobs = [], [], []
    for path in args.files:
        base, scenarios = scenarios_of(path)
        for s in scenarios:
            for c in s["certificates"]:
                files = c.get("files")
                if not files:
                    raise ValueError(f"{s['scenario']}/{c['label']}: no files (create the scenario with --out)")
                root = os.path.join(base, files["root"])
                cert = os.path.join(base, files["certificate"])
                exp = c["expected"]
                row = {"scenario": s["scenario"], "label": c["label"], "serial": c["certificate"]["serial"],
                       "expected": exp, "openssl": openssl_verdict(args.openssl, root, cert),
                       "ocsp": openssl_ocsp(args.openssl, root, cert, c["ocspUrl"])}
                results.append(row)
                if c["certificate"]["kind"] == "sign" and not args.no_pyhanko:
                    jobs.append((row, pyhanko_verdict(root, cert)))
    for row, verdict in zip([j[0] for j in jobs], await asyncio.gather(*[j[1] for j in jobs])):
        row["pyhanko"] = verdict

    for row in results:
        exp, problems = row["expected"], []
        if row["openssl"]["verdict"] != exp["verdict"]:
            problems.append(f"openssl verify says {row['openssl']}, expected {exp['verdict']}")
        if row["ocsp"].get("ocsp") != exp["ocsp"] or row["ocsp"].get("ocspReason") != exp.get("ocspReason"):
            problems.append(f"openssl ocsp says {row['ocsp']}, expected {exp['ocsp']} {exp.get('ocspReason')}")
        if "pyhanko" in row:
            p = row["pyhanko"]
            if p["verdict"] != exp["verdict"] or (exp["verdict"] == "revoked" and p.get("reason") != exp.get("reason")):
                problems.append(f"pyhanko-certvalidator says {p}, expected {exp['verdict']} {exp.get('reason')}")
        if problems:
            mismatches.append({"scenario": row["scenario"], "label": row["label"], "problems": problems})
    return {"checked": len(results), "pyhanko": len(jobs), "mismatches": mismatches, "results": results}


def main(argv):
    p = argparse.ArgumentParser(description="check scenario fixtures against openssl and pyhanko-certvalidator")
    p.add_argument("files", nargs="+")
    p.add_argument("--no-pyhanko", action="store_true")
    p.add_argument("--openssl", default="openssl")
    args = p.parse_args(argv)
    try:
        out = asyncio.run(main_async(args))
    except (OSError, ValueError, KeyError) as e:
        sys.stdout.write(json.dumps({"error": f"{type(e).__name__}: {e}"}) + "\n")
        return 2
    sys.stdout.write(json.dumps(out) + "\n")
    return 0 if not out["mismatches"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
