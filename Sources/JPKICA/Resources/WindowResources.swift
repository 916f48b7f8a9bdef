import Foundation
import JPKIDomain
import JPKIStore

// What the window's procedures answer, one Codable type each, printed by the CLI's `--json` and the
// admin API alike (see Resources.swift).

private func display(_ d: Date) -> String { ISOTime.display(d) }
private func limitText(_ l: LastValidDay) -> String { "\(l.day) (\(l.limit.rawValue))" }

/// A new card (card issue / card renew): the card, its certificates, how each end was computed.
public struct CardIssuanceResource: Codable, Sendable, Equatable {
    public struct NotIssued: Codable, Sendable, Equatable { public var kind: String; public var reason: String }
    public var card: CardResource
    public var certificates: [CertificateResource]
    /// "card", "sign", "auth": the last valid day and what bounded it.
    public var validity: [String: String]
    public var notIssued: [NotIssued]?
    public var revoked: [String]?
    public var fee: Int

    public init(_ r: CardIssuance, now: Date) {
        card = CardResource(r.card, now: now)
        certificates = r.certificates.map { CertificateResource(summary: $0, now: now) }
        var v = ["card": limitText(r.cardLimit)]
        for (kind, limit) in r.limits { v[kind.rawValue] = limitText(limit) }
        validity = v
        notIssued = r.notIssued.isEmpty ? nil
            : r.notIssued.sorted { $0.key.rawValue > $1.key.rawValue }.map { NotIssued(kind: $0.key.rawValue, reason: $0.value) }
        revoked = r.revoked.isEmpty ? nil : r.revoked
        fee = r.fee
    }
}

/// A new certificate on an existing card (cert issue / cert renew).
public struct IssuanceResource: Codable, Sendable, Equatable {
    /// The certificate superseded by this one, or null.
    public var revoked: String?
    public var certificate: CertificateResource
    public var validity: String
    public var fee: Int

    public init(_ r: CertificateIssuance, now: Date) {
        revoked = r.revoked
        certificate = CertificateResource(summary: r.certificate, now: now)
        validity = limitText(r.limit)
        fee = r.fee
    }

    enum CodingKeys: String, CodingKey { case revoked, certificate, validity, fee }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(revoked, forKey: .revoked)  // null, not absent
        try c.encode(certificate, forKey: .certificate)
        try c.encode(validity, forKey: .validity)
        try c.encode(fee, forKey: .fee)
    }
}

/// A revocation's answer (cert revoke).
public struct RevocationResource: Codable, Sendable, Equatable {
    public var serial: String
    public var status: String
    public var reason: String?
    public var revokedAt: String?

    public init(_ r: CertificateRecord, now: Date) {
        serial = r.serial
        status = r.status(at: now)
        reason = r.reason
        revokedAt = r.revokedAt.map(display)
    }
}

/// A PIN check, change or reset. `error` is set when the PIN was wrong or is locked.
public struct PINResultResource: Codable, Sendable, Equatable {
    public var serial: String
    public var ok: Bool
    public var triesLeft: Int
    public var locked: Bool
    public var error: ErrorResource.Body?

    public init(_ r: PINResult) {
        serial = r.serial
        ok = r.ok
        triesLeft = r.triesLeft
        locked = r.locked
        if !r.ok {
            error = r.locked
                ? .init(code: "pin-locked", message: "the PIN is locked; it is reset at the window (`jpki-sandbox pin reset \(r.serial) --new-pin …`)")
                : .init(code: "wrong-pin", message: "wrong PIN; \(r.triesLeft) tries left before the certificate locks")
        }
    }
}

/// A change of basic details (resident update).
public struct ResidentUpdateResource: Codable, Sendable, Equatable {
    public var id: Int
    public var changed: [String]
    public var revoked: [String]
    public var note: String?
    public var resident: ResidentResource

    public init(_ c: ResidentChange) {
        id = Int(c.resident.id)
        changed = c.changed
        revoked = c.revoked
        if !c.revoked.isEmpty {
            note = "the signing certificate was revoked (affiliationChanged); the authentication certificate stays valid. A new signing certificate can be applied for: jpki-sandbox cert issue --card ID --kind sign --pin PIN"
        }
        resident = ResidentResource(c.resident)
    }
}

/// A resident with their cards (resident show).
public struct ResidentDetailResource: Codable, Sendable, Equatable {
    public var resident: ResidentResource
    public var cards: [CardDetailResource]

