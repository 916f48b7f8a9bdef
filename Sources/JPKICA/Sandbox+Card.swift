import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// What a My Number Card carries, as its applet shows it: the card and, per kind, the certificate now
/// on it (the newest of that kind, whatever its status: a revoked or expired certificate stays on
/// the card, as on a real one). A minor's card has no signing certificate.
public struct CardContents: Sendable {
    public let card: CardRecord
    public let certificates: [CertificateKind: CertificateRecord]
    /// The root that issued each kind (its file sits next to the certificate on the card).
    public let roots: [CertificateKind: [UInt8]]
}

/// Why the card refused to sign: each maps to one status word in the applet.
public enum CardSignRefusal: Error, Sendable, Equatable {
    /// The certificate is revoked, suspended, expired or not yet valid, or the card is given up or expired.
    case certificateUnusable(String)
    /// The PIN locked since it was verified (another client used up the tries).
    case pinLocked
    /// The DigestInfo is empty or too long for the key.
    case badInput(String)
}

/// The CA services behind the virtual card (`card insert`). The card's applet keeps only its session
/// (what is selected, which PINs were verified since power-on); every rule is here: the PIN counter
/// and lock (through `verifyPIN`), the status checks before a signature, and the audit.
extension Sandbox {
    /// The card and the certificates on it.
    public func cardContents(id: Int64) throws -> CardContents {
        try store.read { tx in
            guard let card = try tx.card(id: id) else { throw SandboxError.notFound("no card with id \(id)") }
            var newest: [CertificateKind: CertificateRecord] = [:]
            // Ordered by issuance: the last one of a kind is the one on the card now.
            for cert in try tx.certificates(cardID: id) { newest[cert.kind] = cert }
            var roots: [CertificateKind: [UInt8]] = [:]
            for (kind, cert) in newest { roots[kind] = try (root(kind, generation: cert.rootGeneration) ?? root(kind)).certificate.der() }
            return CardContents(card: card, certificates: newest, roots: roots)
        }
    }

    /// The tries left before the certificate's PIN locks (0 when locked), as the card's empty VERIFY
    /// reports them. Reads only.
    public func cardPINTriesLeft(serial: String) throws -> Int {
        let record = try certificate(serial: serial)
        return Swift.max(0, PINPolicy.maxFailures(record.kind) - record.pinFailures)
    }

    /// VERIFY on the card: the same counter and lock as `pin verify` (one state for the CLI, `serve`
    /// and every reader), audited as `card.verify`.
    public func cardVerifyPIN(serial: String, pin: String) throws -> PINResult {
        try verifyPIN(serial: serial, pin: pin, operation: "card.verify")
    }

    /// CHANGE REFERENCE DATA on the card, after the card verified the current PIN in this session.
    /// The new PIN must follow the same rules as at the window, so that every face accepts it later.
    /// The lock is checked in the transaction that stores the new PIN.
    public func cardChangePIN(serial: String, new: String) throws {
        let record = try certificate(serial: serial)
        try PINPolicy.validate(new, for: record.kind)
        let hash = try hashPIN(new)
        let now = try now()
        try store.write { tx in
            guard let current = try tx.certificate(serial: record.serial) else { throw SandboxError.notFound("no certificate \(record.serial)") }
            if current.locked {
                throw SandboxError("pin-locked", "the PIN of \(record.serial) is locked; it is reset at the window (`pin reset`)")
            }
            try tx.setPIN(record.serial, hash)
            try Audit.append(tx, at: now, operation: "pin.change", applicant: "card", residentID: record.residentID, serials: [record.serial],
                             fee: 0, outcome: "ok", detail: "changed on the card")
        }
    }

    /// COMPUTE DIGITAL SIGNATURE on the card: PKCS#1 v1.5 over the DigestInfo given, with the key of
    /// `serial`, whose PIN the card verified in this session. The signature is made first and released
    /// only if, in one transaction, the certificate and the card are usable and the PIN is not locked;
    /// that transaction writes the audit entry (`card.sign`, without the content). A refusal changes
    /// nothing.
    public func cardSign(serial: String, digestInfo: [UInt8]) throws -> [UInt8] {
        let record = try certificate(serial: serial)
        let key = try PrivateKey(pem: record.keyPEM)
        guard !digestInfo.isEmpty, digestInfo.count <= key.signatureSize - 11 else {
            throw CardSignRefusal.badInput("a DigestInfo of \(digestInfo.count) bytes (1 to \(key.signatureSize - 11) for this key)")
        }
        let signature = try key.signDigestInfo(digestInfo)
        let now = try now()
        try store.write { tx in
            guard let current = try tx.certificate(serial: record.serial), let card = try tx.card(id: current.cardID) else {
                throw SandboxError.notFound("no certificate \(record.serial)")
            }
            // The same rule as `sign` (revoked, suspended, expired, not yet valid, a card given up or expired).
            do { try Self.checkUsable(current, card: card, at: now) } catch let refusal as SandboxError {
                throw CardSignRefusal.certificateUnusable(refusal.message)
            }
            do { try Self.checkOwnKey(tx, serial: current.serial) } catch let refusal as SandboxError {
                throw CardSignRefusal.certificateUnusable(refusal.message)
            }
            guard !current.locked else { throw CardSignRefusal.pinLocked }
            try Audit.append(tx, at: now, operation: "card.sign", applicant: nil, residentID: current.residentID, serials: [current.serial],
                             fee: 0, outcome: "ok", detail: "PKCS#1 v1.5 over a \(digestInfo.count)-byte DigestInfo")
        }
        return signature
    }
}

extension Sandbox {
    /// Whether a card can sit in a reader: any card that is not given up (廃止). A suspended card, or
    /// one with revoked or expired certificates, is still a card: it answers, and refuses to sign.
    public func cardInService(id: Int64) throws -> Bool {
        try card(id: id).status != .revoked
    }

    /// The card to insert into a reader, refused when it was given up.
    public func insertableCard(id: Int64) throws -> CardContents {
        let contents = try cardContents(id: id)
        guard contents.card.status != .revoked else {
            throw SandboxError("card-unusable", "card \(id) is revoked (given up): it cannot be inserted; issue a new card with `card issue`")
        }
        return contents
    }
}
