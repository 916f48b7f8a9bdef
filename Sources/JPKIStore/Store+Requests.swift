import Foundation
import GRDB
import JPKIDomain

/// A voluntary agent's pending request (任意代理人): finished on a second visit with the answer code
/// of the inquiry-and-answer form (照会書兼回答書) mailed to the holder.
public struct AgentRequest: Sendable, Hashable {
    public let id: Int64
    public let operation: String
    /// The operation's arguments (never PINs: those are given on completion).
    public let arguments: [String: String]
    public let residentID: Int64
    public let createdAt: Date
    public let answer: PINHash
    public var status: String
    public var completedAt: Date?
}

extension Store {
    static func registerRequestMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2-requests") { db in
            try db.execute(sql: """
            CREATE TABLE requests (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                operation TEXT NOT NULL, arguments TEXT NOT NULL,
                resident_id INTEGER NOT NULL REFERENCES residents(id),
                created_at TEXT NOT NULL,
                answer_salt BLOB NOT NULL, answer_hash BLOB NOT NULL, answer_iterations INTEGER NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
                completed_at TEXT);
            """)
        }
        m.registerMigration("v3-revocation-event") { db in
            // The window event behind a revocation (lost, stolen, …), which decides the reissue fees.
            try db.execute(sql: "ALTER TABLE certificates ADD COLUMN revocation_event TEXT")
        }
    }
}

extension Transaction {
    public func insertRequest(operation: String, arguments: [String: String], residentID: Int64, at: Date, answer: PINHash) throws -> Int64 {
        try insertID("""
            INSERT INTO requests(operation, arguments, resident_id, created_at, answer_salt, answer_hash, answer_iterations, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')
            """, [operation, try Self.json(arguments), residentID, ISOTime.storage(at), answer.salt, answer.hash, answer.iterations])
    }

    public func request(id: Int64) throws -> AgentRequest? {
        try one("SELECT * FROM requests WHERE id = ?", [id]).map(Self.request)
    }

    /// Requests still awaiting their second visit (of one resident, or all), oldest first.
    public func pendingRequests(residentID: Int64? = nil) throws -> [AgentRequest] {
        if let residentID {
            return try all("SELECT * FROM requests WHERE status = 'pending' AND resident_id = ? ORDER BY id", [residentID]).map(Self.request)
        }
        return try all("SELECT * FROM requests WHERE status = 'pending' ORDER BY id", []).map(Self.request)
    }

    static func request(_ row: SQLRow) throws -> AgentRequest {
            AgentRequest(id: try row.get("id"), operation: try row.get("operation"),
                         arguments: try JSONDecoder().decode([String: String].self, from: Data((try row.get("arguments") as String).utf8)),
                         residentID: try row.get("resident_id"), createdAt: try Self.storedDate(row.get("created_at")),
                         answer: PINHash(salt: [UInt8](try row.get("answer_salt") as Data), hash: [UInt8](try row.get("answer_hash") as Data),
                                         iterations: try row.get("answer_iterations")),
                         status: try row.get("status"), completedAt: try (try row.get("completed_at") as String?).map(Self.storedDate))
    }

    public func completeRequest(id: Int64, at: Date) throws {
        try exec("UPDATE requests SET status = 'completed', completed_at = ? WHERE id = ?", [ISOTime.storage(at), id])
    }

    /// Certificates in state `issued` whose notAfter falls in [from, to], and active cards likewise (expiry notices).
    public func certificatesExpiring(from: Date, to: Date) throws -> [CertificateRecord] {
        try all("SELECT * FROM certificates WHERE state = 'issued' AND not_after >= ? AND not_after <= ? ORDER BY not_after, serial",
                [ISOTime.storage(from), ISOTime.storage(to)]).map(Self.certificate)
    }

    public func cardsExpiring(from: Date, to: Date) throws -> [CardRecord] {
        try all("SELECT * FROM cards WHERE status = 'active' AND not_after >= ? AND not_after <= ? ORDER BY not_after, id",
                [ISOTime.storage(from), ISOTime.storage(to)]).map(Self.card)
    }

    /// Whether the resident's most recent revoked card was given up as lost or stolen.
    public func lastRevokedCardWasLost(residentID: Int64) throws -> Bool {
        try scalar(Bool.self, """
            SELECT EXISTS(SELECT 1 FROM certificates c WHERE c.card_id = (
                SELECT id FROM cards WHERE resident_id = ? AND status = 'revoked' ORDER BY id DESC LIMIT 1)
              AND c.revocation_event IN ('lost', 'stolen'))
            """, [residentID]) ?? false
    }

    /// Whether a certificate of this kind on the card was revoked because the card was lost or stolen.
    public func certificateLostBefore(cardID: Int64, kind: CertificateKind) throws -> Bool {
        try scalar(Bool.self, "SELECT EXISTS(SELECT 1 FROM certificates WHERE card_id = ? AND kind = ? AND revocation_event IN ('lost', 'stolen'))",
                   [cardID, kind.rawValue]) ?? false
    }

    /// Records the window event of a revocation.
    public func setRevocationEvent(_ serial: String, _ event: String?) throws {
        try exec("UPDATE certificates SET revocation_event = ? WHERE serial = ?", [event, serial])
    }
}
