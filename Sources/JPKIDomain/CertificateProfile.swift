import DERKit
import Foundation

/// The JPKI certificate profile (digest: "Certificate profile"; docs/profile.md), as exact extension
/// bytes and names. Nothing here signs or hashes: key identifiers come in computed.
public enum CertificateProfile {
    public enum OID {
        public static let keyUsage = "2.5.29.15"
        public static let basicConstraints = "2.5.29.19"
        public static let certificatePolicies = "2.5.29.32"
        public static let subjectAltName = "2.5.29.17"
        public static let issuerAltName = "2.5.29.18"
        public static let crlDistributionPoints = "2.5.29.31"
        public static let authorityInfoAccess = "1.3.6.1.5.5.7.1.1"
        public static let authorityKeyIdentifier = "2.5.29.35"
        public static let subjectKeyIdentifier = "2.5.29.14"
        public static let cpsQualifier = "1.3.6.1.5.5.7.2.1"
        public static let ocsp = "1.3.6.1.5.5.7.48.1"
        /// The arc of the four basic details' otherNames.
        public static let basicDetails = "1.2.392.200149.8.5.5"
        public static let name = basicDetails + ".1"
        public static let nameFlags = basicDetails + ".2"
        public static let sex = basicDetails + ".3"
        public static let dateOfBirth = basicDetails + ".4"
        public static let address = basicDetails + ".5"
        public static let addressFlags = basicDetails + ".6"
    }

    // KeyUsage bit numbers (RFC 5280 §4.2.1.3).
    static let digitalSignature = 0, nonRepudiation = 1, keyCertSign = 5, cRLSign = 6

    // MARK: Roots

    /// keyUsage (critical) keyCertSign+cRLSign; basicConstraints (critical) CA:TRUE; SAN DirName
    /// `C=JP, O=公的個人認証サービス`; CRL DP = the root's own DN; SKI last; no AKI.
    public static func rootExtensions(root: RootConfiguration, alternativeName: DistinguishedName, subjectKeyIdentifier: [UInt8]) -> [CertificateExtension] {
        // The J-LIS order (all three generations): keyUsage, subjectAltName, basicConstraints,
        // cRLDistributionPoints, subjectKeyIdentifier.
        [
            CertificateExtension(oid: OID.keyUsage, critical: true, value: DER.namedBits([keyCertSign, cRLSign])),
            CertificateExtension(oid: OID.subjectAltName, critical: false, value: generalNames([directoryName(alternativeName)])),
            CertificateExtension(oid: OID.basicConstraints, critical: true, value: DER.sequence([DER.bool(true)])),
            CertificateExtension(oid: OID.crlDistributionPoints, critical: false,
                                 value: crlDistributionPoints([directoryName(root.subject)])),
            CertificateExtension(oid: OID.subjectKeyIdentifier, critical: false, value: DER.octets(subjectKeyIdentifier)),
        ]
    }

    // MARK: Leaves

    /// Signing: `C=JP, L=<prefecture>, L=<municipality>, CN=<opaque id>`; authentication: `C=JP, CN=<opaque id>`.
    public static func leafSubject(kind: CertificateKind, locality: Locality, commonName: String) -> DistinguishedName {
        var attributes = [DistinguishedName.Attribute(oid: "2.5.4.6", value: "JP")]
        if kind == .sign {
            attributes.append(.init(oid: "2.5.4.7", value: locality.prefecture.romanized))
            attributes.append(.init(oid: "2.5.4.7", value: locality.municipality.romanized))
        }
        attributes.append(.init(oid: "2.5.4.3", value: commonName))
        return DistinguishedName(attributes)
    }

    /// The opaque subject CN, shaped like the real one: the request time (14 digits, JST), a 5-digit
    /// sequence number and a 9-character window code.
    public static func commonName(requestedAt: Date, sequence: Int, municipalityCode: String) -> String {
        // Japan keeps no daylight saving time: JST is UTC+9 all year.
        let seconds = Int64(requestedAt.timeIntervalSince1970.rounded(.down)) + 9 * 3600
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (y, m, d) = DERTime.civil(days)
        func pad(_ v: Int64, _ width: Int) -> String { let t = String(v); return String(repeating: "0", count: max(0, width - t.count)) + t }
        return pad(y, 4) + pad(m, 2) + pad(d, 2) + pad(rest / 3600, 2) + pad(rest / 60 % 60, 2) + pad(rest % 60, 2)
            + pad(Int64(sequence % 100_000), 5) + "S\(municipalityCode)SBX"
    }

