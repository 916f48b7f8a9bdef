import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// How `verify` learns whether the signer's certificate was revoked.
public enum RevocationSource: String, Sendable, CaseIterable {
    /// This sandbox's own register (works with no server running).
    case local
    /// The OCSP URL in the certificate.
    case ocsp
    /// The CRL distribution point URL in the certificate.
    case crl
    /// No revocation check.
    case none
}

/// The verdict on a signature, with a distinct exit code per outcome (documented in `verify --help`).
public enum SignatureStatus: String, Sendable {
    case valid, invalid, untrusted, revoked, suspended, expired

    public var exitCode: Int32 {
        switch self {
        case .valid: 0
        case .invalid: 2
        case .untrusted: 3
        case .revoked: 4
        case .suspended: 5
        case .expired: 6
        }
    }
}

public struct RevocationAnswer: Sendable {
    public let source: RevocationSource
    /// good, revoked, suspended, unknown, or not-checked.
    public let status: String
    public let time: Date?
    public let reason: String?
}

public struct SignatureVerdict: Sendable {
    public let status: SignatureStatus
    public let message: String
    public let signer: Certificate?
    public let signerKind: CertificateKind?
    public let basicDetails: [String: String]?
    public let signingTime: Date?
    public let checkedAt: Date
    public let revocation: RevocationAnswer?
}

extension Sandbox {
    /// The card's signing key at work (sign): checks the certificate is usable, then the PIN like the card.
    func usableKey(serial: String, pin: String, kind: CertificateKind, operation: String) throws -> (CertificateRecord, PrivateKey) {
        let record = try certificate(serial: serial)
        guard record.kind == kind else {
            throw SandboxError.refused(kind == .sign
                ? "\(record.serial) is an authentication certificate: it signs only challenges (`auth respond`), not documents"
                : "\(record.serial) is a signing certificate; `auth respond` needs the authentication certificate")
        }
        let now = try now()
        // The status and the PIN are judged in one transaction: a certificate revoked or suspended while
        // the PIN is being compared cannot sign, and a refusal for its status costs no try.
        let check = try verifyPIN(serial: record.serial, pin: pin, operation: operation, check: { tx, record in
            guard let card = try tx.card(id: record.cardID) else { throw SandboxError.notFound("card \(record.cardID) is gone") }
            try Self.checkUsable(record, card: card, at: now)
            try Self.checkOwnKey(tx, serial: record.serial)
        })
        guard check.ok else {
            throw check.locked
                ? SandboxError("pin-locked", "the PIN of \(record.serial) is locked; it is reset at the window (`pin reset`)")
                : SandboxError("wrong-pin", "wrong PIN; \(check.triesLeft) tries left before \(record.serial) locks")
        }
        return (record, try PrivateKey(pem: record.keyPEM))
    }

    /// Whether a certificate's key may be used now (sign, auth respond, the virtual card): refuses a
    /// revoked, suspended, expired or not yet valid certificate, or one on a revoked or expired card.
    static func checkUsable(_ record: CertificateRecord, card: CardRecord, at now: Date) throws {
        switch record.status(at: now) {
        case "revoked": throw SandboxError("revoked", "certificate \(record.serial) is revoked (\(record.reason ?? "?")) and cannot sign")
        case "suspended":
            if record.form.isPhone, let phone = record.phoneID {
                throw SandboxError("suspended", "certificate \(record.serial) is suspended (phone \(phone) on hold) and cannot sign; release it with `phone resume \(phone)`")
            }
            throw SandboxError("suspended", "certificate \(record.serial) is suspended (card \(card.id) on hold) and cannot sign; release it with `card resume`")
        case "expired": throw SandboxError("expired", "certificate \(record.serial) expired on \(ISOTime.display(record.notAfter)) and cannot sign")
        case "notYetValid": throw SandboxError("not-yet-valid", "certificate \(record.serial) is not valid before \(ISOTime.display(record.notBefore))")
        default: break
        }
        if card.status == .revoked || card.notAfter < now {
            throw SandboxError("card-unusable", "card \(card.id) is \(card.status == .revoked ? "revoked" : "expired"); its keys cannot be used")
        }
    }

    /// 署名: a detached (or attached) CMS SignedData, CAdES-BES, signing-time from the sandbox clock.
    public func sign(serial: String, pin: String, content: [UInt8], attached: Bool) throws -> [UInt8] {
        try signingIdentity(serial: serial, pin: pin).cms(content, attached: attached)
    }

