import DERKit
import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// What `ca rollover` made for one root.
public struct RootRollover: Sendable {
    public let kind: CertificateKind
    public let generation: Int
    public let previousGeneration: Int
    public let certificate: Certificate
    public let file: URL
    /// NewWithOld (the new key under the previous generation) and OldWithNew (the previous key under
    /// the new one), when `--link` asked for them.
    public let newWithOld: Certificate?
    public let oldWithNew: Certificate?
    public let linkFiles: [URL]
}

extension SandboxHome {
    /// A link certificate: `sign-root-g2-by-g1.pem` is generation 2's key certified by generation 1
    /// (NewWithOld); `sign-root-g1-by-g2.pem` the reverse (OldWithNew).
    public func rootLink(_ kind: CertificateKind, subject: Int, issuer: Int) -> URL {
        url.appendingPathComponent("\(kind.rawValue)-root-g\(subject)-by-g\(issuer).pem")
    }
}

extension Sandbox {
    /// The self-signed root of a new generation: a new RSA-2048 key under the previous generation's
    /// subject, byte for byte, and its extensions, byte for byte, but for the subjectKeyIdentifier
    /// (the new key's). Valid from `at` for the configured years, to 23:59:59 JST on the day before
    /// the anniversary, as every J-LIS generation.
    static func successorRoot(of previous: Certificate, key: PrivateKey, at: Date, validityYears: Int) throws -> Certificate {
        let spki = try key.publicKeyDER()
        let ski = try KeyIdentifier.method1(subjectPublicKeyInfo: spki)
        let extensions = previous.extensions.map { e in
            e.oid == CertificateProfile.OID.subjectKeyIdentifier
                ? CertificateExtension(oid: e.oid, critical: e.critical, value: DER.octets(ski))
                : CertificateExtension(oid: e.oid, critical: e.critical, value: e.value)
        }
        let notAfter = LocalDate(at).addingYears(validityYears).addingDays(-1).endInTokyo
        // The DistinguishedName values are placeholders: the exact DER below is what goes in.
        var template = CertificateTemplate(serial: try randomSerial(), notBefore: at, notAfter: notAfter,
                                           issuer: DistinguishedName([]), subject: DistinguishedName([]),
                                           subjectPublicKey: spki, extensions: extensions)
        template.issuerDER = previous.subjectDER
        template.subjectDER = previous.subjectDER
        return try template.sign(with: key)
    }

    /// A link certificate: `subjectKey`'s public key certified by `issuer` (same subject and issuer
    /// name), valid from `at` to the earlier of the two generations' ends.
    static func linkCertificate(subject: Certificate, subjectKeySPKI: [UInt8], issuer: Certificate, issuerKey: PrivateKey,
                                at: Date) throws -> Certificate {
        let notAfter = min(subject.notAfter, issuer.notAfter)
        var template = CertificateTemplate(
            serial: try randomSerial(), notBefore: at, notAfter: notAfter, issuer: DistinguishedName([]), subject: DistinguishedName([]),
            subjectPublicKey: subjectKeySPKI,
            extensions: CertificateProfile.rootLinkExtensions(subjectKeyIdentifier: subject.subjectKeyIdentifier ?? [],
                                                              authorityKeyIdentifier: issuer.subjectKeyIdentifier ?? []))
        template.issuerDER = issuer.subjectDER
        template.subjectDER = subject.subjectDER
        return try template.sign(with: issuerKey)
    }

