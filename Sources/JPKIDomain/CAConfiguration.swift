import DERKit

/// One of the two roots (signing, authentication) as configured in `ca-config/sandbox.toml`.
public struct RootConfiguration: Sendable, Codable, Hashable {
    public var subject: DistinguishedName
    /// The policy OID every leaf of this root carries (critical certificatePolicies).
    public var policyOID: String
    /// The CPS qualifier's URL.
    public var cpsURL: String
    /// Years from the root's creation to the anniversary; it is valid until the day before (J-LIS: 10).
    public var validityYears: Int
    /// The DirName of the root's subjectAltName (four RDNs at J-LIS: `C=JP, O=公的個人認証サービス,
    /// OU=公的個人認証サービス署名用 | …利用者証明用, OU=地方公共団体情報システム機構`). nil in
    /// configurations stored before it existed: those roots carry `CAConfiguration.alternativeName`.
    public var alternativeName: DistinguishedName? = nil

    public init(subject: DistinguishedName, policyOID: String, cpsURL: String, validityYears: Int, alternativeName: DistinguishedName? = nil) {
        self.subject = subject; self.policyOID = policyOID; self.cpsURL = cpsURL; self.validityYears = validityYears
        self.alternativeName = alternativeName
    }

    /// The J-LIS subjectAltName DirName of a root of `kind`.
    public static func jlisAlternativeName(_ kind: CertificateKind) -> DistinguishedName {
        DistinguishedName([.init(oid: "2.5.4.6", value: "JP"), .init(oid: "2.5.4.10", value: "公的個人認証サービス"),
                           .init(oid: "2.5.4.11", value: kind == .sign ? "公的個人認証サービス署名用" : "公的個人認証サービス利用者証明用"),
                           .init(oid: "2.5.4.11", value: "地方公共団体情報システム機構")])
    }
}

/// The sandbox CA's configuration: roots, URLs, cost of PIN hashing.
public struct CAConfiguration: Sendable, Codable, Hashable {
    public var sign: RootConfiguration
    public var auth: RootConfiguration
    /// The roots' subjectAltName DirName of sandboxes created before each root had its own
    /// (`C=JP, O=公的個人認証サービス`); see `RootConfiguration.alternativeName`.
    public var alternativeName: DistinguishedName
    /// Base of the URLs written into certificates (CRL distribution points, OCSP), e.g. `http://127.0.0.1:8080`.
    public var publicBaseURL: String
    /// Whether leaves carry an AIA OCSP URL.
    public var ocspInCertificates: Bool
    /// The OCSP URL; defaults to `<publicBaseURL>/ocsp`.
    public var ocspURL: String?
    /// PBKDF2-HMAC-SHA256 iterations for stored PINs.
    public var pinHashIterations: Int
    /// How long a CRL is valid (thisUpdate → nextUpdate), in hours.
    public var crlValidityHours: Int
    /// Who signs OCSP answers; nil (as in configurations stored before it existed) means the root.
    public var ocspResponder: OCSPResponderMode? = nil
    /// thisUpdate → nextUpdate of OCSP answers, in minutes; nil means 60.
    public var ocspValidityMinutes: Int? = nil
    /// Whether an answer signed by the root carries the root's certificate in `certs` (for GnuTLS
    /// `ocsptool --load-trust`, which finds a byKey signer only there); nil means no, as RFC 6960
    /// allows when the CA signs itself. (A delegated responder's certificate is always included.)
    public var ocspIncludeSignerCertificate: Bool? = nil
    /// Which CRL the HTTP URL of a leaf's cRLDistributionPoints names; nil means the partition.
    public var crlDistributionPoint: CRLPointMode? = nil
    /// Smartphone certificates (`[phone]`); nil (as in configurations stored before it existed) means the defaults.
    public var phone: PhoneConfiguration? = nil

    public init(sign: RootConfiguration, auth: RootConfiguration, alternativeName: DistinguishedName, publicBaseURL: String,
                ocspInCertificates: Bool, ocspURL: String?, pinHashIterations: Int, crlValidityHours: Int) {
        self.sign = sign; self.auth = auth; self.alternativeName = alternativeName; self.publicBaseURL = publicBaseURL
        self.ocspInCertificates = ocspInCertificates; self.ocspURL = ocspURL
        self.pinHashIterations = pinHashIterations; self.crlValidityHours = crlValidityHours
    }

    public func root(_ kind: CertificateKind) -> RootConfiguration { kind == .sign ? sign : auth }

    public var effectivePhone: PhoneConfiguration { phone ?? .defaults }

    /// The policy OID a leaf of `kind` carries in `form`: the root's for the card, `[phone]`'s for a phone.
    public func policyOID(_ kind: CertificateKind, form: CertificateForm) -> String {
        form.isPhone ? effectivePhone.policyOID(kind) : root(kind).policyOID
    }

    /// The subjectAltName DirName a new root of `kind` carries.
    public func rootAlternativeName(_ kind: CertificateKind) -> DistinguishedName { root(kind).alternativeName ?? alternativeName }

    public var effectiveOCSPURL: String { ocspURL ?? "\(trimmedBase)/ocsp" }
    var trimmedBase: String { publicBaseURL.hasSuffix("/") ? String(publicBaseURL.dropLast()) : publicBaseURL }

