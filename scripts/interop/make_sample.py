#!/usr/bin/env python3
"""Build a sample JPKI-profile PKI with Python `cryptography` (no code of ours).

Usage: make_sample.py [--out DIR] [--check] [--no-aki] [--no-aia]

Writes into DIR (default: a new temp dir) PEM files:
  sign-root.pem  sign-root.key   self-signed signing root (OU=JPKI for digital signature)
  auth-root.pem  auth-root.key   self-signed authentication root (OU=JPKI for user authentication)
  sign-leaf.pem  sign-leaf.key   signing certificate (six otherNames, policy .1.1.20)
  auth-leaf.pem  auth-leaf.key   authentication certificate (policy .1.3.30)
  sign.crl                       CRL of the signing root, revoking one serial
  sign-leaf.ocsp.der             OCSP response (good) for sign-leaf, signed by the root
and prints a JSON manifest {"dir": ..., "files": {...}} on stdout.

With --check it also runs pkilint_check.py and jpki_decode.py (beside this file) on the
samples with the current interpreter and prints their results (a developer's self-test).

The leaves carry AKI and an AIA OCSP pointer unless --no-aki / --no-aia are given.
"""

import argparse
import datetime
import json
import os
import secrets
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID, ObjectIdentifier, AuthorityInformationAccessOID

JST = datetime.timezone(datetime.timedelta(hours=9))
UTC = datetime.timezone.utc

OID_JPKI_SIGN_POLICY = "1.2.392.200149.8.5.1.1.20"
OID_JPKI_AUTH_POLICY = "1.2.392.200149.8.5.1.3.30"
JPKI_OTHERNAME = "1.2.392.200149.8.5.5."
CPS_URL = "http://jpki-sandbox.example/cps.html"  # pkilint rejects "localhost" hosts (pkix.invalid_uri_syntax)
OCSP_URL_SIGN = "http://127.0.0.1:8080/ocsp/sign"
OCSP_URL_AUTH = "http://127.0.0.1:8080/ocsp/auth"

NAME = "山田　太郎"
ADDRESS = "埼玉県川越市元町１丁目３番１号"
DOB = "319800101"
SEX = "1"


def root_name(ou):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                           "Japan Agency for Local Authority Information Systems"),
    ])


JLIS_DIRNAME = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "公的個人認証サービス"),
])


def crldp_name(root, pref, muni):
    return x509.Name(list(root) + [
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "CRL Distribution Points"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, pref),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, muni),
    ])


def utf8(s):
    b = s.encode("utf-8")
    if len(b) < 0x80:
        ln = bytes([len(b)])
    elif len(b) < 0x100:
        ln = bytes([0x81, len(b)])
    else:
        ln = bytes([0x82, len(b) >> 8, len(b) & 0xFF])
    return b"\x0c" + ln + b


def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def serial():
    return int.from_bytes(secrets.token_bytes(8), "big") | (1 << 62)


def make_root(ou, now):
    k = key()
    name = root_name(ou)
    b = (x509.CertificateBuilder()
         .subject_name(name).issuer_name(name)
         .public_key(k.public_key()).serial_number(serial())
         .not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(datetime.datetime(now.year + 20, 12, 31, 23, 59, 59, tzinfo=JST).astimezone(UTC))
         .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .add_extension(x509.SubjectAlternativeName([x509.DirectoryName(JLIS_DIRNAME)]), critical=False)
         .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
             full_name=[x509.DirectoryName(name)], relative_name=None, reasons=None, crl_issuer=None)]),
             critical=False)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False))
    return b.sign(k, hashes.SHA256()), k


def fifth_birthday_after(now_jst, dob_md=(1, 1)):
    # the first birthday strictly after the issuance day, then four more
    year = now_jst.year + 5
    if (now_jst.month, now_jst.day) < dob_md:
        year -= 1
    return datetime.datetime(year, dob_md[0], dob_md[1], 23, 59, 59, tzinfo=JST)


def make_leaf(kind, root, root_key, now, with_aki=True, with_aia=True):
    k = key()
    now_jst = now.astimezone(JST)
    not_after = fifth_birthday_after(now_jst).astimezone(UTC)
    opaque = secrets.token_hex(15).upper()
    if kind == "sign":
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Saitama-ken"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Kawagoe-shi"),
            x509.NameAttribute(NameOID.COMMON_NAME, opaque),
        ])
        ku = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
        policy = OID_JPKI_SIGN_POLICY
        ocsp_url = OCSP_URL_SIGN
    else:
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, opaque),
        ])
        ku = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
        policy = OID_JPKI_AUTH_POLICY
        ocsp_url = OCSP_URL_AUTH
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(root.subject)
         .public_key(k.public_key()).serial_number(serial())
         .not_valid_before(now.replace(microsecond=0))
         .not_valid_after(not_after)
         .add_extension(ku, critical=True)
         .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
             ObjectIdentifier(policy), [CPS_URL])]), critical=True))
    if kind == "sign":
        flags_name = "0" * len(NAME)
        flags_addr = "0" * len(ADDRESS)
        values = [("1", NAME), ("4", DOB), ("3", SEX), ("5", ADDRESS), ("2", flags_name), ("6", flags_addr)]
        b = b.add_extension(x509.SubjectAlternativeName([
            x509.OtherName(ObjectIdentifier(JPKI_OTHERNAME + arc), utf8(v)) for arc, v in values]),
            critical=False)
    b = b.add_extension(x509.IssuerAlternativeName([x509.DirectoryName(JLIS_DIRNAME)]), critical=False)
    b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
        full_name=[x509.DirectoryName(crldp_name(root.subject, "Saitama-ken", "Kawagoe-shi"))],
        relative_name=None, reasons=None, crl_issuer=None)]), critical=False)
    if with_aia:
        b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]), critical=False)
    if with_aki:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                            critical=False)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False)
    return b.sign(root_key, hashes.SHA256()), k


