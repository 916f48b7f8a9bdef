import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// What a token of the admin API may do. Each role includes the ones before it.
public enum TokenRole: String, Sendable, CaseIterable, Codable, Comparable {
    /// Reads: residents, cards, certificates, notices, the audit log, the clock.
    case viewer
    /// Also changes the register, makes scenarios, generates CRLs and exports test identities.
    case `operator`
    /// Also manages tokens and sets the sandbox clock.
    case admin

    var rank: Int { switch self { case .viewer: 0; case .operator: 1; case .admin: 2 } }
    public static func < (a: TokenRole, b: TokenRole) -> Bool { a.rank < b.rank }
    public func allows(_ needed: TokenRole) -> Bool { self >= needed }
}

/// A token as just created: the record and the secret, which is shown once and never stored.
public struct CreatedToken: Sendable {
    public let record: TokenRecord
    public let secret: String
}

extension Sandbox {
    static let tokenPrefix = "jpkis_"

    /// The stored form of a token: the lower-case hex SHA-256 of its text. A token is 256 random bits,
    /// so a plain hash is enough (nothing to guess, no dictionary to try); a slow password hash would
    /// only cost every API call its time.
    public static func tokenHash(_ secret: String) -> String {
        Crypto.sha256(Array(secret.utf8)).hexString.lowercased()
    }

    static func checkTokenName(_ name: String) throws {
        guard (1...64).contains(name.utf8.count),
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) })
        else { throw SandboxError.invalid("a token name is 1–64 of A–Z, a–z, 0–9, '.', '_' and '-', not \"\(name)\"") }
    }

    /// `token create`: a new random bearer token (256 bits, base64url, prefixed `jpkis_`). Only its hash is kept.
    public func createToken(name: String, role: TokenRole) throws -> CreatedToken {
        try Self.checkTokenName(name)
        let secret = Self.tokenPrefix + Data(try Crypto.randomBytes(32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let now = try now()
        let record = TokenRecord(name: name, role: role.rawValue, hash: Self.tokenHash(secret), createdAt: now)
        try store.write { tx in
            if try tx.token(name: name) != nil {
                throw SandboxError("exists", "a token named \(name) exists already (revoked tokens keep their names); choose another name")
            }
            try tx.insertToken(record)
            try Audit.append(tx, at: now, operation: "token.create", applicant: nil, residentID: nil, serials: [], fee: 0,
                             outcome: "ok", detail: "token \(name) (\(role.rawValue))")
        }
        return CreatedToken(record: record, secret: secret)
    }

    public func tokens() throws -> [TokenRecord] { try store.read { try $0.tokens() } }

    /// `token revoke`: the token stops working at once (the server looks every call up).
    public func revokeToken(name: String) throws -> TokenRecord {
        let now = try now()
        return try store.write { tx in
            guard var token = try tx.token(name: name) else {
                throw SandboxError.notFound("no token named \(name); `jpki-sandbox token list` shows them")
            }
            guard token.revokedAt == nil else { throw SandboxError.refused("the token \(name) was already revoked") }
            try tx.revokeToken(name: name, at: now)
            token.revokedAt = now
            try Audit.append(tx, at: now, operation: "token.revoke", applicant: nil, residentID: nil, serials: [], fee: 0,
                             outcome: "ok", detail: "token \(name) (\(token.role))")
            return token
        }
    }

    /// The live token with this text, or nil (unknown or revoked). Read-only: nothing is written.
    public func authenticate(token secret: String) throws -> (name: String, role: TokenRole)? {
        guard secret.hasPrefix(Self.tokenPrefix), secret.utf8.count < 200 else { return nil }
        guard let record = try store.read({ try $0.token(hash: Self.tokenHash(secret)) }), record.revokedAt == nil,
              let role = TokenRole(rawValue: record.role) else { return nil }
        return (record.name, role)
    }

    /// One audit entry for an API call (the token is `AuditActor.name`): what was asked and how it ended.
    /// Changes made by the call have their own entries as well, written by the services with the same actor.
    public func auditAPICall(method: String, path: String, status: Int) throws {
        let now = try now()
        try store.write { tx in
            try Audit.append(tx, at: now, operation: "api.call", applicant: nil, residentID: nil, serials: [], fee: 0,
                             outcome: status < 400 ? "ok" : "refused", detail: "\(method) \(path) → \(status)")
        }
    }
}
