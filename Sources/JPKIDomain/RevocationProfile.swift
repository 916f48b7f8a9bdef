import DERKit

/// How OCSP responses are signed (`[ocsp] responder` in ca-config/sandbox.toml).
public enum OCSPResponderMode: String, Sendable, Codable, CaseIterable {
    /// The root signs its own answers (RFC 6960 §4.2.2.2, the CA itself).
    case root
    /// A responder certificate issued by the root signs them: id-kp-OCSPSigning, id-pkix-ocsp-nocheck.
    case delegated
}

extension CAConfiguration {
    /// `[ocsp] responder`; root when not set (also for sandboxes made before the setting existed).
    public var effectiveOCSPResponder: OCSPResponderMode { ocspResponder ?? .root }
    /// `[ocsp] validity_minutes`: thisUpdate → nextUpdate of an OCSP answer; 60 when not set.
    public var effectiveOCSPValidityMinutes: Int { ocspValidityMinutes ?? 60 }
}

/// What the revocation services publish: the content of CRLs (RFC 5280 §5) and of the delegated
/// OCSP responder's certificate (RFC 6960 §4.2.2.2). Pure values; signing happens in JPKICA.
public enum RevocationProfile {
    public enum OID {
        public static let crlNumber = "2.5.29.20"
        public static let issuingDistributionPoint = "2.5.29.28"
        public static let extendedKeyUsage = "2.5.29.37"
        public static let ocspSigning = "1.3.6.1.5.5.7.3.9"
        public static let ocspNoCheck = "1.3.6.1.5.5.7.48.1.5"
    }

    /// The CRLReason code a stored revocation carries; nil for `unspecified`, whose reasonCode
    /// extension RFC 5280 §5.3.1 says to leave out.
    public static func crlReasonCode(_ reason: String?) -> Int? {
        guard let reason, let r = RevocationReason(rawValue: reason) else { return nil }
        return r == .unspecified ? nil : r.code
    }

    /// The CRLReason an OCSP answer carries: always present, `unspecified` (0) included.
    public static func ocspReasonCode(_ reason: String?) -> Int {
        reason.flatMap(RevocationReason.init(rawValue:))?.code ?? RevocationReason.unspecified.code
    }

    /// crlExtensions in order: authorityKeyIdentifier, cRLNumber and, for a municipality's partition,
    /// a critical issuingDistributionPoint repeating the certificates' distribution point exactly,
    /// with onlyContainsUserCerts (every JPKI certificate under a root is an end entity's).
    public static func crlExtensions(authorityKeyIdentifier: [UInt8], number: Int, partitionPoint: [UInt8]?) -> [CertificateExtension] {
        var list = [
            CertificateExtension(oid: CertificateProfile.OID.authorityKeyIdentifier, critical: false,
                                 value: DER.sequence([DER.node(DER.context(0, constructed: false), authorityKeyIdentifier)])),
            CertificateExtension(oid: OID.crlNumber, critical: false, value: DER.integer(number)),
        ]
        if let partitionPoint {
            list.append(CertificateExtension(oid: OID.issuingDistributionPoint, critical: true, value: DER.sequence([
                DER.explicit(0, partitionPoint),
                DER.node(DER.context(1, constructed: false), [0xFF]),   // onlyContainsUserCerts TRUE
            ])))
        }
        return list
    }

    /// The delegated responder's subject: the root's DN with `CN=OCSP Responder`.
    public static func responderSubject(root: RootConfiguration) -> DistinguishedName {
        root.subject.appending("2.5.4.3", "OCSP Responder")
    }

    /// The delegated responder's extensions: keyUsage (critical) digitalSignature; extKeyUsage
    /// id-kp-OCSPSigning; id-pkix-ocsp-nocheck (clients need not check its own status);
    /// authorityKeyIdentifier; subjectKeyIdentifier last.
    public static func responderExtensions(subjectKeyIdentifier: [UInt8], authorityKeyIdentifier: [UInt8]) -> [CertificateExtension] {
        [
            CertificateExtension(oid: CertificateProfile.OID.keyUsage, critical: true, value: DER.namedBits([0])),
            CertificateExtension(oid: OID.extendedKeyUsage, critical: false, value: DER.sequence([DER.knownOID(OID.ocspSigning)])),
            CertificateExtension(oid: OID.ocspNoCheck, critical: false, value: DER.nullValue()),
            CertificateExtension(oid: CertificateProfile.OID.authorityKeyIdentifier, critical: false,
                                 value: DER.sequence([DER.node(DER.context(0, constructed: false), authorityKeyIdentifier)])),
            CertificateExtension(oid: CertificateProfile.OID.subjectKeyIdentifier, critical: false, value: DER.octets(subjectKeyIdentifier)),
        ]
    }

    /// The locality a municipality code stands for in the table (for its partition's name).
    public static func locality(code: String, table: MunicipalityTable) -> Locality? {
        guard let (p, m) = table.municipality(code: code) else { return nil }
        return Locality(prefecture: p.summary, municipality: m)
    }
}
