import DERKit
import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

extension SandboxHome {
    /// The delegated OCSP responder of a root: certificate (public) and key (private, 0600).
    /// Generation 1's are `sign-ocsp.pem` / `keys/sign-ocsp.key`; a later generation's `sign-g<N>-ocsp.pem`.
    public func responderCertificate(_ kind: CertificateKind, generation: Int = 1) -> URL {
        url.appendingPathComponent("\(Self.responderStem(kind, generation))-ocsp.pem")
    }
    public func responderKey(_ kind: CertificateKind, generation: Int = 1) -> URL {
        keysFolder.appendingPathComponent("\(Self.responderStem(kind, generation))-ocsp.key")
    }
    static func responderStem(_ kind: CertificateKind, _ generation: Int) -> String {
        generation <= 1 ? kind.rawValue : "\(kind.rawValue)-g\(generation)"
    }
}

/// What signs a root's OCSP answers, and the certificate that does when it is not the root.
public struct OCSPSigningIdentity: Sendable {
    public let kind: CertificateKind
    /// The root generation whose certificates it answers for.
    public let generation: Int
    public let signer: OCSPSigner
    /// The delegated responder's certificate; nil when the root signs.
    public let responderCertificate: Certificate?
}

extension Sandbox {
    /// How long a delegated responder certificate is issued for, and how much of that must remain
    /// at the sandbox clock for it to be used rather than replaced.
    static let responderValidity: TimeInterval = 365 * 86_400
    static let responderMinimumRemaining: TimeInterval = 7 * 86_400

    /// The identity that signs `kind`'s OCSP answers under the configuration: the root, or its
    /// delegated responder, which is issued here (and stored in the home) when there is none yet or
    /// when the one stored would not cover the next week of the sandbox clock.
    ///
    /// Each root generation answers for its own certificates: the generation's root signs (by key,
    /// ResponderID byKey = its SKI), or that generation's own delegated responder. `generation` nil:
    /// the current one.
    public func ocspSigningIdentity(_ kind: CertificateKind, generation: Int? = nil) throws -> OCSPSigningIdentity {
        let root = generation.flatMap { self.root(kind, generation: $0) } ?? self.root(kind)
        switch config.effectiveOCSPResponder {
        case .root:
            let included = config.ocspIncludeSignerCertificate == true ? [root.certificate] : []
            return OCSPSigningIdentity(kind: kind, generation: root.generation,
                                       signer: try OCSPSigner(key: root.key, keyHash: root.keyIdentifier, certificates: included),
                                       responderCertificate: nil)
        case .delegated:
            let (certificate, key) = try delegatedResponder(root)
            let keyHash = try KeyIdentifier.method1(subjectPublicKeyInfo: try certificate.publicKeyDER())
            return OCSPSigningIdentity(kind: kind, generation: root.generation,
                                       signer: try OCSPSigner(key: key, keyHash: keyHash, certificates: [certificate]),
                                       responderCertificate: certificate)
        }
    }

    func delegatedResponder(_ root: RootCA) throws -> (Certificate, PrivateKey) {
        let kind = root.kind
        let now = try now()
        let certURL = home.responderCertificate(kind, generation: root.generation), keyURL = home.responderKey(kind, generation: root.generation)
        if let pem = try? String(contentsOf: certURL, encoding: .utf8), let keyPEM = try? String(contentsOf: keyURL, encoding: .utf8),
           let cert = try? Certificate(pem: pem), let key = try? PrivateKey(pem: keyPEM),
           cert.notBefore <= now, cert.notAfter.timeIntervalSince(now) >= Self.responderMinimumRemaining || cert.notAfter == root.certificate.notAfter,
           cert.isSigned(by: root.certificate), (try? cert.publicKeyDER()) == (try? key.publicKeyDER()) {
            return (cert, key)
        }
        let rootConfig = config.root(kind)
        let key = try PrivateKey.generateRSA(bits: 2048)
        let spki = try key.publicKeyDER()
        let ski = try KeyIdentifier.method1(subjectPublicKeyInfo: spki)
        // An hour back for clocks a little behind; never past the root.
        let notBefore = max(now.addingTimeInterval(-3600), root.certificate.notBefore)
        let notAfter = min(now.addingTimeInterval(Self.responderValidity), root.certificate.notAfter)
        var template = CertificateTemplate(
            serial: try Self.randomSerial(), notBefore: notBefore, notAfter: notAfter, issuer: rootConfig.subject,
            subject: RevocationProfile.responderSubject(root: rootConfig), subjectPublicKey: spki,
            extensions: RevocationProfile.responderExtensions(subjectKeyIdentifier: ski, authorityKeyIdentifier: root.keyIdentifier))
        template.issuerDER = root.subjectDER
        let cert = try template.sign(with: root.key)
        // Replace atomically (two processes racing both end with a valid pair each; the later rename wins,
        // and the key is replaced before the certificate that names it).
        try AtomicFile.write(Array(try key.pem().utf8), to: keyURL, mode: 0o600)
        try AtomicFile.write(Array(try cert.pem().utf8), to: certURL, mode: 0o600)
        try store.write { tx in
            try Audit.append(tx, at: now, operation: "ocsp.responder.issue", applicant: nil, residentID: nil, serials: [cert.serialHex],
                             fee: 0, outcome: "ok", detail: "\(kind.rawValue) root's (generation \(root.generation)) delegated OCSP responder, until \(ISOTime.display(notAfter))")
        }
        logger.info("issued a delegated OCSP responder", metadata: ["kind": "\(kind.rawValue)", "serial": "\(cert.serialHex)"])
        return (cert, key)
    }
}