    public init(resident: ResidentResource, cards: [CardDetailResource]) { self.resident = resident; self.cards = cards }

    /// Printed flat: the resident's keys, then `cards`.
    enum CodingKeys: String, CodingKey { case cards }
    public func encode(to encoder: any Encoder) throws {
        try resident.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cards, forKey: .cards)
    }
    public init(from decoder: any Decoder) throws {
        resident = try ResidentResource(from: decoder)
        cards = try decoder.container(keyedBy: CodingKeys.self).decode([CardDetailResource].self, forKey: .cards)
    }
}

public struct ResidentListResource: Codable, Sendable, Equatable {
    public var residents: [ResidentResource]
    public init(_ residents: [ResidentResource]) { self.residents = residents }
}

public struct CertificateListResource: Codable, Sendable, Equatable {
    public var certificates: [CertificateResource]
    public init(_ certificates: [CertificateResource]) { self.certificates = certificates }
}

/// A voluntary agent's first visit: the request awaiting its second.
public struct AgentRequestResource: Codable, Sendable, Equatable {
    public struct Request: Codable, Sendable, Equatable {
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
    public var request: Request

    public init(_ r: PendingRequest) {
        request = Request(id: Int(r.id), operation: r.operation, status: "pending", residentId: Int(r.residentID),
                          createdAt: display(r.createdAt), completableFrom: r.completableFrom.description,
                          form: r.formFile.path, mailedAnswerCode: r.answerCode,
                          next: "jpki-sandbox request complete \(r.id) --answer \(r.answerCode)  (on \(r.completableFrom) or later)")
    }
}

/// What a window procedure did, whichever it was.
public enum WindowResult: Codable, Sendable, Equatable {
    case cardIssued(CardIssuanceResource)
    case card(CardDetailResource)
    case certificateIssued(IssuanceResource)
    case revocation(RevocationResource)
    case pin(PINResultResource)
    case residentUpdated(ResidentUpdateResource)

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .cardIssued(let v): try v.encode(to: encoder)
        case .card(let v): try v.encode(to: encoder)
        case .certificateIssued(let v): try v.encode(to: encoder)
        case .revocation(let v): try v.encode(to: encoder)
        case .pin(let v): try v.encode(to: encoder)
        case .residentUpdated(let v): try v.encode(to: encoder)
        }
    }

    public init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a window result is only written"))
    }
}

/// A window procedure's answer: done now, or (a voluntary agent's first visit) a pending request.
public enum WindowAnswer: Codable, Sendable, Equatable {
    case done(WindowResult)
    case pending(AgentRequestResource)

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .done(let v): try v.encode(to: encoder)
        case .pending(let v): try v.encode(to: encoder)
        }
    }

    public init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a window answer is only written"))
    }
}

/// An agent's second visit (request complete).
public struct RequestCompletionResource: Codable, Sendable, Equatable {
    public struct Request: Codable, Sendable, Equatable { public var id: Int; public var operation: String; public var status: String }
    public var request: Request
    public var result: WindowResult
}

public struct ClockResource: Codable, Sendable, Equatable {
    public var now: String
    public var date: String
    /// "--at", "sandbox clock" or "real time"; absent for `clock show`.
    public var source: String?

    public init(now: Date, source: String? = nil) {
        self.now = display(now)
        date = LocalDate(now).description
        self.source = source
    }
}

public struct NoticeResource: Codable, Sendable, Equatable {
    public var subject: String
    public var cardId: Int
    public var serial: String?
    public var kind: String?
    public var notAfter: String
    public var renewalOpens: String
    public var residentId: Int
    public var name: String
    public var address: String

    public init(_ n: ExpiryNotice) {
        subject = n.subject
        cardId = Int(n.cardID)
        serial = n.serial
        kind = n.kind?.rawValue
        notAfter = display(n.notAfter)
        renewalOpens = n.renewalOpens.description
        residentId = Int(n.resident.id)
        name = n.resident.name.value
        address = n.resident.address.value
    }

    enum CodingKeys: String, CodingKey { case subject, cardId, serial, kind, notAfter, renewalOpens, residentId, name, address }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(subject, forKey: .subject)
        try c.encode(cardId, forKey: .cardId)
        try c.encode(serial, forKey: .serial)  // null for a card's notice
        try c.encode(kind, forKey: .kind)
        try c.encode(notAfter, forKey: .notAfter)
        try c.encode(renewalOpens, forKey: .renewalOpens)
        try c.encode(residentId, forKey: .residentId)
        try c.encode(name, forKey: .name)
        try c.encode(address, forKey: .address)
    }
}

