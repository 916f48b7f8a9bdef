import DERKit
import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

extension SandboxHome {
    /// The delegated OCSP responder of a root: certificate (public) and key (private, 0600).
    public func responderCertificate(_ kind: CertificateKind) -> URL { url.appendingPathComponent("\(kind.rawValue)-ocsp.pem") }
    public func responderKey(_ kind: CertificateKind) -> URL { keysFolder.appendingPathComponent("\(kind.rawValue)-ocsp.key") }
}

/// What signs a root's OCSP answers, and the certificate that does when it is not the root.
public struct OCSPSigningIdentity: Sendable {
    public let kind: CertificateKind
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
    public func ocspSigningIdentity(_ kind: CertificateKind) throws -> OCSPSigningIdentity {
        let root = root(kind)
        switch config.effectiveOCSPResponder {
        case .root:
            let included = config.ocspIncludeSignerCertificate == true ? [root.certificate] : []
            return OCSPSigningIdentity(kind: kind, signer: try OCSPSigner(key: root.key, keyHash: root.keyIdentifier, certificates: included),
                                       responderCertificate: nil)
        case .delegated:
            let (certificate, key) = try delegatedResponder(kind)
            let keyHash = try KeyIdentifier.method1(subjectPublicKeyInfo: try certificate.publicKeyDER())
            return OCSPSigningIdentity(kind: kind, signer: try OCSPSigner(key: key, keyHash: keyHash, certificates: [certificate]),
                                       responderCertificate: certificate)
        }
    }

    func delegatedResponder(_ kind: CertificateKind) throws -> (Certificate, PrivateKey) {
        let now = try now()
        let certURL = home.responderCertificate(kind), keyURL = home.responderKey(kind)
        if let pem = try? String(contentsOf: certURL, encoding: .utf8), let keyPEM = try? String(contentsOf: keyURL, encoding: .utf8),
           let cert = try? Certificate(pem: pem), let key = try? PrivateKey(pem: keyPEM),
           cert.notBefore <= now, cert.notAfter.timeIntervalSince(now) >= Self.responderMinimumRemaining,
           cert.isSigned(by: root(kind).certificate), (try? cert.publicKeyDER()) == (try? key.publicKeyDER()) {
            return (cert, key)
        }
        let root = root(kind)
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
                             fee: 0, outcome: "ok", detail: "\(kind.rawValue) root's delegated OCSP responder, until \(ISOTime.display(notAfter))")
        }
        logger.info("issued a delegated OCSP responder", metadata: ["kind": "\(kind.rawValue)", "serial": "\(cert.serialHex)"])
        return (cert, key)
    }
}
