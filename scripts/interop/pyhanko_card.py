#!/usr/bin/env python3
"""Sign a PDF with pyHanko through PKCS#11: OpenSC's module over the virtual card in pcscd's reader.

    .venv/bin/python scripts/interop/pyhanko_card.py --pin ABC123 --out signed.pdf \
        [--module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so] [--token "JPKI (Digital Signature PIN)"]

The PDF is the one pyhanko_check.py makes; the signature is PAdES baseline B (SHA-256) in field
"Signature1", made by `pyhanko.sign.pkcs11.PKCS11Signer` with the signing key and certificate
(PKCS#15 ID 02) of the token. Validate it with `pyhanko_check.py validate`. Prints one JSON object:
{"signed": true} or {"error": "..."}; exit 0 when the file was written, 1 otherwise.
"""

import argparse
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pyhanko_check import blank_pdf, FIELD  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pin", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--module", default="/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so")
    parser.add_argument("--token", default="JPKI (Digital Signature PIN)")
    args = parser.parse_args()

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    try:
        session = open_pkcs11_session(args.module, token_criteria=TokenCriteria(label=args.token), user_pin=args.pin)
    except Exception as e:  # the module's own exceptions: no token, wrong or locked PIN
        print(json.dumps({"error": f"cannot open a session on {args.token!r}: {type(e).__name__}: {e}"}))
        sys.exit(1)
    try:
        signer = PKCS11Signer(session, cert_id=b"\x02", key_id=b"\x02")
        meta = signers.PdfSignatureMetadata(field_name=FIELD, md_algorithm="sha256",
                                            subfilter=fields.SigSeedSubFilter.PADES)
        writer = IncrementalPdfFileWriter(io.BytesIO(blank_pdf()))
        out = io.BytesIO()
        signers.sign_pdf(writer, meta, signer=signer, output=out)
        with open(args.out, "wb") as f:
            f.write(out.getvalue())
    except Exception as e:
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)
    finally:
        session.close()
    print(json.dumps({"signed": True}))


if __name__ == "__main__":
    main()
