import Foundation
import GRDB
import JPKIDomain

/// A smartphone that holds smartphone certificates (スマホ用電子証明書), issued on the strength of a
/// card's signing certificate. One live phone per resident: a new one supersedes the last.
public struct PhoneRecord: Sendable, Hashable {
    /// `heldWithCard`: on hold because its card was suspended (`[phone] on_card_suspend = "hold"`);
    /// the card's release lifts it. `suspended`: the phone's own hold (lost phone), lifted by `phone resume`.
    public enum Status: String, Sendable, Codable { case active, suspended, heldWithCard = "held-with-card", revoked }
    public let id: Int64
    public let residentID: Int64
    /// The card whose signing certificate (and PIN) the phone was issued on.
    public let cardID: Int64
    public let platform: PhonePlatform
    public let issuedAt: Date
    public var status: Status
    public var statusChangedAt: Date?
    /// Why it was revoked (RFC 5280 reason name), when it was.
    public var reason: String?
}

extension Store {
    /// Smartphone certificates: the `phones` table, and the form (card, android, iphone) and phone of
    /// each certificate. A phone's certificates are rows of `certificates` like the card's, so the CRLs,
    /// OCSP, `verify`, notices and PIN counters treat them alike.
    static func registerPhoneMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v4-phones") { db in
            try db.execute(sql: """
            CREATE TABLE phones (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                resident_id INTEGER NOT NULL REFERENCES residents(id),
                card_id INTEGER NOT NULL REFERENCES cards(id),
                platform TEXT NOT NULL CHECK (platform IN ('android', 'iphone')),
                status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'held-with-card', 'revoked')),
                issued_at TEXT NOT NULL, status_changed_at TEXT, reason TEXT);
            CREATE INDEX phones_by_resident ON phones(resident_id);
            CREATE INDEX phones_by_card ON phones(card_id);
            ALTER TABLE certificates ADD COLUMN form TEXT NOT NULL DEFAULT 'card' CHECK (form IN ('card', 'android', 'iphone'));
            ALTER TABLE certificates ADD COLUMN phone_id INTEGER REFERENCES phones(id);
            CREATE INDEX certificates_by_phone ON certificates(phone_id) WHERE phone_id IS NOT NULL;
            """)
        }
    }
}

extension Transaction {
    public func insertPhone(residentID: Int64, cardID: Int64, platform: PhonePlatform, at: Date) throws -> PhoneRecord {
        let id = try insertID("INSERT INTO phones(resident_id, card_id, platform, status, issued_at) VALUES (?, ?, ?, 'active', ?)",
                              [residentID, cardID, platform.rawValue, ISOTime.storage(at)])
        return PhoneRecord(id: id, residentID: residentID, cardID: cardID, platform: platform, issuedAt: at,
                           status: .active, statusChangedAt: nil, reason: nil)
    }

    public func phone(id: Int64) throws -> PhoneRecord? {
        try one("SELECT * FROM phones WHERE id = ?", [id]).map(Self.phone)
    }

    /// Phones, oldest first, optionally of one resident or card.
    public func phones(residentID: Int64? = nil, cardID: Int64? = nil) throws -> [PhoneRecord] {
        var clauses: [String] = []
        var args: SQLArguments = []
        if let residentID { clauses.append("resident_id = ?"); args.append(residentID) }
        if let cardID { clauses.append("card_id = ?"); args.append(cardID) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try all("SELECT * FROM phones \(whereSQL) ORDER BY id", args).map(Self.phone)
    }

    public func setPhoneStatus(_ id: Int64, _ status: PhoneRecord.Status, reason: String?, at now: Date) throws {
        try exec("UPDATE phones SET status = ?, reason = ?, status_changed_at = ? WHERE id = ?",
                 [status.rawValue, reason, ISOTime.storage(now), id])
    }

    /// The certificates of a phone, oldest first (a resumed phone has a revoked and a new signing one).
    public func certificates(phoneID: Int64) throws -> [CertificateRecord] {
        try all("SELECT * FROM certificates WHERE phone_id = ? ORDER BY issued_at, kind, serial", [phoneID])
            .map(Self.certificate)
    }

    static func phone(_ row: SQLRow) throws -> PhoneRecord {
        PhoneRecord(id: try row.get("id"), residentID: try row.get("resident_id"), cardID: try row.get("card_id"),
                    platform: PhonePlatform(rawValue: try row.get("platform")) ?? .android, issuedAt: try storedDate(row.get("issued_at")),
                    status: PhoneRecord.Status(rawValue: try row.get("status")) ?? .revoked,
                    statusChangedAt: try (try row.get("status_changed_at") as String?).map(storedDate), reason: try row.get("reason"))
    }
}
