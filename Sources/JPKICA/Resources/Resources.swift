import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

// The resources the sandbox shows, one Codable type each. The CLI's `--json` and the admin API both
// print these (through `ResourceJSON`), so a key cannot differ between the two faces; the keys are the
// CLI contract's (../shared/docs/cli-contract.md) and the OpenAPI document's (docs/openapi.json).

/// A resident with the four basic details as the register holds them.
public struct ResidentResource: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    public var nameFlags: String
    public var dateOfBirth: String
    public var dateOfBirthCoded: String
    public var sex: String
    public var address: String
    public var addressFlags: String
    public var prefecture: String
    public var municipality: String
    public var municipalityCode: String
    /// Always present (null for a Japanese national), as the contract prints it.
    public var residenceUntil: String?
    public var adultWard: Bool
    /// Present only when characters outside JIS X 0208 were replaced.
    public var substituted: String?

    public init(_ r: Resident) {
        id = Int(r.id)
        name = r.name.value
        nameFlags = r.name.flags
        dateOfBirth = r.dateOfBirth.description
        dateOfBirthCoded = EraDate.encode(r.dateOfBirth)
        sex = r.sex.rawValue
        address = r.address.value
        addressFlags = r.address.flags
        prefecture = r.locality.prefecture.name
        municipality = r.locality.municipality.name
        municipalityCode = r.locality.municipality.code
        residenceUntil = r.residenceUntil?.description
        adultWard = r.adultWard
        substituted = (r.name.hasSubstitutions || r.address.hasSubstitutions)
            ? "characters outside JIS X 0208 were replaced by 〓 and flagged 1" : nil
    }

    enum CodingKeys: String, CodingKey {
        case id, name, nameFlags, dateOfBirth, dateOfBirthCoded, sex, address, addressFlags, prefecture,
             municipality, municipalityCode, residenceUntil, adultWard, substituted
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(nameFlags, forKey: .nameFlags)
        try c.encode(dateOfBirth, forKey: .dateOfBirth)
        try c.encode(dateOfBirthCoded, forKey: .dateOfBirthCoded)
        try c.encode(sex, forKey: .sex)
        try c.encode(address, forKey: .address)
        try c.encode(addressFlags, forKey: .addressFlags)
        try c.encode(prefecture, forKey: .prefecture)
        try c.encode(municipality, forKey: .municipality)
        try c.encode(municipalityCode, forKey: .municipalityCode)
        try c.encode(residenceUntil, forKey: .residenceUntil)  // null, not absent
        try c.encode(adultWard, forKey: .adultWard)
        try c.encodeIfPresent(substituted, forKey: .substituted)
    }
}

/// A certificate: the summary fields always, the detail fields (subject … pem) when shown in full.
public struct CertificateResource: Codable, Sendable, Equatable {
    public var serial: String
    public var kind: String
    /// Where the key lives: `card`, `android` or `iphone` (smartphone certificates).
    public var form: String
    /// The phone of a smartphone certificate.
    public var phoneId: Int?
    public var status: String
    public var reason: String?
    public var revokedAt: String?
    public var notBefore: String
    public var notAfter: String
    public var cardId: Int
    public var residentId: Int
    public var subject: String?
    public var issuer: String?
    public var pinTriesLeft: Int?
    public var locked: Bool?
    /// The root generation that issued it (1 until a `ca rollover`).
    public var rootGeneration: Int?
    /// Set when the key is shared with other certificates (`populate --shared-keys`): it never signs.
    public var sharedKey: String?
    public var pem: String?

    /// The summary: serial, kind, status (at `now`), reason, dates, card and resident.
    public init(summary c: CertificateRecord, now: Date) {
        serial = c.serial
        kind = c.kind.rawValue
        form = c.form.rawValue
        phoneId = c.phoneID.map { Int($0) }
        status = c.status(at: now)
        reason = c.reason
        revokedAt = c.revokedAt.map(ISOTime.display)
        notBefore = ISOTime.display(c.notBefore)
        notAfter = ISOTime.display(c.notAfter)
        cardId = Int(c.cardID)
        residentId = Int(c.residentID)
    }

    /// The whole certificate: the summary plus subject, issuer, PIN tries left, lock and PEM.
    public init(full c: CertificateRecord, now: Date) throws {
        self.init(summary: c, now: now)
        let cert = try Certificate(der: c.der)
        subject = cert.subjectText
        issuer = cert.issuerText
        pinTriesLeft = max(0, PINPolicy.maxFailures(c.kind) - c.pinFailures)
        locked = c.locked
        rootGeneration = c.rootGeneration
        pem = try cert.pem()
    }
}

/// A card (the plastic), without its certificates.
public struct CardResource: Codable, Sendable, Equatable {
    public var id: Int
    public var residentId: Int
    public var status: String
    public var issuedAt: String
    public var notAfter: String

    public init(_ card: CardRecord, now: Date) {
        id = Int(card.id)
        residentId = Int(card.residentID)
        status = card.notAfter < now && card.status == .active ? "expired" : card.status.rawValue
        issuedAt = ISOTime.display(card.issuedAt)
        notAfter = ISOTime.display(card.notAfter)
    }
}

/// A card with the summaries of its certificates (what `card issue`/`card show` print).
public struct CardDetailResource: Codable, Sendable, Equatable {
    public var card: CardResource
    public var certificates: [CertificateResource]

    public init(_ card: CardRecord, certificates: [CertificateRecord], now: Date) {
        self.card = CardResource(card, now: now)
        self.certificates = certificates.map { CertificateResource(summary: $0, now: now) }
    }
}

/// The error body both faces print: `{"error": {"code", "message"}}`.
public struct ErrorResource: Codable, Sendable, Equatable {
    public struct Body: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
    }
    public var error: Body

    public init(code: String, message: String) { error = Body(code: code, message: message) }
    public init(_ e: SandboxError) { self.init(code: e.code, message: e.message) }
}

/// The one JSON encoding of every resource: sorted keys (stable output), slashes unescaped, UTF-8.
public enum ResourceJSON {
    public static func data<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
                                          : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try data(value), as: UTF8.self)
    }

    /// Decodes a request body, refusing unknown keys is the caller's choice (see `decodeStrict`).
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }
}