    /// 利用者証明: the authentication key signs a challenge (PKCS#1 v1.5 over a SHA-256 DigestInfo).
    public func authRespond(serial: String, pin: String, challenge: [UInt8]) throws -> (CertificateRecord, [UInt8]) {
        guard !challenge.isEmpty else { throw SandboxError.invalid("the challenge is empty") }
        let (record, key) = try usableKey(serial: serial, pin: pin, kind: .auth, operation: "auth.respond")
        return (record, try key.signSHA256(challenge))
    }

    /// The roots a verifier trusts: this sandbox's, or the certificates of a folder.
    public func trustAnchors(folder: URL?) throws -> [Certificate] {
        guard let folder else { return allRoots.map(\.certificate) }
        return try JPKICA.trustAnchors(folder: folder)
    }

    /// A verifier that trusts `trust` and can also look revocation up in this sandbox's register.
    public func verifier(trust: [Certificate]) -> SignatureVerifier {
        let persisted = (try? OffsetClock(offset: store.read { try $0.meta(Self.clockOffsetKey) }.flatMap(Double.init) ?? 0).now()) ?? Date()
        return SignatureVerifier(trust: trust, sandboxRoots: allRoots.map { ($0.certificate, $0.kind) }, now: persisted) { [store] cert, at in
            guard let record = try store.read({ try $0.certificate(serial: cert.serialHex) }), record.der == (try cert.der()) else {
                return RevocationAnswer(source: .local, status: "unknown", time: nil, reason: nil)
            }
            return SignatureVerifier.answer(state: record.state, revokedAt: record.revokedAt, reason: record.reason, at: at, source: .local)
        }
    }
}

/// Checks signatures and challenge responses made with JPKI certificates: the signature, the chain
/// to a trusted root (JPKI leaves are issued directly by a root, found by key, not by name), validity
/// at the signing time and at the time asked about, and revocation at that time. Works without a
/// sandbox (CI with `--trust`), then with OCSP or CRL only.
public struct SignatureVerifier: Sendable {
    public let trust: [Certificate]
    /// The sandbox's roots and their kinds, when there is a sandbox.
    let sandboxRoots: [(Certificate, CertificateKind)]
    /// The sandbox register, when there is one.
    let local: (@Sendable (Certificate, Date) throws -> RevocationAnswer)?
    /// "Now" for the freshness of OCSP answers and CRLs: the clock the responder runs on (the
    /// sandbox clock), which `--at` does not move.
    let now: Date

    public init(trust: [Certificate], sandboxRoots: [(Certificate, CertificateKind)] = [], now: Date = Date(),
                local: (@Sendable (Certificate, Date) throws -> RevocationAnswer)? = nil) {
        self.trust = trust; self.sandboxRoots = sandboxRoots; self.now = now; self.local = local
    }

    public func verifySignature(content: [UInt8], signature: [UInt8], at checkedAt: Date, revocation: RevocationSource) throws -> SignatureVerdict {
        let verified: CMS.Verified
        do { verified = try CMS.verifySignature(signature, detachedContent: content) } catch {
            return SignatureVerdict(status: .invalid, message: error.description, signer: nil, signerKind: nil, basicDetails: nil,
                                    signingTime: nil, checkedAt: checkedAt, revocation: nil)
        }
        return try judge(signer: verified.signer, signingTime: verified.signingTime, at: checkedAt, revocation: revocation)
    }

    public func verifyAuthResponse(certificate: Certificate, challenge: [UInt8], signature: [UInt8], at checkedAt: Date, revocation: RevocationSource) throws -> SignatureVerdict {
        guard try certificate.publicKey().verifySHA256(signature: signature, message: challenge) else {
            return SignatureVerdict(status: .invalid, message: "the response is not a signature of this challenge by this certificate's key",
                                    signer: certificate, signerKind: .auth, basicDetails: nil, signingTime: nil, checkedAt: checkedAt, revocation: nil)
        }
        return try judge(signer: certificate, signingTime: nil, at: checkedAt, revocation: revocation)
    }