    /// The DirName of a municipality's CRL partition under the root:
    /// `<root DN>, OU=CRL Distribution Points, OU=<prefecture>, CN=<municipality> CRLDP`.
    public static func crlPartitionName(root: RootConfiguration, locality: Locality) -> DistinguishedName {
        root.subject
            .appending("2.5.4.11", "CRL Distribution Points")
            .appending("2.5.4.11", locality.prefecture.romanized)
            .appending("2.5.4.3", "\(locality.municipality.romanized) CRLDP")
    }

    /// The DER DistributionPointName of a municipality's partition (fullName: DirName and HTTP URL),
    /// which the partition CRL's issuingDistributionPoint must repeat exactly.
    /// `generation`: the root generation that issues the certificates (its partitions have URLs of their own).
    public static func crlPartitionPointName(kind: CertificateKind, config: CAConfiguration, locality: Locality, generation: Int = 1) -> [UInt8] {
        let names = [directoryName(crlPartitionName(root: config.root(kind), locality: locality)),
                     uniformResourceIdentifier(config.crlURL(kind: kind, municipalityCode: locality.municipality.code, generation: generation))]
        return DER.explicit(0, names.flatMap { $0 })   // [0] fullName, IMPLICIT GeneralNames
    }

    /// Extensions of a leaf, in order: keyUsage, certificatePolicies, subjectAltName (signing only),
    /// issuerAltName, cRLDistributionPoints, authorityInfoAccess (when configured),
    /// authorityKeyIdentifier, subjectKeyIdentifier (last). A smartphone certificate (`form` android or
    /// iphone) has the same profile with the phone policy OID of `[phone]`.
    /// `issuerAlternativeName` is the value of the root's subjectAltName extension (GeneralNames), copied
    /// from the root certificate so that the two agree whatever configuration made the root.
    public static func leafExtensions(kind: CertificateKind, config: CAConfiguration, resident: Resident,
                                      subjectKeyIdentifier: [UInt8], authorityKeyIdentifier: [UInt8],
                                      issuerAlternativeName: [UInt8], rootGeneration: Int = 1, form: CertificateForm = .card) -> [CertificateExtension] {
        let root = config.root(kind)
        var list: [CertificateExtension] = []
        let usage: Set<Int> = kind == .sign ? [digitalSignature, nonRepudiation] : [digitalSignature]
        list.append(CertificateExtension(oid: OID.keyUsage, critical: true, value: DER.namedBits(usage)))
        list.append(CertificateExtension(oid: OID.certificatePolicies, critical: true, value: certificatePolicies(oid: config.policyOID(kind, form: form), cps: root.cpsURL)))
        if kind == .sign {
            list.append(CertificateExtension(oid: OID.subjectAltName, critical: false, value: basicDetailsAltName(resident)))
        }
        list.append(CertificateExtension(oid: OID.issuerAltName, critical: false, value: issuerAlternativeName))
        let point = config.crlDistributionPoint == .full
            ? DER.explicit(0, directoryName(crlPartitionName(root: config.root(kind), locality: resident.locality))
                              + uniformResourceIdentifier(config.fullCRLURL(kind: kind, generation: rootGeneration)))
            : crlPartitionPointName(kind: kind, config: config, locality: resident.locality, generation: rootGeneration)
        list.append(CertificateExtension(oid: OID.crlDistributionPoints, critical: false,
                                         value: DER.sequence([DER.sequence([DER.explicit(0, point)])])))
        if config.ocspInCertificates {
            list.append(CertificateExtension(oid: OID.authorityInfoAccess, critical: false, value: DER.sequence([
                DER.sequence([DER.knownOID(OID.ocsp), uniformResourceIdentifier(config.effectiveOCSPURL)]),
            ])))
        }
        list.append(CertificateExtension(oid: OID.authorityKeyIdentifier, critical: false,
                                         value: DER.sequence([DER.node(DER.context(0, constructed: false), authorityKeyIdentifier)])))
        list.append(CertificateExtension(oid: OID.subjectKeyIdentifier, critical: false, value: DER.octets(subjectKeyIdentifier)))
        return list
    }