def make_crl(root, root_key, now, revoked_serial):
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(root.subject)
         .last_update(now.replace(microsecond=0))
         .next_update(now.replace(microsecond=0) + datetime.timedelta(days=1))
         .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                  .serial_number(revoked_serial)
                                  .revocation_date(now.replace(microsecond=0))
                                  .add_extension(x509.CRLReason(x509.ReasonFlags.affiliation_changed), False)
                                  .build())
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False)
         .add_extension(x509.CRLNumber(1), False))
    return b.sign(root_key, hashes.SHA256())


def make_ocsp(leaf, root, root_key, now):
    b = (ocsp.OCSPResponseBuilder()
         .add_response(cert=leaf, issuer=root, algorithm=hashes.SHA1(),
                       cert_status=ocsp.OCSPCertStatus.GOOD,
                       this_update=now.replace(microsecond=0),
                       next_update=now.replace(microsecond=0) + datetime.timedelta(hours=12),
                       revocation_time=None, revocation_reason=None)
         .responder_id(ocsp.OCSPResponderEncoding.HASH, root))
    return b.sign(root_key, hashes.SHA256())


def write_key(path, k):
    with open(path, "wb") as f:
        f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()))


def build(out, with_aki=True, with_aia=True):
    now = datetime.datetime.now(UTC)
    files = {}
    sign_root, sign_root_key = make_root("JPKI for digital signature", now)
    auth_root, auth_root_key = make_root("JPKI for user authentication", now)
    sign_leaf, sign_leaf_key = make_leaf("sign", sign_root, sign_root_key, now, with_aki, with_aia)
    auth_leaf, auth_leaf_key = make_leaf("auth", auth_root, auth_root_key, now, with_aki, with_aia)
    for name, cert, k in [("sign-root", sign_root, sign_root_key), ("auth-root", auth_root, auth_root_key),
                          ("sign-leaf", sign_leaf, sign_leaf_key), ("auth-leaf", auth_leaf, auth_leaf_key)]:
        p = os.path.join(out, name + ".pem")
        with open(p, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        write_key(os.path.join(out, name + ".key"), k)
        files[name] = p
    crl = make_crl(sign_root, sign_root_key, now, serial())
    files["sign-crl"] = os.path.join(out, "sign.crl")
    with open(files["sign-crl"], "wb") as f:
        f.write(crl.public_bytes(serialization.Encoding.PEM))
    resp = make_ocsp(sign_leaf, sign_root, sign_root_key, now)
    files["sign-leaf-ocsp"] = os.path.join(out, "sign-leaf.ocsp.der")
    with open(files["sign-leaf-ocsp"], "wb") as f:
        f.write(resp.public_bytes(serialization.Encoding.DER))
    return files


def run_checks(files):
    here = os.path.dirname(os.path.abspath(__file__))
    py = sys.executable
    lint = os.path.join(here, "pkilint_check.py")
    dec = os.path.join(here, "jpki_decode.py")
    runs = {
        "pkilint sign-root": [py, lint, "--kind", "root", files["sign-root"]],
        "pkilint auth-root": [py, lint, "--kind", "root", files["auth-root"]],
        "pkilint sign-leaf": [py, lint, "--kind", "leaf", files["sign-leaf"], "--issuer", files["sign-root"]],
        "pkilint auth-leaf": [py, lint, "--kind", "leaf", files["auth-leaf"], "--issuer", files["auth-root"]],
        "pkilint sign-crl": [py, lint, "--kind", "crl", files["sign-crl"]],
        "pkilint sign-leaf-ocsp": [py, lint, "--kind", "ocsp", files["sign-leaf-ocsp"]],
        "decode sign-leaf": [py, dec, files["sign-leaf"], "--root", files["sign-root"]],
        "decode auth-leaf": [py, dec, files["auth-leaf"], "--kind", "auth", "--root", files["auth-root"]],
        "decode sign-root": [py, dec, files["sign-root"], "--kind", "root"],
    }
    report = {}
    for label, cmd in runs.items():
        p = subprocess.run(cmd, capture_output=True, text=True)
        try:
            out = json.loads(p.stdout)
        except ValueError:
            out = {"unparsed_stdout": p.stdout, "stderr": p.stderr}
        if label.startswith("pkilint"):
            out = {"exit": p.returncode,
                   "findings": sorted({(f["severity"], f["code"]) for f in out.get("findings", [])},
                                      key=lambda t: (["FATAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"].index(t[0]), t[1]))}
        else:
            out = {"exit": p.returncode, "strictClient": out.get("strictClient"),
                   "profile": out.get("profile"), "basicDetails": out.get("basicDetails")}
        report[label] = out
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="output directory (created if missing); default a new temp dir")
    ap.add_argument("--check", action="store_true", help="run the two checkers on the samples")
    ap.add_argument("--no-aki", action="store_true", help="leaves without authorityKeyIdentifier")
    ap.add_argument("--no-aia", action="store_true", help="leaves without authorityInfoAccess")
    args = ap.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="jpki-sample-")
    os.makedirs(out, exist_ok=True)
    files = build(out, with_aki=not args.no_aki, with_aia=not args.no_aia)
    result = {"dir": out, "files": files}
    if args.check:
        result["check"] = run_checks(files)
    sys.stdout.reconfigure(encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1 if args.check else None))


if __name__ == "__main__":
    main()
