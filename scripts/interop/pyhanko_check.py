#!/usr/bin/env python3
"""Sign a PDF with a sandbox identity through pyHanko, and validate it the way a relying party would.

Run it with the venv's interpreter (pyHanko 0.38, pyhanko-certvalidator 0.33):

    .venv/bin/python scripts/interop/pyhanko_check.py sign --p12 FILE --password P --out signed.pdf
    .venv/bin/python scripts/interop/pyhanko_check.py validate --pdf signed.pdf --root sign-root.pem \
        [--revocation hard-fail|soft-fail|none] [--at 2027-02-27T10:00:00+09:00]

sign
    Makes a one-page PDF in memory (pyHanko's own writer, no other tool), or reads --in PDF, and signs it with the
    key and certificate of a PKCS#12 file written by `jpki-sandbox export SERIAL --out FILE
    --password P`. The signature is PAdES baseline B (SubFilter /ETSI.CAdES.detached, SHA-256,
    no timestamp, no embedded revocation data) in a new field "Signature1". The signing time is
    the real clock of this machine, not the sandbox clock.

validate
    Validates the first embedded signature (or the one --index N names, in file order) with
    `validate_pdf_signature` and
    `ValidationContext(trust_roots=[ROOT], allow_fetching=True, revocation_mode=MODE)`.
    MODE (default hard-fail):
      hard-fail  the CRL or OCSP URL in the certificate must answer. The sandbox serves them with
                 `jpki-sandbox serve`; when nothing answers, the signature is reported as not
                 trusted (bottom_line false), not as a crash.
      soft-fail  revocation is checked when it can be fetched; fetch failures are ignored.
      none       no revocation check.
    --at ISO validates as of that moment (ValidationContext(moment=...)) instead of now. A date
    alone (2027-02-27) means 00:00 in Asia/Tokyo, as in the sandbox's --at.

Both commands print ONE JSON object on stdout. validate prints
    {"intact", "valid", "trusted", "revoked", "summary", "bottom_line", "error"}
where intact/valid/trusted/revoked/bottom_line are pyHanko's PdfSignatureStatus fields, summary is
its summary() and error is null or a message: why the chain is not trusted (for example the
revocation fetch that failed), or an exception that stopped the validation.
Exit status: 0 when bottom_line is true (sign: when the file was written), 1 when it is false
(sign: when pyHanko could not sign), 2 on a usage or I/O error (bad arguments, unreadable file, wrong
password, no signature).
"""

import argparse
import io
import json
import logging
import sys
from datetime import datetime, timedelta, timezone

JST = timezone(timedelta(hours=9))
FIELD = "Signature1"
_ARGV = sys.argv[1:]  # what main() parses, so that a usage error knows which command it was for


class UsageError(Exception):
    """A problem with the arguments or the files: exit 2."""


def emit(obj, code):
    print(json.dumps(obj, ensure_ascii=False))
    sys.exit(code)


def validation_result(error=None):
    """The shape validate always prints, filled in as far as validation got."""
    return {"intact": False, "valid": False, "trusted": False, "revoked": False,
            "summary": "", "bottom_line": False, "error": error}


def usage_failure(message, command):
    emit(validation_result(message) if command == "validate" else {"error": message}, 2)


def parse_moment(text):
    """ISO 8601 with an offset, or a bare date meaning 00:00 in Asia/Tokyo (the sandbox's --at)."""
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=JST)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at {text!r} is not ISO 8601 (2027-02-27 or 2027-02-27T10:00:00+09:00)")
    if moment.utcoffset() is None:
        raise UsageError(f"--at {text!r} needs an offset such as +09:00")
    return moment


