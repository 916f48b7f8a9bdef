import Foundation
import GRDB
import JPKIDomain

extension Store {
    /// The migration of the bulk register (issue 14), appended last to `Store.migrator`.
    ///
    /// `key_pool`: RSA key pairs made in advance (`keys fill`, `serve` when idle), PEM as the
    /// certificates' `key_pem` stores them; issuance deletes the row it uses in the transaction that
    /// stores the certificate, so a key is used once. `shared_key_certificates`: certificates whose key
    /// other certificates share (`populate --shared-keys`): they never sign (`sign`, the virtual card).
    static func registerKeyPoolMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v5-key-pool") { db in
            try db.execute(sql: """
            CREATE TABLE key_pool (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key_pem TEXT NOT NULL,
                created_at TEXT NOT NULL);
            CREATE TABLE shared_key_certificates (
                serial TEXT PRIMARY KEY NOT NULL REFERENCES certificates(serial),
                key_index INTEGER NOT NULL);
            """)
        }
    }
}

/// A key of the pool, read before use; `Transaction.takePoolKey` claims it.
public struct PoolKey: Sendable, Hashable {
    public let id: Int64
    public let pem: String
    public init(id: Int64, pem: String) { self.id = id; self.pem = pem }
}

extension Transaction {
    // MARK: key pool

    public func addPoolKeys(_ pems: [String], at now: Date) throws {
        let time = ISOTime.storage(now)
        for pem in pems { try exec("INSERT INTO key_pool(key_pem, created_at) VALUES (?, ?)", [pem, time]) }
    }

    public func poolKeyCount() throws -> Int {
        try scalar(Int.self, "SELECT COUNT(*) FROM key_pool") ?? 0
    }

    /// Up to `limit` pool keys, oldest first, starting at a random place so that two processes
    /// reading at once seldom pick the same ones. Nothing is claimed.
    public func poolKeys(limit: Int) throws -> [PoolKey] {
        guard limit > 0 else { return [] }
        let random = dialect == .sqlite ? "ABS(RANDOM()) % (COALESCE(MAX(id) - MIN(id), 0) + 1)"
            : "CAST(floor(random() * (COALESCE(MAX(id) - MIN(id), 0) + 1)) AS BIGINT)"
        let rows = try all("""
            SELECT id, key_pem FROM key_pool WHERE id >= (SELECT COALESCE(MIN(id), 0) + \(random) FROM key_pool)
            ORDER BY id LIMIT ?
            """, [limit])
        var keys = try rows.map { PoolKey(id: try $0.get("id"), pem: try $0.get("key_pem")) }
        if keys.count < limit {
            let more = try all("SELECT id, key_pem FROM key_pool ORDER BY id LIMIT ?", [limit])
            let seen = Set(keys.map(\.id))
            keys += try more.map { PoolKey(id: try $0.get("id"), pem: try $0.get("key_pem")) }.filter { !seen.contains($0.id) }.prefix(limit - keys.count)
        }
        return keys
    }

    /// Removes a pool key in the caller's transaction; false when another transaction took it first.
    public func takePoolKey(_ id: Int64) throws -> Bool {
        try exec("DELETE FROM key_pool WHERE id = ?", [id]) == 1
    }

    // MARK: shared keys

    public func markSharedKey(serial: String, keyIndex: Int) throws {
        try exec("INSERT INTO shared_key_certificates(serial, key_index) VALUES (?, ?)", [serial, keyIndex])
    }

    /// The index of the shared key a certificate uses, nil for a key of its own.
    public func sharedKeyIndex(serial: String) throws -> Int? {
        try scalar(Int.self, "SELECT key_index FROM shared_key_certificates WHERE serial = ?", [serial])
    }

    // MARK: bulk writes (populate)

    /// Certificates by stored state and kind, and cards by status (populate's summary).
    public func registerCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try all("SELECT kind, state, COUNT(*) AS n FROM certificates GROUP BY kind, state") {
            counts["certificates.\(try row.get("kind") as String).\(try row.get("state") as String)"] = try row.get("n")
        }
        for row in try all("SELECT status, COUNT(*) AS n FROM cards GROUP BY status") {
            counts["cards.\(try row.get("status") as String)"] = try row.get("n")
        }
        counts["residents"] = try scalar(Int.self, "SELECT COUNT(*) FROM residents") ?? 0
        return counts
    }

    /// Certificates for the static OCSP export: serial and kind, of all, or of those issued or whose
    /// revocation time is at or after `since` (ISO storage form), in serial order.
    public func certificateSerials(since: Date?) throws -> [(serial: String, kind: CertificateKind)] {
        let rows: [SQLRow]
        if let since {
            let s = ISOTime.storage(since)
            rows = try all("SELECT serial, kind FROM certificates WHERE issued_at >= ? OR revoked_at >= ? ORDER BY serial", [s, s])
        } else {
            rows = try all("SELECT serial, kind FROM certificates ORDER BY serial")
        }
        return try rows.map { (try $0.get("serial"), CertificateKind(rawValue: try $0.get("kind")) ?? .auth) }
    }
}
