#!/usr/bin/env python3
"""Decode a certificate independently of our Swift code and check it against the
strict-client rules of the JPKI profile (shared/docs/jpki-domain.md, "Certificate profile").

Usage (run with the venv's interpreter, $JPKI_SANDBOX_VENV/bin/python):

    jpki_decode.py FILE [--root ROOTFILE] [--kind sign|auth|root] [--policy OID]

FILE and ROOTFILE may be PEM or DER. Decoding uses Python `cryptography`; the few things
it hides (string types, explicit NULL parameters, extension order and duplicates, the
inner tags of otherNames and CPS qualifiers) come from a small DER walker in this file.

Prints ONE JSON object on stdout:
  subject, issuer        [[oid, value, asn1 string type name], ...] in DER order
  serial                 upper-case hex, no leading zeros
  notBefore, notAfter    ISO 8601 UTC ("2030-01-01T14:59:59Z")
  signatureAlgorithm     OID of the outer signatureAlgorithm
  signatureParamsNull    true if its parameters are an explicit NULL (05 00)
  tbsSignatureAlgorithm, tbsSignatureParamsNull   the same for tbsCertificate.signature
  publicKey              {"type": "RSA", "bits": 2048, "exponent": 65537, "spkiParamsNull": true}
  version                1, 2 or 3
  extensions             [{"oid", "name", "critical", "valueHex", "decoded"}, ...] in DER order
  keyUsageDER            hex of the keyUsage extnValue contents, e.g. "030206c0" (null if absent)
  basicDetails           {name, dateOfBirth, sex, address, nameFlags, addressFlags} from the
                         otherNames 1.2.392.200149.8.5.5.1/.4/.3/.5/.2/.6, or null if none present
  strictClient           list of strict-client rule violations for --kind (empty = passes)
  profile                list of further deviations from the profile table (informative)
  chain                  with --root: {"signatureValid", "issuerNameMatches", "rootSelfSigned"}

--kind sign (default): exactly six otherNames in order .1,.4,.3,.5,.2,.6, each [0] EXPLICIT
  UTF8String; keyUsage critical, exactly digitalSignature+nonRepudiation; certificatePolicies
  critical, exactly the policy (--policy, default 1.2.392.200149.8.5.1.1.20) with exactly one
  qualifier, a CPS IA5String; no duplicate extensions; SKI last; with --root, chain of 2.
--kind auth: no subjectAltName; keyUsage critical, exactly digitalSignature; certificatePolicies
  critical with exactly the policy (default 1.2.392.200149.8.5.1.3.30); no duplicates; SKI last;
  with --root, chain of 2.
--kind root: self-signed (signature verifies with own key), keyUsage critical exactly
  keyCertSign+cRLSign, basicConstraints critical cA, no AKI, no duplicates, SKI last.

Exit status: 0 when the certificate decoded (whatever strictClient says), 2 on a usage,
I/O or decoding error (then the JSON object has an "error" member).
"""

import argparse
import datetime
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa, ec, padding
from cryptography.hazmat.primitives.serialization import Encoding

# --------------------------------------------------------------------------- OIDs

OID_NAMES = {
    "2.5.29.15": "keyUsage",
    "2.5.29.19": "basicConstraints",
    "2.5.29.32": "certificatePolicies",
    "2.5.29.17": "subjectAltName",
    "2.5.29.18": "issuerAltName",
    "2.5.29.31": "cRLDistributionPoints",
    "1.3.6.1.5.5.7.1.1": "authorityInfoAccess",
    "2.5.29.14": "subjectKeyIdentifier",
    "2.5.29.35": "authorityKeyIdentifier",
    "2.5.29.37": "extKeyUsage",
    "2.5.29.30": "nameConstraints",
    "2.5.29.36": "policyConstraints",
    "2.5.29.54": "inhibitAnyPolicy",
    "2.5.29.33": "policyMappings",
    "2.5.29.9": "subjectDirectoryAttributes",
    "2.5.29.46": "freshestCRL",
}
OID_SKI = "2.5.29.14"
OID_AKI = "2.5.29.35"
OID_KU = "2.5.29.15"
OID_BC = "2.5.29.19"
OID_CP = "2.5.29.32"
OID_SAN = "2.5.29.17"
OID_IAN = "2.5.29.18"
OID_CPS = "1.3.6.1.5.5.7.2.1"
OID_UNOTICE = "1.3.6.1.5.5.7.2.2"
OID_SHA256_RSA = "1.2.840.113549.1.1.11"
OID_RSA = "1.2.840.113549.1.1.1"