    /// ルート証明書の世代交代: a new generation of each root in `kinds` (new key, self-signed, the same
    /// subject), as J-LIS did in 2019 and 2023. From then on new certificates come from it; the
    /// older generations stay valid to their own end and keep answering (CRLs, OCSP) for their own
    /// certificates. With `link`, NewWithOld and OldWithNew link certificates are made too.
    ///
    /// Keys are generated and certificates signed first; then one write transaction checks that no
    /// other process rolled the root over meanwhile, writes the key (0600) and certificate files of
    /// the generation, records it and appends the `ca.rollover` audit entry. A failure leaves no
    /// generation (files without a row are leftovers that the next rollover replaces).
    public func rollover(kinds: [CertificateKind], link: Bool) throws -> [RootRollover] {
        guard !kinds.isEmpty else { throw SandboxError.invalid("no root to roll over: --kind sign, auth or both") }
        let now = try now()
        struct Made { let previous: RootCA; let key: PrivateKey; let cert: Certificate; let newWithOld: Certificate?; let oldWithNew: Certificate? }
        var made: [Made] = []
        for kind in kinds {
            let previous = root(kind)
            guard now > previous.certificate.notBefore else {
                throw refusal("ca.rollover", applicant: nil, residentID: nil,
                              "the sandbox clock (\(ISOTime.display(now))) is not after the start of the \(kind.rawValue) root's generation \(previous.generation) (\(ISOTime.display(previous.certificate.notBefore))); a new generation must come after it")
            }
            let key = try PrivateKey.generateRSA(bits: 2048)
            let cert = try Self.successorRoot(of: previous.certificate, key: key, at: now, validityYears: config.root(kind).validityYears)
            var newWithOld: Certificate?, oldWithNew: Certificate?
            if link {
                guard now <= previous.certificate.notAfter else {
                    throw refusal("ca.rollover", applicant: nil, residentID: nil,
                                  "the \(kind.rawValue) root's generation \(previous.generation) expired on \(ISOTime.display(previous.certificate.notAfter)); an expired root certifies nothing, so no link certificate can be made (roll over without --link)")
                }
                newWithOld = try Self.linkCertificate(subject: cert, subjectKeySPKI: try key.publicKeyDER(), issuer: previous.certificate,
                                                      issuerKey: previous.key, at: now)
                oldWithNew = try Self.linkCertificate(subject: previous.certificate, subjectKeySPKI: try previous.certificate.publicKeyDER(),
                                                      issuer: cert, issuerKey: key, at: now)
            }
            made.append(Made(previous: previous, key: key, cert: cert, newWithOld: newWithOld, oldWithNew: oldWithNew))
        }
        let fm = FileManager.default
        return try store.write { tx in
            var results: [RootRollover] = []
            var serials: [String] = []
            var details: [String] = []
            for m in made {
                let kind = m.previous.kind
                let stored = try tx.currentRootGeneration(kind: kind)
                guard stored == m.previous.generation else {
                    throw SandboxError("conflict", "the \(kind.rawValue) root was rolled over by another command meanwhile (now generation \(stored)); nothing was changed — run the command again")
                }
                let generation = stored + 1
                let keyURL = home.rootKey(kind, generation: generation), certURL = home.rootCertificate(kind, generation: generation)
                // Leftovers of a rollover that died before its commit: no row names them.
                for url in [keyURL, certURL, home.rootLink(kind, subject: generation, issuer: stored), home.rootLink(kind, subject: stored, issuer: generation)] {
                    try? fm.removeItem(at: url)
                }
                try SandboxHome.writePrivate(Array(try m.key.pem().utf8), to: keyURL)
                try SandboxHome.writePrivate(Array(try m.cert.pem().utf8), to: certURL)
                var linkFiles: [URL] = []
                if let nwo = m.newWithOld, let own = m.oldWithNew {
                    let a = home.rootLink(kind, subject: generation, issuer: stored), b = home.rootLink(kind, subject: stored, issuer: generation)
                    try SandboxHome.writePrivate(Array(try nwo.pem().utf8), to: a)
                    try SandboxHome.writePrivate(Array(try own.pem().utf8), to: b)
                    linkFiles = [a, b]
                }
                try tx.insertRootGeneration(RootGenerationRecord(kind: kind, generation: generation, der: try m.cert.der(), createdAt: now,
                                                                 newWithOld: try m.newWithOld?.der(), oldWithNew: try m.oldWithNew?.der()))
                serials.append(m.cert.serialHex)
                serials.append(contentsOf: [m.newWithOld, m.oldWithNew].compactMap { $0?.serialHex })
                details.append("\(kind.rawValue) root generation \(generation) (SKI \((m.cert.subjectKeyIdentifier ?? []).hexString), until \(ISOTime.display(m.cert.notAfter)))"
                               + (m.newWithOld != nil ? " with link certificates NewWithOld and OldWithNew" : ""))
                results.append(RootRollover(kind: kind, generation: generation, previousGeneration: stored, certificate: m.cert, file: certURL,
                                            newWithOld: m.newWithOld, oldWithNew: m.oldWithNew, linkFiles: linkFiles))
            }
            try Audit.append(tx, at: now, operation: "ca.rollover", applicant: nil, residentID: nil, serials: serials, fee: 0,
                             outcome: "ok", detail: details.joined(separator: "; "))
            return results
        }
    }

    /// The link certificates of every rollover made with `--link`: (kind, subject generation, issuer generation, certificate).
    public func rootLinks() throws -> [(kind: CertificateKind, subject: Int, issuer: Int, certificate: Certificate)] {
        try store.read { try $0.rootGenerations() }.flatMap { r -> [(kind: CertificateKind, subject: Int, issuer: Int, certificate: Certificate)] in
            var list: [(kind: CertificateKind, subject: Int, issuer: Int, certificate: Certificate)] = []
            if let der = r.newWithOld, let cert = try? Certificate(der: der) { list.append((r.kind, r.generation, r.generation - 1, cert)) }
            if let der = r.oldWithNew, let cert = try? Certificate(der: der) { list.append((r.kind, r.generation - 1, r.generation, cert)) }
            return list
        }
    }
}
