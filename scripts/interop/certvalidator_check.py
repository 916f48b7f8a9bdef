#!/usr/bin/env python3
"""Validate a certificate with pyhanko-certvalidator, fetching revocation information over HTTP
from the URLs in the certificate (its OCSP responder and CRL distribution point).
Every --root file may hold several PEM certificates (a bundle of root generations sharing one
subject); all of them are trust anchors.

Usage (run with the venv's interpreter, $JPKI_SANDBOX_VENV/bin/python):

    certvalidator_check.py --cert LEAF --root ROOT [--root ROOT ...] [--policy hard-fail|both|ocsp|crl]
                           [--usage digital_signature ...]

--policy hard-fail is certvalidator's legacy hard-fail mode (revocation information must be
obtained from what the certificate declares, or validation fails); both / ocsp / crl require that
kind of revocation information explicitly (RFC 6960 OCSP and RFC 5280 CRLs).

Prints ONE JSON object on stdout:

    {"valid": true|false, "revoked": true|false, "error": "..." | null,
     "errorType": "..." | null, "ocspResponses": N, "crls": N}

Exit status: 0 when valid, 1 when not valid (revoked or any other failure), 2 on a usage error.
"""

import argparse
import asyncio
import json
import sys


def emit(obj, code):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
    return code


async def check(args):
    from asn1crypto import pem, x509
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    def load_all(path):
        data = open(path, "rb").read()
        if pem.detect(data):
            return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        return [x509.Certificate.load(data)]

    leaf = load_all(args.cert)[0]
    roots = [cert for path in args.root for cert in load_all(path)]
    backend = AIOHttpFetcherBackend(per_request_timeout=10)
    if args.policy == "hard-fail":
        context = ValidationContext(trust_roots=roots, allow_fetching=True, revocation_mode="hard-fail",
                                    fetcher_backend=backend)
    else:
        rule = {
            "both": RevocationCheckingRule.CRL_AND_OCSP_REQUIRED,
            "ocsp": RevocationCheckingRule.OCSP_REQUIRED,
            "crl": RevocationCheckingRule.CRL_REQUIRED,
        }[args.policy]
        policy = CertRevTrustPolicy(RevocationCheckingPolicy(ee_certificate_rule=rule,
                                                             intermediate_ca_cert_rule=rule))
        context = ValidationContext(trust_roots=roots, allow_fetching=True, revinfo_policy=policy,
                                    fetcher_backend=backend)
    validator = CertificateValidator(leaf, validation_context=context)
    result = {"valid": False, "revoked": False, "error": None, "errorType": None}
    try:
        await validator.async_validate_usage(set(args.usage))
        result["valid"] = True
    except RevokedError as e:
        result.update(revoked=True, error=str(e), errorType=type(e).__name__)
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        result.update(error=str(e), errorType=type(e).__name__)
    finally:
        await backend.close()
    result["ocspResponses"] = len(context.ocsps)
    result["crls"] = len(context.crls)
    return result


def main(argv):
    p = argparse.ArgumentParser(description="pyhanko-certvalidator revocation check printing JSON")
    p.add_argument("--cert", required=True)
    p.add_argument("--root", required=True, action="append")
    p.add_argument("--policy", default="hard-fail", choices=["hard-fail", "both", "ocsp", "crl"])
    p.add_argument("--usage", nargs="*", default=["digital_signature"])
    args = p.parse_args(argv)
    try:
        result = asyncio.run(check(args))
    except Exception as e:  # noqa: BLE001
        return emit({"valid": False, "revoked": False, "error": f"{type(e).__name__}: {e}",
                     "errorType": type(e).__name__}, 1)
    return emit(result, 0 if result["valid"] else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