    /// The HTTP URL of a root generation's full CRL (`[crl] distribution_point = "full"`).
    public func fullCRLURL(kind: CertificateKind, generation: Int = 1) -> String {
        "\(trimmedBase)/crl/" + CRLPaths.full(kind: kind, generation: generation)
    }

    /// The HTTP URL of a municipality's CRL partition under the root generation that issues the
    /// certificate (see `CRLPaths`).
    public func crlURL(kind: CertificateKind, municipalityCode: String, generation: Int = 1) -> String {
        "\(trimmedBase)/crl/" + CRLPaths.partition(kind: kind, municipalityCode: municipalityCode, generation: generation)
    }


    /// The sandbox defaults: real JPKI structure with `O=JPKI-SANDBOX`, production policy OIDs.
    public static let defaults = CAConfiguration(
        sign: RootConfiguration(
            subject: DistinguishedName([.init(oid: "2.5.4.6", value: "JP"), .init(oid: "2.5.4.10", value: "JPKI-SANDBOX"),
                                        .init(oid: "2.5.4.11", value: "JPKI for digital signature"),
                                        .init(oid: "2.5.4.11", value: "Japan Agency for Local Authority Information Systems")]),
            policyOID: "1.2.392.200149.8.5.1.1.20", cpsURL: "http://127.0.0.1:8080/cps", validityYears: 10,
            alternativeName: RootConfiguration.jlisAlternativeName(.sign)),
        auth: RootConfiguration(
            subject: DistinguishedName([.init(oid: "2.5.4.6", value: "JP"), .init(oid: "2.5.4.10", value: "JPKI-SANDBOX"),
                                        .init(oid: "2.5.4.11", value: "JPKI for user authentication"),
                                        .init(oid: "2.5.4.11", value: "Japan Agency for Local Authority Information Systems")]),
            policyOID: "1.2.392.200149.8.5.1.3.30", cpsURL: "http://127.0.0.1:8080/cps", validityYears: 10,
            alternativeName: RootConfiguration.jlisAlternativeName(.auth)),
        alternativeName: DistinguishedName([.init(oid: "2.5.4.6", value: "JP"), .init(oid: "2.5.4.10", value: "公的個人認証サービス")]),
        publicBaseURL: "http://127.0.0.1:8080", ocspInCertificates: true, ocspURL: nil,
        pinHashIterations: 50_000, crlValidityHours: 24)
}

/// What the HTTP URL in a leaf's cRLDistributionPoints names (`[crl] distribution_point`).
public enum CRLPointMode: String, Sendable, Codable, Hashable, CaseIterable {
    /// The municipality's partition, whose critical issuingDistributionPoint repeats the point (J-LIS's
    /// structure; the default).
    case partition
    /// The root's full CRL, which has no issuingDistributionPoint: for NSS, which refuses a CRL with a
    /// critical one. The DirName of the partition stays in the point.
    case full
}

/// Where each root generation's CRLs live under `/crl/` (and `crl generate --out`). Generation 1 keeps
/// the paths its leaves have always named (`sign/<code>.crl`); a later generation's leaves name
/// `sign-g<N>/<code>.crl`. The full CRL of the current generation is `sign.crl`; every generation's
/// full CRL is also `sign-g<N>.crl` once there is more than one.
public enum CRLPaths {
    public static func partition(kind: CertificateKind, municipalityCode: String, generation: Int) -> String {
        "\(folder(kind: kind, generation: generation))/\(municipalityCode).crl"
    }

    public static func folder(kind: CertificateKind, generation: Int) -> String {
        generation <= 1 ? kind.rawValue : "\(kind.rawValue)-g\(generation)"
    }

    public static func full(kind: CertificateKind, generation: Int) -> String { "\(kind.rawValue)-g\(generation).crl" }
    public static func current(kind: CertificateKind) -> String { "\(kind.rawValue).crl" }

    /// What a path names: (kind, generation or nil for "current", municipality code or nil for the full CRL).
    public static func parse(_ path: String) -> (kind: CertificateKind, generation: Int?, code: String?)? {
        guard path.hasSuffix(".crl") else { return nil }
        let parts = path.dropLast(4).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        func kindAndGeneration(_ s: String) -> (CertificateKind, Int?)? {
            if let kind = CertificateKind(rawValue: s) { return (kind, nil) }
            let pieces = s.split(separator: "-", maxSplits: 1).map(String.init)
            guard pieces.count == 2, let kind = CertificateKind(rawValue: pieces[0]), pieces[1].hasPrefix("g"),
                  let g = Int(pieces[1].dropFirst()), g >= 1, String(g) == String(pieces[1].dropFirst()) else { return nil }
            return (kind, g)
        }
        switch parts.count {
        case 1:
            guard let (kind, g) = kindAndGeneration(parts[0]) else { return nil }
            return (kind, g, nil)
        case 2:
            guard let (kind, g) = kindAndGeneration(parts[0]), !parts[1].isEmpty, g != 1 else { return nil }
            return (kind, g ?? 1, parts[1])
        default: return nil
        }
    }
}