    func judge(signer: Certificate, signingTime: Date?, at: Date, revocation: RevocationSource) throws -> SignatureVerdict {
        let issuer = trust.first { signer.isSigned(by: $0) }
        let details = signer.extensions.first { $0.oid == CertificateProfile.OID.subjectAltName }
            .flatMap { CertificateProfile.decodeBasicDetails(subjectAltName: $0.value) }
        let kind: CertificateKind = issuer.flatMap { root in sandboxRoots.first { (try? $0.0.der()) == (try? root.der()) }?.1 }
            ?? (details == nil ? .auth : .sign)
        func verdict(_ status: SignatureStatus, _ message: String, _ answer: RevocationAnswer? = nil) -> SignatureVerdict {
            SignatureVerdict(status: status, message: message, signer: signer, signerKind: kind, basicDetails: details,
                             signingTime: signingTime, checkedAt: at, revocation: answer)
        }
        guard let root = issuer else {
            return verdict(.untrusted, "the signer's certificate (\(signer.subjectText)) was not issued by a trusted root")
        }
        if let problem = signer.verificationError(root: root, at: signingTime ?? at), !problem.contains("expired"), !problem.contains("not yet valid") {
            return verdict(.untrusted, "the chain does not verify: \(problem)")
        }
        let answer = try revocationStatus(of: signer, issuer: root, source: revocation, at: at)
        switch answer.status {
        case "revoked":
            return verdict(.revoked, "the signer's certificate was revoked on \(answer.time.map(ISOTime.display) ?? "?") (\(answer.reason ?? "unspecified"))", answer)
        case "suspended":
            return verdict(.suspended, "the signer's certificate is suspended (certificateHold)", answer)
        case "unknown":
            // Hard fail: a status nobody can vouch for is not a good one.
            return verdict(.untrusted, "the revocation status of \(signer.serialHex) is unknown to the \(answer.source.rawValue) source (\(answer.source == .local ? "not issued by this sandbox" : "the responder does not know it")); use --revocation ocsp or crl for certificates of another CA", answer)
        default: break
        }
        if let t = signingTime, t < signer.notBefore || t > signer.notAfter {
            return verdict(.expired, "the certificate was not valid at the signing time \(ISOTime.display(t)) (valid \(ISOTime.display(signer.notBefore)) to \(ISOTime.display(signer.notAfter)))", answer)
        }
        if at > signer.notAfter || at < signer.notBefore {
            return verdict(.expired, "the certificate is not valid at \(ISOTime.display(at)) (valid \(ISOTime.display(signer.notBefore)) to \(ISOTime.display(signer.notAfter)))", answer)
        }
        return verdict(.valid, "valid: signed by \(signer.serialHex)" + (signingTime.map { " at \(ISOTime.display($0))" } ?? ""), answer)
    }

    /// The signer's revocation status at `at`, from the chosen source.
    func revocationStatus(of cert: Certificate, issuer: Certificate, source: RevocationSource, at: Date) throws -> RevocationAnswer {
        switch source {
        case .none:
            return RevocationAnswer(source: .none, status: "not-checked", time: nil, reason: nil)
        case .local:
            guard let local else {
                throw SandboxError.invalid("--revocation local needs a sandbox (--home); without one use ocsp, crl or none")
            }
            return try local(cert, at)
        case .ocsp, .crl:
            return try Self.remoteRevocationStatus(of: cert, issuer: issuer, source: source, at: at, now: now)
        }
    }

    /// Turns a stored or fetched status into the answer at `at`: a revocation after `at` did not yet apply.
    static func answer(state: CertificateRecord.State, revokedAt: Date?, reason: String?, at: Date, source: RevocationSource) -> RevocationAnswer {
        switch state {
        case .issued:
            return RevocationAnswer(source: source, status: "good", time: nil, reason: nil)
        case .revoked, .hold:
            if let revokedAt, revokedAt > at { return RevocationAnswer(source: source, status: "good", time: nil, reason: nil) }
            return RevocationAnswer(source: source, status: state == .hold ? "suspended" : "revoked", time: revokedAt, reason: reason)
        }
    }
}

/// The certificates (PEM or DER files ending .pem, .crt, .cer or .der) of a folder.
public func trustAnchors(folder: URL) throws -> [Certificate] {
    let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
    var roots: [Certificate] = []
    for file in files where ["pem", "crt", "cer", "der"].contains(file.pathExtension.lowercased()) {
        let bytes = [UInt8](try Data(contentsOf: file))
        if let text = String(bytes: bytes, encoding: .utf8), text.contains("BEGIN CERTIFICATE") {
            roots += try OpenSSLKit.certificates(fromPEM: text)
        } else if let c = try? Certificate(der: bytes) { roots.append(c) }
    }
    guard !roots.isEmpty else { throw SandboxError.invalid("no certificates in \(folder.path) (PEM or DER files ending .pem, .crt, .cer or .der)") }
    // `ca export` writes each root several times (current, per generation, bundles) and, after
    // `ca rollover --link`, link certificates: each key once, as its self-signed root when there is one.
    var seen = Set<[UInt8]>()
    let unique = roots.filter { seen.insert((try? $0.der()) ?? []).inserted }
    let selfSignedKeys = Set(unique.filter { $0.isSigned(by: $0) }.compactMap { try? $0.publicKeyDER() })
    return unique.filter { $0.isSigned(by: $0) || !selfSignedKeys.contains((try? $0.publicKeyDER()) ?? []) }
}
