import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

// The rest of what the sandbox shows, one Codable type each, with the keys the CLI prints today
// (../shared/docs/cli-contract.md). The admin API prints these; the CLI's `--json` can print the
// same ones, so the two faces cannot drift.

/// Encodes an optional as `null` rather than leaving the key out (the contract prints some keys always).
extension KeyedEncodingContainer {
    mutating func encodeNull<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}

/// `{"residents": [...]}`
public struct ResidentListResource: Codable, Sendable, Equatable {
    public var residents: [ResidentResource]
    public init(_ residents: [Resident]) { self.residents = residents.map(ResidentResource.init) }
}

/// A resident with their cards (`resident show`): the resident's keys plus `cards`.
public struct ResidentDetailResource: Codable, Sendable, Equatable {
    public var resident: ResidentResource
    public var cards: [CardDetailResource]

    public init(_ r: Resident, cards: [(CardRecord, [CertificateRecord])], now: Date) {
        resident = ResidentResource(r)
        self.cards = cards.map { CardDetailResource($0.0, certificates: $0.1, now: now) }
    }

    enum CodingKeys: String, CodingKey { case cards }
    public init(from decoder: any Decoder) throws {
        resident = try ResidentResource(from: decoder)
        cards = try decoder.container(keyedBy: CodingKeys.self).decode([CardDetailResource].self, forKey: .cards)
    }
    public func encode(to encoder: any Encoder) throws {
        try resident.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cards, forKey: .cards)
    }
}

/// `{"certificates": [...]}` (summaries).
public struct CertificateListResource: Codable, Sendable, Equatable {
    public var certificates: [CertificateResource]
    public init(_ records: [CertificateRecord], now: Date) { certificates = records.map { CertificateResource(summary: $0, now: now) } }
}

/// What `resident update` did.
public struct ResidentUpdateResource: Codable, Sendable, Equatable {
    public var id: Int
    public var changed: [String]
    public var revoked: [String]
    public var note: String?
    public var resident: ResidentResource

    public init(_ c: ResidentChange) {
        id = Int(c.resident.id); changed = c.changed; revoked = c.revoked
        note = c.revoked.isEmpty ? nil : "the signing certificate was revoked (affiliationChanged); the authentication certificate stays valid. A new signing certificate can be applied for: jpki-sandbox cert issue --card ID --kind sign --pin PIN"
        resident = ResidentResource(c.resident)
    }
}

/// A card just issued or renewed: the card, its certificates, the validity limits, what was not issued and why.
public struct CardIssuanceResource: Codable, Sendable, Equatable {
    public struct NotIssued: Codable, Sendable, Equatable { public var kind: String; public var reason: String }
    public var card: CardResource
    public var certificates: [CertificateResource]
    /// `card`, `sign`, `auth`: "YYYY-MM-DD (limit)".
    public var validity: [String: String]
    public var notIssued: [NotIssued]?
    public var revoked: [String]?
    public var fee: Int

    public init(_ r: CardIssuance, now: Date) {
        let detail = CardDetailResource(r.card, certificates: r.certificates, now: now)
        card = detail.card; certificates = detail.certificates
        var v = ["card": "\(r.cardLimit.day) (\(r.cardLimit.limit.rawValue))"]
        for (kind, limit) in r.limits { v[kind.rawValue] = "\(limit.day) (\(limit.limit.rawValue))" }
        validity = v
        notIssued = r.notIssued.isEmpty ? nil : r.notIssued.sorted { $0.key.rawValue > $1.key.rawValue }.map { NotIssued(kind: $0.key.rawValue, reason: $0.value) }
        revoked = r.revoked.isEmpty ? nil : r.revoked
        fee = r.fee
    }
}

/// A certificate just issued or renewed (`cert issue`, `cert renew`).
public struct IssuanceResource: Codable, Sendable, Equatable {
    public var revoked: String?
    public var certificate: CertificateResource
    public var validity: String
    public var fee: Int

    public init(_ r: CertificateIssuance, now: Date) {
        revoked = r.revoked; certificate = CertificateResource(summary: r.certificate, now: now)
        validity = "\(r.limit.day) (\(r.limit.limit.rawValue))"; fee = r.fee
    }
    enum CodingKeys: String, CodingKey { case revoked, certificate, validity, fee }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeNull(revoked, forKey: .revoked)
        try c.encode(certificate, forKey: .certificate); try c.encode(validity, forKey: .validity); try c.encode(fee, forKey: .fee)
    }
}

/// A certificate just revoked (`cert revoke`): serial, status, reason and time (null when none).
public struct RevocationResource: Codable, Sendable, Equatable {
    public var serial: String
    public var status: String
    public var reason: String?
    public var revokedAt: String?

    public init(_ r: CertificateRecord, now: Date) {
        serial = r.serial; status = r.status(at: now); reason = r.reason; revokedAt = r.revokedAt.map(ISOTime.display)
    }
    enum CodingKeys: String, CodingKey { case serial, status, reason, revokedAt }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(serial, forKey: .serial); try c.encode(status, forKey: .status)
        try c.encodeNull(reason, forKey: .reason); try c.encodeNull(revokedAt, forKey: .revokedAt)
    }
}

