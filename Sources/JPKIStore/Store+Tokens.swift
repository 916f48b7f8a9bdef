import Foundation
import GRDB
import JPKIDomain

/// A bearer token of the admin API as stored: its name, role and the SHA-256 of the secret, never the
/// secret itself.
public struct TokenRecord: Sendable, Hashable {
    public let name: String
    public let role: String
    /// Lower-case hex SHA-256 of the token text.
    public let hash: String
    public let createdAt: Date
    public var revokedAt: Date?

    public init(name: String, role: String, hash: String, createdAt: Date, revokedAt: Date? = nil) {
        self.name = name; self.role = role; self.hash = hash; self.createdAt = createdAt; self.revokedAt = revokedAt
    }
}

extension Store {
    /// "v4-tokens": the admin API's tokens, and the audit's `actor` (the token that made a change
    /// through the API; NULL for the CLI, so entries made before it hash as they always did).
    static func registerTokenMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v4-tokens") { db in
            try db.execute(sql: """
            CREATE TABLE tokens (
                name TEXT PRIMARY KEY NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
                hash TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL,
                revoked_at TEXT);
            ALTER TABLE audit ADD COLUMN actor TEXT;
            """)
        }
    }
}

extension Transaction {
    public func insertToken(_ t: TokenRecord) throws {
        try exec("INSERT INTO tokens(name, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, NULL)",
                 [t.name, t.role, t.hash, ISOTime.storage(t.createdAt)])
    }

    public func token(name: String) throws -> TokenRecord? {
        try one("SELECT * FROM tokens WHERE name = ?", [name]).map(Self.token)
    }

    public func token(hash: String) throws -> TokenRecord? {
        try one("SELECT * FROM tokens WHERE hash = ?", [hash]).map(Self.token)
    }

    public func tokens() throws -> [TokenRecord] {
        try all("SELECT * FROM tokens ORDER BY created_at, name").map(Self.token)
    }

    public func revokeToken(name: String, at: Date) throws {
        try exec("UPDATE tokens SET revoked_at = ? WHERE name = ?", [ISOTime.storage(at), name])
    }

    static func token(_ row: SQLRow) throws -> TokenRecord {
        TokenRecord(name: try row.get("name"), role: try row.get("role"), hash: try row.get("hash"), createdAt: try storedDate(row.get("created_at")),
                    revokedAt: try (try row.get("revoked_at") as String?).map(storedDate))
    }
}
