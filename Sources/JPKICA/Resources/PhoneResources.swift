import Foundation
import JPKIDomain
import JPKIStore

// The smartphone-certificate resources (`phone …`), printed by the CLI like every other resource.

/// A phone, without its certificates.
public struct PhoneResource: Codable, Sendable, Equatable {
    public var id: Int
    public var residentId: Int
    public var cardId: Int
    public var platform: String
    /// `active`, `suspended`, `held-with-card` or `revoked`.
    public var status: String
    public var issuedAt: String
    public var statusChangedAt: String?
    public var reason: String?

    public init(_ p: PhoneRecord) {
        id = Int(p.id)
        residentId = Int(p.residentID)
        cardId = Int(p.cardID)
        platform = p.platform.rawValue
        status = p.status.rawValue
        issuedAt = ISOTime.display(p.issuedAt)
        statusChangedAt = p.statusChangedAt.map(ISOTime.display)
        reason = p.reason
    }
}

/// A phone with the summaries of its certificates (`phone show`, `revoke`, `suspend`; items of `phone list`).
public struct PhoneDetailResource: Codable, Sendable, Equatable {
    public var phone: PhoneResource
    public var certificates: [CertificateResource]

    public init(_ d: PhoneDetails, now: Date) {
        phone = PhoneResource(d.phone)
        certificates = d.certificates.map { CertificateResource(summary: $0, now: now) }
    }
}

/// What `phone issue` and `phone resume` did: the phone, the serials issued and revoked, and the
/// phones superseded (one phone per person).
public struct PhoneChangeResource: Codable, Sendable, Equatable {
    public var phone: PhoneResource
    public var certificates: [CertificateResource]
    public var issued: [String]
    public var revoked: [String]
    public var supersededPhones: [Int]?

    public init(_ c: PhoneChange, now: Date) {
        phone = PhoneResource(c.phone)
        certificates = c.certificates.map { CertificateResource(summary: $0, now: now) }
        issued = c.issued
        revoked = c.revoked
        supersededPhones = c.supersededPhones.isEmpty ? nil : c.supersededPhones.map { Int($0) }
    }
}

public struct PhoneListResource: Codable, Sendable, Equatable {
    public var phones: [PhoneDetailResource]
    public init(_ phones: [PhoneDetailResource]) { self.phones = phones }
}
