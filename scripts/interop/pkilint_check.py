#!/usr/bin/env python3
"""Lint a certificate, CRL or OCSP response with pkilint (RFC 5280 / RFC 6960 profiles).

Usage (run with the venv's interpreter, $JPKI_SANDBOX_VENV/bin/python):

    pkilint_check.py --kind root|leaf|crl|ocsp FILE [--allow CODE ...]
                     [--issuer ISSUERFILE] [--crl-type CRL|ARL] [--min-severity SEV]

FILE may be PEM or DER. Prints ONE JSON object on stdout:

    {"kind": "...", "file": "...",
     "findings": [{"severity": "ERROR", "code": "...", "node": "...",
                   "validator": "...", "message": "..."}, ...],
     "blocking": [...findings with severity ERROR or FATAL whose code is not allowed...],
     "allowed": [...codes passed with --allow...]}

Exit status: 0 when "blocking" is empty, 1 otherwise, 2 on a usage or I/O error
(then the JSON object has an "error" member instead).

This uses pkilint's Python API with the same validator sets as its CLI tools
`lint_pkix_cert lint`, `lint_crl lint -t CRL -p PKIX` and `lint_ocsp_response lint`.
pkilint's RFC 5280 certificate linter has no root/leaf switch: it tells a CA from an
end entity by basicConstraints. --kind root|leaf therefore lint the same way; with
--issuer ISSUERFILE (kind leaf) the issuer/subject chain checks of
`lint_pkix_signer_signee_cert_chain` (name chaining, AKI/SKI match, signature) run too.
"""

import argparse
import json
import sys

SEVERITY_ORDER = ["FATAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"]
BLOCKING = {"FATAL", "ERROR"}


def emit(obj, code):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=None) + "\n")
    sys.stdout.flush()
    return code


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"pkilint_check: {message}", file=sys.stderr)
        emit({"error": f"usage: {message}", "findings": [], "blocking": []}, 2)
        sys.exit(2)


def parse_args(argv):
    p = _Parser(description="pkilint wrapper printing JSON")
    p.add_argument("--kind", required=True, choices=["root", "leaf", "crl", "ocsp"])
    p.add_argument("file", help="PEM or DER file")
    p.add_argument("--allow", action="append", nargs="+", default=[], metavar="CODE",
                   help="finding code that does not block (repeatable; commas also split)")
    p.add_argument("--issuer", help="issuer certificate (kind leaf): also run chain checks")
    p.add_argument("--crl-type", default="CRL", choices=["CRL", "ARL"],
                   help="kind crl: CRL (end-entity revocations) or ARL (CA revocations)")
    p.add_argument("--min-severity", default="INFO", choices=SEVERITY_ORDER,
                   help="lowest severity listed in findings (default INFO)")
    return p.parse_args(argv)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def lint_certificate(data, name, issuer_data=None, issuer_name=None):
    from pkilint import loader, document
    from pkilint.pkix import certificate, name as pkix_name, extension

    doc_validator = certificate.create_pkix_certificate_validator_container(
        certificate.create_decoding_validators(
            pkix_name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS
        ),
        [
            certificate.create_issuer_validator_container([]),
            certificate.create_validity_validator_container(),
            certificate.create_subject_validator_container([]),
            certificate.create_extensions_validator_container([]),
            certificate.create_spki_validator_container([]),
        ],
    )
    cert_loader = loader.RFC5280CertificateDocumentLoader()
    cert = cert_loader.load_document(data, name)
    results = list(doc_validator.validate(cert.root))

    if issuer_data is not None:
        from pkilint.bin import lint_pkix_signer_signee_cert_chain as chain

        docs = {}
        issuer = cert_loader.load_document(issuer_data, issuer_name, "issuer", docs)
        docs["issuer"] = issuer
        subject = cert_loader.load_document(data, name, "subject", docs)
        docs["subject"] = subject
        results += chain.create_decoder_validation_container().validate(issuer.root)
        results += chain.create_decoder_validation_container().validate(subject.root)
        results += chain.create_issuer_validation_container().validate(issuer.root)
        results += chain.create_subject_validation_container().validate(subject.root)
    return results


def lint_crl(data, name, crl_type_name):
    from pkilint import loader, pkix
    from pkilint.pkix import crl, name as pkix_name, extension

    # Same as `lint_crl lint -t <type> -p PKIX`. crl_type is only used by the BR profile.
    crl.CertificateRevocationListType[crl_type_name]
    doc_validator = crl.create_pkix_crl_validator_container(
        [
            pkix.create_attribute_decoder(pkix_name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [
            crl.create_issuer_validator_container([]),
            crl.create_validity_validator_container([]),
            crl.create_extensions_validator_container([]),
        ],
    )
    doc = loader.RFC5280CertificateListDocumentLoader().load_document(data, name)
    return list(doc_validator.validate(doc.root))


def lint_ocsp(data, name):
    from pkilint import loader, pkix
    from pkilint.pkix import extension, name as pkix_name, ocsp

    doc_validator = ocsp.create_pkix_ocsp_response_validator_container(
        [
            ocsp.create_response_decoder(),
            pkix.create_attribute_decoder(pkix_name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [],
    )
    doc = loader.RFC6960OCSPResponseDocumentLoader().load_document(data, name)
    return list(doc_validator.validate(doc.root))


def main(argv=None):
    args = parse_args(argv)
    allowed = []
    for group in args.allow:
        for item in group:
            allowed += [c.strip() for c in item.split(",") if c.strip()]
    base = {"kind": args.kind, "file": args.file, "allowed": allowed}

    try:
        data = read_bytes(args.file)
        issuer_data = read_bytes(args.issuer) if args.issuer else None
    except OSError as e:
        print(f"pkilint_check: {e}", file=sys.stderr)
        return emit(dict(base, error=f"cannot read input: {e}", findings=[], blocking=[]), 2)

    if args.issuer and args.kind != "leaf":
        print("pkilint_check: --issuer is only for --kind leaf", file=sys.stderr)
        return emit(dict(base, error="--issuer is only for --kind leaf", findings=[], blocking=[]), 2)

    try:
        if args.kind in ("root", "leaf"):
            results = lint_certificate(data, args.file, issuer_data, args.issuer)
        elif args.kind == "crl":
            results = lint_crl(data, args.file, args.crl_type)
        else:
            results = lint_ocsp(data, args.file)
    except Exception as e:  # noqa: BLE001
        # pkilint's loaders raise ValueError (or pyasn1 errors) for input that is neither
        # DER nor PEM of the expected type, or that does not decode as that ASN.1 type.
        print(f"pkilint_check: cannot load {args.file}: {e}", file=sys.stderr)
        return emit(dict(base, error=f"cannot load document: {e}", findings=[], blocking=[]), 2)

    limit = SEVERITY_ORDER.index(args.min_severity)
    all_findings = []
    for result in results:
        for fd in result.finding_descriptions:
            sev = fd.finding.severity.name
            all_findings.append({
                "severity": sev,
                "code": fd.finding.code,
                "node": result.node.path,
                "validator": str(result.validator),
                "message": fd.message if fd.message is not None else "",
            })
    findings = [f for f in all_findings if SEVERITY_ORDER.index(f["severity"]) <= limit]
    blocking = [f for f in all_findings if f["severity"] in BLOCKING and f["code"] not in allowed]
    return emit(dict(base, findings=findings, blocking=blocking), 1 if blocking else 0)


if __name__ == "__main__":
    sys.exit(main())