/// A PIN check, change or reset: the tries left and the lock; `error` when the PIN was wrong or locked.
public struct PINResultResource: Codable, Sendable, Equatable {
    public var serial: String
    public var ok: Bool
    public var triesLeft: Int
    public var locked: Bool
    public var error: ErrorResource.Body?

    public init(_ r: PINResult, reportFailure: Bool = false) {
        serial = r.serial; ok = r.ok; triesLeft = r.triesLeft; locked = r.locked
        if reportFailure, !r.ok, let e = Self.failure(r) { error = ErrorResource.Body(code: e.code, message: e.message) }
    }

    /// The error a wrong or locked PIN is reported as (`pin verify`/`pin change` exit 1 with it).
    public static func failure(_ r: PINResult) -> SandboxError? {
        guard !r.ok else { return nil }
        return r.locked ? SandboxError("pin-locked", "the PIN is locked; it is reset at the window (`jpki-sandbox pin reset \(r.serial) --new-pin …`)")
                        : SandboxError("wrong-pin", "wrong PIN; \(r.triesLeft) tries left before the certificate locks")
    }
}

/// A voluntary agent's first visit: `{"request": {…, "status": "pending", "mailedAnswerCode", "next"}}`.
public struct PendingRequestResource: Codable, Sendable, Equatable {
    public struct Body: Codable, Sendable, Equatable {
        public var id: Int
        public var operation: String
        public var status: String
        public var residentId: Int
        public var createdAt: String
        public var completableFrom: String
        public var form: String
        public var mailedAnswerCode: String
        public var next: String
    }
    public var request: Body

    public init(_ r: PendingRequest) {
        request = Body(id: Int(r.id), operation: r.operation, status: "pending", residentId: Int(r.residentID),
                       createdAt: ISOTime.display(r.createdAt), completableFrom: r.completableFrom.description,
                       form: r.formFile.path, mailedAnswerCode: r.answerCode,
                       next: "jpki-sandbox request complete \(r.id) --answer \(r.answerCode)  (on \(r.completableFrom) or later)")
    }
}

/// A finished agent request: `{"request": {id, operation, status: "completed"}, "result": …}`.
public struct CompletedRequestResource: Encodable, Sendable {
    public struct Body: Codable, Sendable, Equatable { public var id: Int; public var operation: String; public var status: String }
    public enum Result: Encodable, Sendable {
        case card(CardIssuanceResource), cardState(CardDetailResource), issuance(IssuanceResource), revocation(RevocationResource)
        case pin(PINResultResource), resident(ResidentUpdateResource)
        public func encode(to encoder: any Encoder) throws {
            switch self {
            case .card(let v): try v.encode(to: encoder)
            case .cardState(let v): try v.encode(to: encoder)
            case .issuance(let v): try v.encode(to: encoder)
            case .revocation(let v): try v.encode(to: encoder)
            case .pin(let v): try v.encode(to: encoder)
            case .resident(let v): try v.encode(to: encoder)
            }
        }
    }
    public var request: Body
    public var result: Result

    public init(_ request: AgentRequest, _ done: CompletedOperation, now: Date) {
        self.request = Body(id: Int(request.id), operation: request.operation, status: "completed")
        switch done {
        case .cardIssued(let r): result = .card(CardIssuanceResource(r, now: now))
        case .cardChanged(let card, let certs): result = .cardState(CardDetailResource(card, certificates: certs, now: now))
        case .certificateIssued(let r): result = .issuance(IssuanceResource(r, now: now))
        case .certificateRevoked(let r): result = .revocation(RevocationResource(r, now: now))
        case .pin(let r): result = .pin(PINResultResource(r))
        case .residentUpdated(let c): result = .resident(ResidentUpdateResource(c))
        }
    }
}

/// Expiry notices due within a window of the sandbox clock.
public struct NoticesResource: Codable, Sendable, Equatable {
    public struct Notice: Codable, Sendable, Equatable {
        public var subject: String
        public var cardId: Int
        public var serial: String?
        public var kind: String?
        public var notAfter: String
        public var renewalOpens: String
        public var residentId: Int
        public var name: String
        public var address: String
        enum CodingKeys: String, CodingKey { case subject, cardId, serial, kind, notAfter, renewalOpens, residentId, name, address }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(subject, forKey: .subject); try c.encode(cardId, forKey: .cardId)
            try c.encodeNull(serial, forKey: .serial); try c.encodeNull(kind, forKey: .kind)
            try c.encode(notAfter, forKey: .notAfter); try c.encode(renewalOpens, forKey: .renewalOpens)
            try c.encode(residentId, forKey: .residentId); try c.encode(name, forKey: .name); try c.encode(address, forKey: .address)
        }
    }
    public var asOf: String
    public var within: String
    public var notices: [Notice]

    public init(_ notices: [ExpiryNotice], asOf: Date, within: String) {
        self.asOf = ISOTime.display(asOf); self.within = within
        self.notices = notices.map { n in
            Notice(subject: n.subject, cardId: Int(n.cardID), serial: n.serial, kind: n.kind?.rawValue, notAfter: ISOTime.display(n.notAfter),
                   renewalOpens: n.renewalOpens.description, residentId: Int(n.resident.id), name: n.resident.name.value,
                   address: n.resident.address.value)
        }
    }
}