JPKI_ON = "1.2.392.200149.8.5.5."
BASIC_FIELDS = [("1", "name"), ("4", "dateOfBirth"), ("3", "sex"), ("5", "address"),
                ("2", "nameFlags"), ("6", "addressFlags")]
SIGN_ORDER = [JPKI_ON + a for a, _ in BASIC_FIELDS]  # .1 .4 .3 .5 .2 .6

DEFAULT_POLICY = {"sign": "1.2.392.200149.8.5.1.1.20", "auth": "1.2.392.200149.8.5.1.3.30"}

KU_BITS = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
           "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"]

STRING_TAGS = {0x0C: "UTF8String", 0x13: "PrintableString", 0x16: "IA5String",
               0x14: "TeletexString", 0x1E: "BMPString", 0x1C: "UniversalString",
               0x12: "NumericString", 0x1A: "VisibleString"}

# --------------------------------------------------------------------------- DER walker


class DERError(ValueError):
    pass


class TLV:
    __slots__ = ("tag", "raw_tag", "start", "cstart", "end", "data")

    def __init__(self, data, tag, raw_tag, start, cstart, end):
        self.data, self.tag, self.raw_tag, self.start, self.cstart, self.end = data, tag, raw_tag, start, cstart, end

    @property
    def constructed(self):
        return bool(self.raw_tag[0] & 0x20)

    @property
    def content(self):
        return self.data[self.cstart:self.end]

    @property
    def der(self):
        return self.data[self.start:self.end]

    def children(self):
        return list(iter_tlv(self.data, self.cstart, self.end))