    /// The six otherNames in the order strict clients require: .1 name, .4 date of birth, .3 sex,
    /// .5 address, .2 name flags, .6 address flags; each `[0] { OID, [0] UTF8String }`.
    public static func basicDetailsAltName(_ resident: Resident) -> [UInt8] {
        let values: [(String, String)] = [
            (OID.name, resident.name.value),
            (OID.dateOfBirth, EraDate.encode(resident.dateOfBirth)),
            (OID.sex, resident.sex.code),
            (OID.address, resident.address.value),
            (OID.nameFlags, resident.name.flags),
            (OID.addressFlags, resident.address.flags),
        ]
        return generalNames(values.map { otherName(oid: $0.0, utf8: $0.1) })
    }

    // MARK: DER pieces

    static func certificatePolicies(oid: String, cps: String) -> [UInt8] {
        DER.sequence([DER.sequence([
            DER.knownOID(oid),
            DER.sequence([DER.sequence([DER.knownOID(OID.cpsQualifier), DER.ia5(cps)])]),
        ])])
    }

    static func crlDistributionPoints(_ names: [[UInt8]]) -> [UInt8] {
        DER.sequence([DER.sequence([DER.explicit(0, DER.explicit(0, names.flatMap { $0 }))])])
    }

    public static func generalNames(_ names: [[UInt8]]) -> [UInt8] { DER.sequence(names) }

    /// GeneralName directoryName: `[4]` EXPLICIT (Name is a CHOICE).
    public static func directoryName(_ name: DistinguishedName) -> [UInt8] { DER.explicit(4, name.der) }

    /// GeneralName uniformResourceIdentifier: `[6]` IMPLICIT IA5String.
    static func uniformResourceIdentifier(_ uri: String) -> [UInt8] {
        DER.node(DER.context(6, constructed: false), Array(uri.utf8))
    }

    /// GeneralName otherName: `[0]` IMPLICIT SEQUENCE { type-id OID, value [0] EXPLICIT UTF8String }.
    static func otherName(oid: String, utf8: String) -> [UInt8] {
        DER.node(DER.context(0, constructed: true), DER.knownOID(oid) + DER.explicit(0, DER.utf8(utf8)))
    }
}

extension CertificateProfile {
    /// The four basic details read back from a signing certificate's subjectAltName (the extension
    /// value), keyed `name`, `dateOfBirth` (as coded, EYYYYMMDD), `sex`, `address`, `nameFlags`,
    /// `addressFlags`. Nil when the extension holds no such otherNames.
    public static func decodeBasicDetails(subjectAltName value: [UInt8]) -> [String: String]? {
        let keys = [OID.name: "name", OID.dateOfBirth: "dateOfBirth", OID.sex: "sex", OID.address: "address",
                    OID.nameFlags: "nameFlags", OID.addressFlags: "addressFlags"]
        guard let names = try? DERReader.single(value).children() else { return nil }
        var out: [String: String] = [:]
        for name in names where name.tag == 0xA0 {
            guard let parts = try? name.children(), parts.count == 2, let oid = try? parts[0].oidString(), let key = keys[oid],
                  parts[1].tag == 0xA0, let inner = try? DERReader.single(parts[1].contents), inner.tag == DER.utf8String else { continue }
            out[key] = String(decoding: inner.contents, as: UTF8.self)
        }
        return out.isEmpty ? nil : out
    }
}

extension CertificateProfile {
    /// A link certificate between two root generations (NewWithOld: the new key certified by the old
    /// root; OldWithNew: the old key by the new root), as RFC 4210 §4.4 describes for a root key
    /// update: the root's subject as both subject and issuer, keyUsage keyCertSign+cRLSign,
    /// basicConstraints CA:TRUE, authorityKeyIdentifier of the signing generation, subjectKeyIdentifier
    /// of the certified one. J-LIS publishes none for JPKI; the sandbox makes them only when asked.
    public static func rootLinkExtensions(subjectKeyIdentifier: [UInt8], authorityKeyIdentifier: [UInt8]) -> [CertificateExtension] {
        [
            CertificateExtension(oid: OID.keyUsage, critical: true, value: DER.namedBits([keyCertSign, cRLSign])),
            CertificateExtension(oid: OID.basicConstraints, critical: true, value: DER.sequence([DER.bool(true)])),
            CertificateExtension(oid: OID.authorityKeyIdentifier, critical: false,
                                 value: DER.sequence([DER.node(DER.context(0, constructed: false), authorityKeyIdentifier)])),
            CertificateExtension(oid: OID.subjectKeyIdentifier, critical: false, value: DER.octets(subjectKeyIdentifier)),
        ]
    }
}