/// One audit entry, times in Asia/Tokyo; `actor` names the admin API token that acted (absent for the CLI).
public struct AuditEntryResource: Codable, Sendable, Equatable {
    public var id: Int
    public var sandboxTime: String
    public var realTime: String
    public var operation: String
    public var applicant: String?
    public var residentId: Int?
    public var serials: [String]
    public var fee: Int
    public var outcome: String
    public var detail: String
    public var hash: String
    public var actor: String?

    public init(_ e: AuditEntry) {
        func display(_ stored: String) -> String { (try? ISOTime.parse(stored)).map(ISOTime.display) ?? stored }
        id = Int(e.id ?? 0); sandboxTime = display(e.sandboxTime); realTime = display(e.realTime); operation = e.operation
        applicant = e.applicant; residentId = e.residentID.map(Int.init); serials = e.serials; fee = e.fee; outcome = e.outcome
        detail = e.detail; hash = e.hash; actor = e.actor
    }
    enum CodingKeys: String, CodingKey { case id, sandboxTime, realTime, operation, applicant, residentId, serials, fee, outcome, detail, hash, actor }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(sandboxTime, forKey: .sandboxTime); try c.encode(realTime, forKey: .realTime)
        try c.encode(operation, forKey: .operation); try c.encodeNull(applicant, forKey: .applicant)
        try c.encodeNull(residentId, forKey: .residentId); try c.encode(serials, forKey: .serials); try c.encode(fee, forKey: .fee)
        try c.encode(outcome, forKey: .outcome); try c.encode(detail, forKey: .detail); try c.encode(hash, forKey: .hash)
        try c.encodeIfPresent(actor, forKey: .actor)
    }
}

public struct AuditListResource: Codable, Sendable, Equatable {
    public var entries: [AuditEntryResource]
    public init(_ entries: [AuditEntry]) { self.entries = entries.map(AuditEntryResource.init) }
}

/// `audit verify`: the chain is intact and has this many entries (a broken chain is the error `audit-broken`).
public struct AuditVerifyResource: Codable, Sendable, Equatable {
    public var ok: Bool
    public var entries: Int
    public init(entries: Int) { ok = true; self.entries = entries }
}

/// The sandbox clock: the instant, its Tokyo date and (after a change) where it comes from.
public struct ClockResource: Codable, Sendable, Equatable {
    public var now: String
    public var date: String
    public var source: String?
    public init(now: Date, source: String? = nil) { self.now = ISOTime.display(now); date = LocalDate(now).description; self.source = source }
}

/// CRLs just generated (`crl generate`; the API gives their URL paths instead of files).
public struct CRLListResource: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var kind: String
        public var scope: String
        public var file: String?
        public var path: String?
        public var number: Int
        public var entries: Int
        public var thisUpdate: String
        public var nextUpdate: String
    }
    public var out: String?
    public var crls: [Entry]

    public init(_ crls: [PublishedCRL], out: String? = nil, files: [String]? = nil) {
        self.out = out
        self.crls = crls.enumerated().map { i, crl in
            Entry(kind: crl.kind.rawValue, scope: crl.municipalityCode ?? "full", file: files?[i], path: files == nil ? "/crl/" + crl.path : nil,
                  number: crl.number, entries: crl.entries, thisUpdate: ISOTime.display(crl.thisUpdate), nextUpdate: ISOTime.display(crl.nextUpdate))
        }
    }
}

/// An admin API token as listed: never its secret.
public struct TokenResource: Codable, Sendable, Equatable {
    public var name: String
    public var role: String
    public var status: String
    public var createdAt: String
    public var revokedAt: String?

    public init(_ t: TokenRecord) {
        name = t.name; role = t.role; status = t.revokedAt == nil ? "active" : "revoked"
        createdAt = ISOTime.display(t.createdAt); revokedAt = t.revokedAt.map(ISOTime.display)
    }
    enum CodingKeys: String, CodingKey { case name, role, status, createdAt, revokedAt }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(role, forKey: .role); try c.encode(status, forKey: .status)
        try c.encode(createdAt, forKey: .createdAt); try c.encodeNull(revokedAt, forKey: .revokedAt)
    }
}

/// A token just created: its record and, once, the token itself (`token`).
public struct CreatedTokenResource: Codable, Sendable, Equatable {
    public var name: String
    public var role: String
    public var createdAt: String
    public var token: String
    public var note: String
    public init(_ t: CreatedToken) {
        name = t.record.name; role = t.record.role; createdAt = ISOTime.display(t.record.createdAt); token = t.secret
        note = "shown once: only its SHA-256 is stored. Send it as: Authorization: Bearer <token>"
    }
}

public struct TokenListResource: Codable, Sendable, Equatable {
    public var tokens: [TokenResource]
    public init(_ tokens: [TokenRecord]) { self.tokens = tokens.map(TokenResource.init) }
}
