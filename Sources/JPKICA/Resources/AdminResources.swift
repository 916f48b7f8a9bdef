import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

// What the admin API adds to the resources of Resources.swift and WindowResources.swift: tokens
// (printed by `token create|list|revoke` and /admin/v1/tokens alike) and the CRLs it generates.

/// Encodes an optional as `null` rather than leaving the key out (the contract prints some keys always).
extension KeyedEncodingContainer {
    mutating func encodeNull<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}

/// CRLs just generated over the API (`POST /admin/v1/crls`): where `serve` publishes them instead of files.
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