def blank_pdf():
    """A one-page A4 PDF with one line of text, made with pyHanko's PdfFileWriter."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    writer = PdfFileWriter(stream_xrefs=False)
    font = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"),
        pdf_name("/Subtype"): pdf_name("/Type1"),
        pdf_name("/BaseFont"): pdf_name("/Helvetica"),
    })
    resources = generic.DictionaryObject({
        pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): writer.add_object(font)}),
    })
    text = b"BT /F1 18 Tf 72 770 Td (JPKI Sandbox test document) Tj ET"
    contents = writer.add_object(generic.StreamObject(stream_data=text))
    writer.insert_page(PageObject(contents=contents, media_box=(0, 0, 595, 842), resources=resources))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def cmd_sign(args):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    try:
        with open(args.p12, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {args.p12}: {e.strerror}")
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=args.password.encode())
    except ValueError as e:
        raise UsageError(f"cannot load {args.p12} (wrong password, or not a PKCS#12 file): {e}")

    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,  # PAdES; no timestamper and no DSS: baseline B
    )
    if args.input:
        try:
            with open(args.input, "rb") as f:
                source = f.read()
        except OSError as e:
            raise UsageError(f"cannot read {args.input}: {e.strerror}")
    else:
        source = blank_pdf()
    writer = IncrementalPdfFileWriter(io.BytesIO(source), strict=False)
    try:
        signed = signers.sign_pdf(writer, meta, signer=signer, new_field_spec=fields.SigFieldSpec(sig_field_name=FIELD))
    except Exception as e:  # e.g. a key type pyHanko cannot sign with
        emit({"error": f"signing failed: {type(e).__name__}: {e}"}, 1)
    try:
        with open(args.out, "wb") as f:
            f.write(signed.getvalue())
    except OSError as e:
        raise UsageError(f"cannot write {args.out}: {e.strerror}")
    cert = signer.signing_cert
    emit({
        "file": args.out,
        "field": FIELD,
        "subfilter": "/ETSI.CAdES.detached",
        "level": "PAdES-B-B",
        "signer": {"serial": format(cert.serial_number, "X"), "subject": cert.subject.human_friendly},
        "bytes": len(signed.getvalue()),
    }, 0)


class Collect(logging.Handler):
    """pyHanko logs why a chain failed (with a traceback) instead of returning it; keep the reason
    for the JSON and keep stderr quiet."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.reasons = []

    def emit(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else record.getMessage()
        if reason not in self.reasons:
            self.reasons.append(reason)


def trust_problem(status, reasons):
    """A short account of why the signature is not accepted, or None."""
    parts = []
    if not status.intact:
        parts.append("not intact: the signed bytes do not match the digest in the signature (the document was changed)")
    elif not status.valid:
        parts.append("the cryptographic signature does not verify")
    if status.trust_problem_indic is not None:
        parts.append(status.trust_problem_indic.name)
    if status.revocation_details is not None:
        rd = status.revocation_details
        parts.append(f"revoked on {rd.revocation_date.isoformat()} ({rd.revocation_reason.native})")
    parts += reasons
    return "; ".join(parts) or None


def cmd_validate(args):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import load_cert_from_pemder
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    moment = parse_moment(args.at) if args.at else None
    try:
        root = load_cert_from_pemder(args.root)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read the root certificate {args.root}: {e}")
    try:
        pdf = open(args.pdf, "rb")
    except OSError as e:
        raise UsageError(f"cannot read {args.pdf}: {e.strerror}")

    result = validation_result()
    with pdf:
        try:
            reader = PdfFileReader(pdf, strict=False)
            signatures = reader.embedded_signatures
        except Exception as e:  # not a PDF, or a broken one
            raise UsageError(f"cannot parse {args.pdf} as a PDF: {e}")
        if not signatures:
            raise UsageError(f"{args.pdf} has no embedded signature")
        if not 0 <= args.index < len(signatures):
            raise UsageError(f"{args.pdf} has {len(signatures)} signature(s); --index {args.index} is out of range")

        collect = Collect()
        for name in ("pyhanko", "pyhanko_certvalidator"):
            log = logging.getLogger(name)
            log.addHandler(collect)
            log.propagate = False
            log.setLevel(logging.WARNING)

        kwargs = {"trust_roots": [root], "allow_fetching": True, "revocation_mode": args.revocation}
        if moment is not None:
            kwargs["moment"] = moment
        try:
            vc = ValidationContext(**kwargs)
            status = validate_pdf_signature(signatures[args.index], vc)
        except Exception as e:
            # Anything pyHanko raises instead of answering (a hard-fail fetch error on some paths,
            # a malformed signature) is a failed validation, not a crash of this script.
            result["error"] = "; ".join(collect.reasons + [f"{type(e).__name__}: {e}"])
            result["summary"] = "validation did not complete"
            emit(result, 1)

    result.update({
        "intact": bool(status.intact),
        "valid": bool(status.valid),
        "trusted": bool(status.trusted),
        "revoked": bool(status.revoked),
        "summary": status.summary(),
        "bottom_line": bool(status.bottom_line),
    })
    if not status.bottom_line:
        result["error"] = trust_problem(status, collect.reasons) or "the signature is not valid"
    emit(result, 0 if status.bottom_line else 1)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        usage_failure(f"usage: {message}", "validate" if _ARGV[:1] == ["validate"] else "sign")


def main(argv=None):
    global _ARGV
    _ARGV = list(sys.argv[1:] if argv is None else argv)
    p = Parser(prog="pyhanko_check.py", description="Sign a PDF with a sandbox identity (pyHanko) and validate it.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    s = sub.add_parser("sign", help="make a one-page PDF and sign it (PAdES-B-B, field Signature1)")
    s.add_argument("--p12", required=True, help="PKCS#12 from `jpki-sandbox export SERIAL --out FILE --password P`")
    s.add_argument("--password", required=True, help="its password")
    s.add_argument("--out", required=True, help="where to write the signed PDF")
    s.add_argument("--in", dest="input", help="sign this PDF (an incremental update) instead of a new one-page PDF")

    v = sub.add_parser("validate", help="validate the embedded signature against a root")
    v.add_argument("--pdf", required=True, help="the signed PDF")
    v.add_argument("--root", required=True, help="the trust root, PEM or DER (jpki-sandbox ca export: sign-root.pem)")
    v.add_argument("--revocation", choices=["hard-fail", "soft-fail", "none"], default="hard-fail",
                   help="revocation mode of the ValidationContext (default hard-fail)")
    v.add_argument("--at", help="validate as of this time: 2027-02-27 (00:00 JST) or 2027-02-27T10:00:00+09:00")
    v.add_argument("--index", type=int, default=0, help="which embedded signature, in file order (default 0, the first)")

    args = p.parse_args(_ARGV)
    try:
        if args.command == "sign":
            cmd_sign(args)
        else:
            cmd_validate(args)
    except UsageError as e:
        usage_failure(str(e), args.command)


if __name__ == "__main__":
    main()