public struct NoticesResource: Codable, Sendable, Equatable {
    public var asOf: String
    public var within: String
    public var notices: [NoticeResource]
    public init(asOf: Date, within: String, notices: [ExpiryNotice]) {
        self.asOf = display(asOf)
        self.within = within
        self.notices = notices.map(NoticeResource.init)
    }
}

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
    /// The admin API token that acted (absent for the CLI and the server's own work).
    public var actor: String?

    /// Stored UTC times, printed in Asia/Tokyo like every other time.
    static func shown(_ stored: String) -> String { (try? ISOTime.parse(stored)).map(ISOTime.display) ?? stored }

    public init(_ e: AuditEntry) {
        id = Int(e.id ?? 0)
        sandboxTime = Self.shown(e.sandboxTime)
        realTime = Self.shown(e.realTime)
        operation = e.operation
        applicant = e.applicant
        residentId = e.residentID.map { Int($0) }
        serials = e.serials
        fee = e.fee
        outcome = e.outcome
        detail = e.detail
        hash = e.hash
        actor = e.actor
    }

    enum CodingKeys: String, CodingKey { case id, sandboxTime, realTime, operation, applicant, residentId, serials, fee, outcome, detail, hash, actor }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(sandboxTime, forKey: .sandboxTime)
        try c.encode(realTime, forKey: .realTime)
        try c.encode(operation, forKey: .operation)
        try c.encode(applicant, forKey: .applicant)
        try c.encode(residentId, forKey: .residentId)
        try c.encode(serials, forKey: .serials)
        try c.encode(fee, forKey: .fee)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(detail, forKey: .detail)
        try c.encode(hash, forKey: .hash)
        try c.encodeIfPresent(actor, forKey: .actor)
    }
}

public struct AuditListResource: Codable, Sendable, Equatable {
    public var entries: [AuditEntryResource]
    public init(_ entries: [AuditEntry]) { self.entries = entries.map(AuditEntryResource.init) }
}

public struct AuditVerifyResource: Codable, Sendable, Equatable {
    public var ok: Bool
    public var entries: Int
    public init(ok: Bool, entries: Int) { self.ok = ok; self.entries = entries }
}

/// An exported test identity (export).
public struct ExportResource: Codable, Sendable, Equatable {
    public var serial: String
    public var file: String
    public var format: String
    public init(serial: String, file: String, format: String) { self.serial = serial; self.file = file; self.format = format }
}

/// A root certificate as `init` shows it.
public struct RootResource: Codable, Sendable, Equatable {
    public var kind: String
    public var subject: String
    public var serial: String
    public var notAfter: String
    public var file: String
    /// How many generations of this root the sandbox has (`[roots] generations`, `ca rollover`).
    public var generations: Int
    public init(kind: String, subject: String, serial: String, notAfter: Date, file: String, generations: Int = 1) {
        self.kind = kind; self.subject = subject; self.serial = serial; self.notAfter = display(notAfter); self.file = file
        self.generations = generations
    }
}

public struct InitResource: Codable, Sendable, Equatable {
    public var home: String
    public var roots: [RootResource]
    public init(home: String, roots: [RootResource]) { self.home = home; self.roots = roots }
}

/// One CRL written by `crl generate`.
public struct CRLFileResource: Codable, Sendable, Equatable {
    public var kind: String
    public var scope: String
    /// The root generation that signed it.
    public var generation: Int
    public var file: String
    public var number: Int
    public var entries: Int
    public var thisUpdate: String
    public var nextUpdate: String
    public init(kind: String, scope: String, generation: Int = 1, file: String, number: Int, entries: Int, thisUpdate: Date, nextUpdate: Date) {
        self.kind = kind; self.scope = scope; self.generation = generation; self.file = file; self.number = number; self.entries = entries
        self.thisUpdate = display(thisUpdate); self.nextUpdate = display(nextUpdate)
    }
}

public struct CRLGenerationResource: Codable, Sendable, Equatable {
    public var out: String
    public var crls: [CRLFileResource]
    public init(out: String, crls: [CRLFileResource]) { self.out = out; self.crls = crls }
}