def read_tlv(data, pos, limit=None):
    limit = len(data) if limit is None else limit
    start = pos
    if pos >= limit:
        raise DERError("truncated (tag)")
    first = data[pos]
    pos += 1
    tag = first
    if first & 0x1F == 0x1F:  # high tag number form
        num = 0
        while True:
            if pos >= limit:
                raise DERError("truncated (long tag)")
            b = data[pos]
            pos += 1
            num = (num << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        tag = (first & 0xE0, num)
    raw_tag = data[start:pos]
    if pos >= limit:
        raise DERError("truncated (length)")
    lb = data[pos]
    pos += 1
    if lb < 0x80:
        length = lb
    elif lb == 0x80:
        raise DERError("indefinite length")
    else:
        n = lb & 0x7F
        if pos + n > limit:
            raise DERError("truncated (long length)")
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    if pos + length > limit:
        raise DERError("content runs past its container")
    return TLV(data, tag, raw_tag, start, pos, pos + length)


def iter_tlv(data, pos, end):
    while pos < end:
        t = read_tlv(data, pos, end)
        yield t
        pos = t.end


def parse(data):
    t = read_tlv(data, 0)
    return t


def decode_oid(content):
    if not content:
        raise DERError("empty OID")
    arcs = []
    n = 0
    for b in content:
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(n)
            n = 0
    first = arcs[0]
    if first < 40:
        head = [0, first]
    elif first < 80:
        head = [1, first - 40]
    else:
        head = [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def decode_string(tag, content):
    if tag == 0x0C:
        return content.decode("utf-8")
    if tag == 0x1E:
        return content.decode("utf-16-be")
    if tag == 0x1C:
        return content.decode("utf-32-be")
    if tag == 0x14:
        return content.decode("latin-1")
    return content.decode("ascii", errors="replace")


def tag_name(tag):
    if isinstance(tag, int):
        if tag in STRING_TAGS:
            return STRING_TAGS[tag]
        return "0x%02X" % tag
    return "tag(%s,%d)" % (hex(tag[0]), tag[1])


def der_name(name_tlv):
    """Name -> [[oid, value, type], ...] in DER order (multi-valued RDNs flattened)."""
    out = []
    for rdn in name_tlv.children():
        for atv in rdn.children():
            oid_t, val_t = atv.children()[:2]
            oid = decode_oid(oid_t.content)
            try:
                value = decode_string(val_t.tag, val_t.content)
            except UnicodeDecodeError:
                value = val_t.content.hex()
            out.append([oid, value, tag_name(val_t.tag)])
    return out


def alg_id(tlv):
    kids = tlv.children()
    oid = decode_oid(kids[0].content)
    params = kids[1] if len(kids) > 1 else None
    return oid, (params is not None and params.der == b"\x05\x00"), (params.der.hex() if params is not None else None)


def bitstring_bits(content):
    """BIT STRING contents -> set of bit indexes that are 1."""
    if not content:
        return set()
    unused = content[0]
    bits = set()
    body = content[1:]
    for i, byte in enumerate(body):
        for j in range(8):
            if byte & (0x80 >> j):
                idx = i * 8 + j
                if i == len(body) - 1 and j >= 8 - unused:
                    continue
                bits.add(idx)
    return bits


class RawCert:
    def __init__(self, der):
        self.der = der
        cert = parse(der)
        if cert.end != len(der):
            raise DERError("trailing bytes after Certificate")
        top = cert.children()
        if len(top) != 3:
            raise DERError("Certificate is not SEQUENCE {tbs, alg, sig}")
        self.tbs_tlv, self.sigalg_tlv, _ = top
        tbs = self.tbs_tlv.children()
        i = 0
        self.version = 1
        if tbs[0].tag == 0xA0:
            v = tbs[0].children()[0]
            self.version = int.from_bytes(v.content, "big") + 1
            i = 1
        self.serial_tlv = tbs[i]
        self.tbs_sigalg_tlv = tbs[i + 1]
        self.issuer_tlv = tbs[i + 2]
        self.subject_tlv = tbs[i + 4]
        self.spki_tlv = tbs[i + 5]
        self.extensions = []  # [(oid, critical, critical_explicit, value_bytes)]
        for t in tbs[i + 6:]:
            if t.tag == 0xA3:
                seq = t.children()[0]
                for ext in seq.children():
                    kids = ext.children()
                    oid = decode_oid(kids[0].content)
                    critical = False
                    explicit = False
                    if len(kids) == 3:
                        explicit = True
                        critical = kids[1].content != b"\x00"
                    self.extensions.append((oid, critical, explicit, kids[-1].content))


# --------------------------------------------------------------------------- decoding


def iso(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_cert(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"-----BEGIN" in data:
        cert = x509.load_pem_x509_certificate(data)
    else:
        cert = x509.load_der_x509_certificate(data)
    return cert


def name_attrs(name):
    out = []
    for attr in name:
        t = getattr(attr, "_type", None)
        out.append([attr.oid.dotted_string, attr.value if isinstance(attr.value, str) else attr.value.hex(),
                    getattr(t, "name", None)])
    return out


def general_name(gn):
    if isinstance(gn, x509.DirectoryName):
        return {"type": "directoryName", "value": gn.value.rfc4514_string(),
                "attributes": name_attrs(gn.value)}
    if isinstance(gn, x509.UniformResourceIdentifier):
        return {"type": "uri", "value": gn.value}
    if isinstance(gn, x509.DNSName):
        return {"type": "dNSName", "value": gn.value}
    if isinstance(gn, x509.RFC822Name):
        return {"type": "rfc822Name", "value": gn.value}
    if isinstance(gn, x509.IPAddress):
        return {"type": "iPAddress", "value": str(gn.value)}
    if isinstance(gn, x509.RegisteredID):
        return {"type": "registeredID", "value": gn.value.dotted_string}
    if isinstance(gn, x509.OtherName):
        return other_name(gn.type_id.dotted_string, gn.value)
    return {"type": type(gn).__name__, "value": repr(gn)}


def other_name(type_id, inner_der):
    """inner_der = the DER inside otherName's [0] EXPLICIT (cryptography's OtherName.value)."""
    d = {"type": "otherName", "type_id": type_id, "innerTag": None, "innerTagName": None,
         "value": None, "valueHex": inner_der.hex()}
    try:
        t = parse(inner_der)
        d["innerTag"] = "0x%02X" % t.tag if isinstance(t.tag, int) else str(t.tag)
        d["innerTagName"] = tag_name(t.tag)
        if t.end != len(inner_der):
            d["trailingBytes"] = True
        try:
            d["value"] = decode_string(t.tag, t.content)
        except UnicodeDecodeError:
            d["value"] = None
    except DERError as e:
        d["error"] = str(e)
    return d


def raw_other_names(san_value):
    """Walk the raw SAN value: for each GeneralName report tag and, for otherName, whether
    the value sits in [0] EXPLICIT (A0) and the inner tag."""
    out = []
    for gn in parse(san_value).children():
        entry = {"tag": "0x%02X" % gn.raw_tag[0]}
        if gn.raw_tag[0] == 0xA0:  # otherName [0] IMPLICIT SEQUENCE
            kids = gn.children()
            entry["type_id"] = decode_oid(kids[0].content) if kids and kids[0].tag == 0x06 else None
            wrap = kids[1] if len(kids) > 1 else None
            entry["explicitWrapperTag"] = ("0x%02X" % wrap.raw_tag[0]) if wrap is not None else None
            entry["extraFields"] = max(0, len(kids) - 2)
            if wrap is not None and wrap.constructed:
                inner = wrap.children()
                entry["innerCount"] = len(inner)
                if inner:
                    entry["innerTag"] = "0x%02X" % inner[0].raw_tag[0]
                    entry["innerTagName"] = tag_name(inner[0].tag)
                    try:
                        entry["value"] = decode_string(inner[0].tag, inner[0].content)
                    except UnicodeDecodeError:
                        entry["value"] = None
        out.append(entry)
    return out


def raw_policies(cp_value):
    """[(policy_oid, [(qualifier_oid, qualifier_tag_name, value)])] from the raw extension."""
    out = []
    for pi in parse(cp_value).children():
        kids = pi.children()
        oid = decode_oid(kids[0].content)
        quals = []
        if len(kids) > 1:
            for q in kids[1].children():
                qk = q.children()
                qoid = decode_oid(qk[0].content)
                qtag = tag_name(qk[1].tag) if len(qk) > 1 else None
                qval = None
                if len(qk) > 1 and isinstance(qk[1].tag, int) and qk[1].tag in STRING_TAGS:
                    qval = decode_string(qk[1].tag, qk[1].content)
                quals.append((qoid, qtag, qval))
        out.append((oid, quals))
    return out


def decode_extension(ext_value):
    """cryptography ExtensionType -> JSON-able form."""
    v = ext_value
    if isinstance(v, x509.KeyUsage):
        names = []
        for attr, nm in [("digital_signature", "digitalSignature"), ("content_commitment", "nonRepudiation"),
                         ("key_encipherment", "keyEncipherment"), ("data_encipherment", "dataEncipherment"),
                         ("key_agreement", "keyAgreement"), ("key_cert_sign", "keyCertSign"),
                         ("crl_sign", "cRLSign")]:
            if getattr(v, attr):
                names.append(nm)
        if v.key_agreement:
            if v.encipher_only:
                names.append("encipherOnly")
            if v.decipher_only:
                names.append("decipherOnly")
        return {"usages": names}
    if isinstance(v, x509.BasicConstraints):
        return {"ca": v.ca, "pathLength": v.path_length}
    if isinstance(v, x509.CertificatePolicies):
        pols = []
        for p in v:
            quals = []
            for q in p.policy_qualifiers or []:
                if isinstance(q, str):
                    quals.append({"type": "cps", "oid": OID_CPS, "value": q})
                else:
                    quals.append({"type": "userNotice", "oid": OID_UNOTICE,
                                  "explicitText": q.explicit_text,
                                  "noticeRef": None if q.notice_reference is None else {
                                      "organization": q.notice_reference.organization,
                                      "numbers": q.notice_reference.notice_numbers}})
            pols.append({"oid": p.policy_identifier.dotted_string, "qualifiers": quals})
        return {"policies": pols}
    if isinstance(v, (x509.SubjectAlternativeName, x509.IssuerAlternativeName)):
        return {"names": [general_name(g) for g in v]}
    if isinstance(v, x509.CRLDistributionPoints):
        dps = []
        for dp in v:
            dps.append({
                "fullName": None if dp.full_name is None else [general_name(g) for g in dp.full_name],
                "relativeName": None if dp.relative_name is None else dp.relative_name.rfc4514_string(),
                "reasons": None if dp.reasons is None else sorted(r.value for r in dp.reasons),
                "crlIssuer": None if dp.crl_issuer is None else [general_name(g) for g in dp.crl_issuer],
            })
        return {"distributionPoints": dps}
    if isinstance(v, x509.AuthorityInformationAccess):
        return {"accessDescriptions": [{"method": a.access_method.dotted_string,
                                        "methodName": getattr(a.access_method, "_name", None),
                                        "location": general_name(a.access_location)} for a in v]}
    if isinstance(v, x509.SubjectKeyIdentifier):
        return {"keyIdentifier": v.digest.hex()}
    if isinstance(v, x509.AuthorityKeyIdentifier):
        return {"keyIdentifier": None if v.key_identifier is None else v.key_identifier.hex(),
                "authorityCertIssuer": None if v.authority_cert_issuer is None else
                [general_name(g) for g in v.authority_cert_issuer],
                "authorityCertSerialNumber": None if v.authority_cert_serial_number is None else
                format(v.authority_cert_serial_number, "X")}
    if isinstance(v, x509.UnrecognizedExtension):
        return None
    return {"repr": repr(v)}


def verify_signed_by(cert, issuer_pub):
    try:
        if isinstance(issuer_pub, rsa.RSAPublicKey):
            issuer_pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                              cert.signature_hash_algorithm)
        elif isinstance(issuer_pub, ec.EllipticCurvePublicKey):
            issuer_pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        else:
            issuer_pub.verify(cert.signature, cert.tbs_certificate_bytes)
        return True
    except Exception:
        return False


# --------------------------------------------------------------------------- checks


def check_common(raw, v):
    oids = [e[0] for e in raw.extensions]
    seen = set()
    for o in oids:
        if o in seen:
            v.append("duplicate extension %s (%s)" % (o, OID_NAMES.get(o, "?")))
        seen.add(o)
    if not oids or oids[-1] != OID_SKI:
        v.append("subjectKeyIdentifier is not the last extension (last: %s)" %
                 (OID_NAMES.get(oids[-1], oids[-1]) if oids else "none"))
    for o, _crit, explicit, val in raw.extensions:
        if explicit and not _crit:
            v.append("extension %s encodes critical FALSE explicitly (not DER)" % o)


def ext_by_oid(raw, oid):
    found = [e for e in raw.extensions if e[0] == oid]
    return found[0] if found else None


def check_key_usage(raw, v, expected_bits, expected_der):
    ku = ext_by_oid(raw, OID_KU)
    if ku is None:
        v.append("keyUsage missing")
        return
    if not ku[1]:
        v.append("keyUsage is not critical")
    try:
        bits = bitstring_bits(parse(ku[3]).content)
    except DERError as e:
        v.append("keyUsage undecodable: %s" % e)
        return
    if bits != expected_bits:
        v.append("keyUsage is %s, expected exactly %s" % (
            "+".join(KU_BITS[b] if b < len(KU_BITS) else str(b) for b in sorted(bits)) or "empty",
            "+".join(KU_BITS[b] for b in sorted(expected_bits))))
    elif ku[3].hex() != expected_der:
        v.append("keyUsage DER is %s, expected %s" % (ku[3].hex(), expected_der))


def check_policies(raw, v, policy, require_one_cps):
    cp = ext_by_oid(raw, OID_CP)
    if cp is None:
        v.append("certificatePolicies missing")
        return
    if not cp[1]:
        v.append("certificatePolicies is not critical")
    try:
        pols = raw_policies(cp[3])
    except (DERError, IndexError) as e:
        v.append("certificatePolicies undecodable: %s" % e)
        return
    oids = [p[0] for p in pols]
    if oids != [policy]:
        v.append("certificatePolicies is %s, expected exactly [%s]" % (oids, policy))
    for poid, quals in pols:
        cps = [q for q in quals if q[0] == OID_CPS]
        for q in cps:
            if q[1] != "IA5String":
                v.append("CPS qualifier of %s is %s, expected IA5String" % (poid, q[1]))
        if require_one_cps and poid == policy and (len(cps) != 1 or len(quals) != 1):
            v.append("policy %s has %d qualifiers (%d CPS), expected exactly one CPS qualifier"
                     % (poid, len(quals), len(cps)))


def check_sign_san(raw, v):
    san = ext_by_oid(raw, OID_SAN)
    if san is None:
        v.append("subjectAltName missing (six JPKI otherNames expected)")
        return
    try:
        entries = raw_other_names(san[3])
    except (DERError, IndexError) as e:
        v.append("subjectAltName undecodable: %s" % e)
        return
    if len(entries) != 6:
        v.append("subjectAltName has %d GeneralNames, expected exactly 6 otherNames" % len(entries))
    got = [e.get("type_id") if e["tag"] == "0xA0" else "non-otherName(%s)" % e["tag"] for e in entries]
    if got != SIGN_ORDER:
        v.append("subjectAltName otherNames are %s, expected in order %s" % (got, SIGN_ORDER))
    for e in entries:
        if e["tag"] != "0xA0":
            continue
        if e.get("explicitWrapperTag") != "0xA0":
            v.append("otherName %s value is not in [0] EXPLICIT (wrapper %s)" % (e.get("type_id"), e.get("explicitWrapperTag")))
        elif e.get("innerTag") != "0x0C" or e.get("innerCount") != 1:
            v.append("otherName %s value is %s, expected UTF8String" % (e.get("type_id"), e.get("innerTagName")))
        if e.get("extraFields"):
            v.append("otherName %s has extra fields" % e.get("type_id"))


def check_chain(cert, raw, root_cert, root_raw, v, kind):
    info = {}
    root_pub = root_cert.public_key()
    info["rootSelfSigned"] = (root_raw.subject_tlv.der == root_raw.issuer_tlv.der
                              and verify_signed_by(root_cert, root_pub))
    info["issuerNameMatches"] = raw.issuer_tlv.der == root_raw.subject_tlv.der
    info["signatureValid"] = verify_signed_by(cert, root_pub)
    try:
        bc = root_cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        info["rootIsCA"] = bool(bc.ca)
    except Exception:
        info["rootIsCA"] = False
    if not info["rootSelfSigned"]:
        v.append("root is not self-signed: chain length would exceed 2")
    if not info["issuerNameMatches"]:
        v.append("issuer DN (DER) does not equal the root's subject DN")
    if not info["signatureValid"]:
        v.append("signature does not verify with the root's public key")
    if not info["rootIsCA"]:
        v.append("root has no basicConstraints cA=TRUE")
    if kind != "root" and raw.subject_tlv.der == raw.issuer_tlv.der:
        v.append("certificate is self-issued, not a leaf under the root")
    return info


def profile_checks(cert, raw, kind, v):
    sig_oid, sig_null, _ = alg_id(raw.sigalg_tlv)
    tbs_oid, tbs_null, _ = alg_id(raw.tbs_sigalg_tlv)
    if raw.version != 3:
        v.append("version is v%d, expected v3" % raw.version)
    if sig_oid != OID_SHA256_RSA or not sig_null:
        v.append("signatureAlgorithm is %s (NULL params: %s), expected sha256WithRSAEncryption with NULL" % (sig_oid, sig_null))
    if raw.tbs_sigalg_tlv.der != raw.sigalg_tlv.der:
        v.append("tbsCertificate.signature differs from signatureAlgorithm")
    pub = cert.public_key()
    if not isinstance(pub, rsa.RSAPublicKey) or pub.key_size != 2048 or pub.public_numbers().e != 65537:
        v.append("public key is not RSA-2048 e=65537")
    if kind in ("sign", "auth"):
        ian = ext_by_oid(raw, OID_IAN)
        if ian is None:
            v.append("issuerAltName missing")
        if ext_by_oid(raw, "2.5.29.31") is None:
            v.append("cRLDistributionPoints missing")
        na = cert.not_valid_after_utc.astimezone(datetime.timezone(datetime.timedelta(hours=9)))
        if (na.hour, na.minute, na.second) != (23, 59, 59):
            v.append("notAfter is not 23:59:59 JST (%s)" % na.isoformat())
        subj = der_name(raw.subject_tlv)
        shape = [a[0] for a in subj]
        want = ["2.5.4.6", "2.5.4.7", "2.5.4.7", "2.5.4.3"] if kind == "sign" else ["2.5.4.6", "2.5.4.3"]
        if shape != want:
            v.append("subject attribute types are %s, expected %s" % (shape, want))


def check_root(cert, raw, v):
    if raw.subject_tlv.der != raw.issuer_tlv.der:
        v.append("root subject != issuer")
    if not verify_signed_by(cert, cert.public_key()):
        v.append("root signature does not verify with its own key")
    check_key_usage(raw, v, {5, 6}, "03020106")
    bc = ext_by_oid(raw, OID_BC)
    if bc is None:
        v.append("basicConstraints missing")
    else:
        if not bc[1]:
            v.append("basicConstraints is not critical")
        kids = parse(bc[3]).children()
        if not kids or kids[0].tag != 0x01 or kids[0].content == b"\x00":
            v.append("basicConstraints cA is not TRUE")
    if ext_by_oid(raw, OID_AKI) is not None:
        v.append("root has an authorityKeyIdentifier (profile: none)")


# --------------------------------------------------------------------------- main


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print("jpki_decode: %s" % message, file=sys.stderr)
        print(json.dumps({"error": "usage: %s" % message}))
        sys.exit(2)


def main(argv=None):
    ap = _Parser(description="Decode a JPKI-profile certificate and check strict-client rules")
    ap.add_argument("file")
    ap.add_argument("--root", help="root certificate that should have issued FILE")
    ap.add_argument("--kind", choices=["sign", "auth", "root"], default="sign")
    ap.add_argument("--policy", help="expected policy OID (default by --kind)")
    args = ap.parse_args(argv)
    try:
        sys.stdout.reconfigure(encoding="utf-8")
    except AttributeError:
        pass

    try:
        cert = load_cert(args.file)
        raw = RawCert(cert.public_bytes(Encoding.DER))
        root_cert = root_raw = None
        if args.root:
            root_cert = load_cert(args.root)
            root_raw = RawCert(root_cert.public_bytes(Encoding.DER))
    except (OSError, ValueError, DERError, IndexError) as e:
        print("jpki_decode: %s" % e, file=sys.stderr)
        print(json.dumps({"error": str(e)}))
        return 2

    out = {"file": args.file, "kind": args.kind, "version": raw.version}
    out["subject"] = der_name(raw.subject_tlv)
    out["issuer"] = der_name(raw.issuer_tlv)
    out["serial"] = format(cert.serial_number, "X")
    out["notBefore"] = iso(cert.not_valid_before_utc)
    out["notAfter"] = iso(cert.not_valid_after_utc)
    sig_oid, sig_null, sig_params = alg_id(raw.sigalg_tlv)
    tbs_oid, tbs_null, _ = alg_id(raw.tbs_sigalg_tlv)
    out["signatureAlgorithm"] = sig_oid
    out["signatureParamsNull"] = sig_null
    out["signatureParamsHex"] = sig_params
    out["tbsSignatureAlgorithm"] = tbs_oid
    out["tbsSignatureParamsNull"] = tbs_null
    pub = cert.public_key()
    spki_alg = raw.spki_tlv.children()[0]
    spki_oid, spki_null, _ = alg_id(spki_alg)
    pk = {"algorithm": spki_oid, "spkiParamsNull": spki_null}
    if isinstance(pub, rsa.RSAPublicKey):
        pk.update(type="RSA", bits=pub.key_size, exponent=pub.public_numbers().e)
    else:
        pk.update(type=type(pub).__name__)
    out["publicKey"] = pk

    # Extensions: order, criticality and bytes from DER; decoded forms from cryptography.
    decoded = {}
    crypto_error = None
    try:
        for ext in cert.extensions:
            decoded[ext.oid.dotted_string] = decode_extension(ext.value)
    except Exception as e:  # DuplicateExtension, malformed values
        crypto_error = "%s: %s" % (type(e).__name__, e)
    exts = []
    for oid, crit, _explicit, val in raw.extensions:
        item = {"oid": oid, "name": OID_NAMES.get(oid), "critical": crit, "valueHex": val.hex(),
                "decoded": decoded.get(oid)}
        if oid in (OID_SAN, OID_IAN):
            try:
                item["rawGeneralNames"] = raw_other_names(val)
            except (DERError, IndexError) as e:
                item["rawError"] = str(e)
        exts.append(item)
    out["extensions"] = exts
    if crypto_error:
        out["extensionsDecodeError"] = crypto_error
    ku = ext_by_oid(raw, OID_KU)
    out["keyUsageDER"] = ku[3].hex() if ku else None

    # basicDetails from the raw SAN (robust to duplicates)
    san = ext_by_oid(raw, OID_SAN)
    details = None
    if san is not None:
        try:
            entries = raw_other_names(san[3])
            got = {e["type_id"]: e.get("value") for e in entries if e.get("type_id", "").startswith(JPKI_ON)}
            if got:
                details = {field: got.get(JPKI_ON + arc) for arc, field in BASIC_FIELDS}
        except (DERError, IndexError):
            pass
    out["basicDetails"] = details

    # strict-client rules
    v = []
    if crypto_error:
        v.append("cryptography cannot parse the extensions: %s" % crypto_error)
    check_common(raw, v)
    if args.kind == "sign":
        check_sign_san(raw, v)
        check_key_usage(raw, v, {0, 1}, "030206c0")
        check_policies(raw, v, args.policy or DEFAULT_POLICY["sign"], require_one_cps=True)
    elif args.kind == "auth":
        if san is not None:
            v.append("authentication certificate has a subjectAltName")
        check_key_usage(raw, v, {0}, "03020780")
        check_policies(raw, v, args.policy or DEFAULT_POLICY["auth"], require_one_cps=False)
    else:
        check_root(cert, raw, v)
    if root_cert is not None:
        out["chain"] = check_chain(cert, raw, root_cert, root_raw, v, args.kind)
    out["strictClient"] = v

    p = []
    profile_checks(cert, raw, args.kind, p)
    out["profile"] = p

    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
