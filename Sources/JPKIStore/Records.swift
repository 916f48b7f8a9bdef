import Foundation
import JPKIDomain

/// A salted slow hash of a PIN (PBKDF2-HMAC-SHA256); the PIN itself is never stored.
public struct PINHash: Sendable, Hashable {
    public let salt: [UInt8]
    public let hash: [UInt8]
    public let iterations: Int
    public init(salt: [UInt8], hash: [UInt8], iterations: Int) { self.salt = salt; self.hash = hash; self.iterations = iterations }
}

public struct CardRecord: Sendable, Hashable {
    public enum Status: String, Sendable, Codable { case active, suspended, revoked }
    public let id: Int64
    public let residentID: Int64
    public let issuedAt: Date
    public let notAfter: Date
    public var status: Status
}

public struct CertificateRecord: Sendable, Hashable {
    /// Stored state; `expired` is derived from the clock, never stored.
    public enum State: String, Sendable { case issued, revoked, hold }
    public let serial: String
    public let kind: CertificateKind
    public var cardID: Int64
    public var residentID: Int64
    public let municipalityCode: String
    public let notBefore: Date
    public let notAfter: Date
    public let der: [UInt8]
    public let keyPEM: String
    public var pin: PINHash
    public var pinFailures: Int
    public var state: State
    public var revokedAt: Date?
    /// RFC 5280 reason name (`keyCompromise`, `certificateHold`, …).
    public var reason: String?
    public let issuedAt: Date
    /// The root generation that issued it (1 unless the root was rolled over; `ca rollover`).
    public let rootGeneration: Int
    /// Where the key lives: the card, or a phone (then `phoneID` names it and `cardID` is the card it
    /// was issued from).
    public var form: CertificateForm
    public var phoneID: Int64?

    public init(serial: String, kind: CertificateKind, cardID: Int64, residentID: Int64, municipalityCode: String, notBefore: Date,
                notAfter: Date, der: [UInt8], keyPEM: String, pin: PINHash, pinFailures: Int, state: State, revokedAt: Date?,
                reason: String?, issuedAt: Date, rootGeneration: Int = 1, form: CertificateForm = .card, phoneID: Int64? = nil) {
        self.serial = serial; self.kind = kind; self.cardID = cardID; self.residentID = residentID
        self.municipalityCode = municipalityCode; self.notBefore = notBefore; self.notAfter = notAfter; self.der = der
        self.keyPEM = keyPEM; self.pin = pin; self.pinFailures = pinFailures; self.state = state; self.revokedAt = revokedAt
        self.reason = reason; self.issuedAt = issuedAt; self.rootGeneration = rootGeneration; self.form = form; self.phoneID = phoneID
    }

    /// What a relying party sees at `now`: `good`, `revoked`, `suspended`, `expired` (or `notYetValid`
    /// when the clock is set before its notBefore).
    public func status(at now: Date) -> String {
        switch state {
        case .revoked: "revoked"
        case .hold: "suspended"
        case .issued: now > notAfter ? "expired" : now < notBefore ? "notYetValid" : "good"
        }
    }

    public var locked: Bool { pinFailures >= PINPolicy.maxFailures(kind) }
}

/// One line of the audit log; `hash` chains it to the line before.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var id: Int64?
    public var sandboxTime: String
    public var realTime: String
    public var operation: String
    public var applicant: String?
    public var residentID: Int64?
    public var serials: [String]
    public var fee: Int
    public var outcome: String
    public var detail: String
    public var previousHash: String
    public var hash: String
    /// The admin API token that made the change (nil for the CLI and the server's own work).
    public var actor: String?

    public init(id: Int64? = nil, sandboxTime: String, realTime: String, operation: String, applicant: String?, residentID: Int64?,
                serials: [String], fee: Int, outcome: String, detail: String, previousHash: String, hash: String, actor: String? = nil) {
        self.actor = actor
        self.id = id; self.sandboxTime = sandboxTime; self.realTime = realTime; self.operation = operation
        self.applicant = applicant; self.residentID = residentID; self.serials = serials; self.fee = fee
        self.outcome = outcome; self.detail = detail; self.previousHash = previousHash; self.hash = hash
    }

    /// The bytes the hash covers: every field but `id` and `hash`, in a fixed order. The actor is
    /// appended only when there is one, so entries written before it existed keep their hashes.
    public var canonicalText: String {
        ([sandboxTime, realTime, operation, applicant ?? "", residentID.map(String.init) ?? "", serials.joined(separator: ","),
          String(fee), outcome, detail, previousHash] + (actor.map { ["actor=" + $0] } ?? [])).joined(separator: "\u{1F}")
    }
}
