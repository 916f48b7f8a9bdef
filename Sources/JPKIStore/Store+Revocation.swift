import Foundation
import GRDB
import GRDBSQLite
import JPKIDomain

/// What the revocation services read: the status of one certificate.
public struct RevocationStatusRecord: Sendable, Hashable {
    public let serial: String
    public let kind: CertificateKind
    public let state: CertificateRecord.State
    /// Seconds since 1970 of the revocation or suspension.
    public let revokedAt: Int64?
    public let reason: String?
    /// The root generation that issued it.
    public let generation: Int
}

extension Store {
    /// The migration of the revocation services, appended to `Store.migrator` after v1.
    ///
    /// `status_log` gets one row for every certificate that is inserted or whose state, reason or
    /// revocation time changes, written by triggers inside the same transaction as the change, whatever
    /// code made it. A running `serve` (another process than the CLI that revokes) reads the rows after
    /// the last one it saw to know exactly which OCSP answers to replace and whether to regenerate CRLs.
    static func registerRevocationMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2-revocation") { db in
            try db.execute(sql: """
            CREATE TABLE status_log (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                serial TEXT NOT NULL,
                kind TEXT NOT NULL);
            CREATE TRIGGER status_log_insert AFTER INSERT ON certificates
            BEGIN
                INSERT INTO status_log(serial, kind) VALUES (NEW.serial, NEW.kind);
            END;
            CREATE INDEX status_log_by_serial ON status_log(serial);
            -- What a CRL needs, and only for revoked or suspended certificates: generating a CRL reads this
            -- index alone, never the rows with their certificates and keys (kilobytes each).
            CREATE INDEX certificates_crl ON certificates(kind, state, serial, revoked_at, reason, municipality_code)
                WHERE state IN ('revoked', 'hold');
            CREATE TRIGGER status_log_update AFTER UPDATE OF state, reason, revoked_at ON certificates
            WHEN OLD.state IS NOT NEW.state OR OLD.reason IS NOT NEW.reason OR OLD.revoked_at IS NOT NEW.revoked_at
            BEGIN
                INSERT INTO status_log(serial, kind) VALUES (NEW.serial, NEW.kind);
            END;
            """)
        }
    }

    /// `certificates_by_locality`: the municipalities that hold certificates of a kind and root
    /// generation, which `municipalityCodes` walks one code at a time (a seek per code, not a scan of
    /// every certificate: 51 s for `crl generate` on a register of 1.9M certificates before it).
    static func registerPartitionIndexMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v6-crl-partitions") { db in
            try db.execute(sql: PostgresSchema.partitionIndex)
        }
    }

    /// A probe on its own connection for "has anyone committed since I last asked?" (see `ChangeProbe`).
    public func changeProbe() throws -> ChangeProbe {
        switch backend {
        case .sqlite: ChangeProbe(.sqlite(try SQLiteChangeProbe(path: path)))
        case .postgres(let register): ChangeProbe(.postgres(register))
        }
    }
}

/// "Has anyone, in this process or another, committed to the register since I last asked?": a number
/// that changes with every commit, asked before every OCSP answer. SQLite: `PRAGMA data_version` on a
/// dedicated read-only connection (a few microseconds, no lock). PostgreSQL: the one-row
/// `register_version` counter that every write transaction bumps before it commits (one round trip on
/// a connection of its own, and as strict: a commit is visible to the next probe).
public final class ChangeProbe: Sendable {
    enum Backend: Sendable {
        case sqlite(SQLiteChangeProbe)
        case postgres(PostgresRegister)
    }
    let backend: Backend
    init(_ backend: Backend) { self.backend = backend }

    /// Whether answers are checked against the SQLite wal-index header first (see `SQLiteChangeProbe`).
    public var watchesWALIndex: Bool {
        if case .sqlite(let probe) = backend { probe.watchesHeader } else { false }
    }

    public func dataVersion() throws -> Int64 {
        switch backend {
        case .sqlite(let probe): try probe.dataVersion()
        case .postgres(let register): try register.registerVersion()
        }
    }
}

extension Transaction {
    // MARK: CRL numbers

    /// Generation 1 keeps the key it always had; each later generation counts on its own.
    static func crlNumberKey(_ kind: CertificateKind, generation: Int = 1) -> String {
        generation <= 1 ? "crl.\(kind.rawValue).number" : "crl.\(kind.rawValue).g\(generation).number"
    }

    /// Reserves `count` consecutive cRLNumbers for the root of `kind` and returns the first. The
    /// caller commits this before any CRL with these numbers leaves the process, so a crash can
    /// waste numbers but never hand one out twice.
    public func allocateCRLNumbers(kind: CertificateKind, generation: Int = 1, count: Int) throws -> Int {
        let last = try meta(Self.crlNumberKey(kind, generation: generation)).flatMap { Int($0) } ?? 0
        try setMeta(Self.crlNumberKey(kind, generation: generation), String(last + count))
        return last + 1
    }

    public func lastCRLNumber(kind: CertificateKind, generation: Int = 1) throws -> Int {
        try meta(Self.crlNumberKey(kind, generation: generation)).flatMap { Int($0) } ?? 0
    }

    // MARK: Revoked certificates

    /// Calls `body` for every revoked or suspended certificate of `kind` with its serial (hex text),
    /// revocation time (storage text), RFC 5280 reason name and municipality code, as UTF-8 bytes
    /// valid only during the call. Streams from the covering index `certificates_crl` straight off
    /// SQLite's row buffer: a million rows never sit in memory, and no object is made per row.
    public func forEachRevoked(kind: CertificateKind, generation: Int = 1,
                               _ body: (_ serial: UnsafeRawBufferPointer, _ revokedAt: UnsafeRawBufferPointer?,
                                        _ reason: UnsafeRawBufferPointer?, _ municipality: UnsafeRawBufferPointer) throws -> Void) throws {
        guard let sqlite = conn as? SQLiteConnection else {
            // PostgreSQL: the rows come as values (the partial index `certificates_crl` still covers the query).
            let rows = try all("""
                SELECT serial, revoked_at, reason, municipality_code FROM certificates
                WHERE kind = ? AND root_generation = ? AND state IN ('revoked', 'hold')
                """, [kind.rawValue, generation])
            for row in rows {
                var serial: String = try row.get(0), municipality: String = try row.get(3)
                var revokedAt: String? = try row.get(1), reason: String? = try row.get(2)
                try serial.withUTF8 { s in
                    try municipality.withUTF8 { m in
                        func optional(_ text: inout String?, _ f: (UnsafeRawBufferPointer?) throws -> Void) throws {
                            if text == nil { try f(nil) } else { try text!.withUTF8 { try f(UnsafeRawBufferPointer($0)) } }
                        }
                        try optional(&revokedAt) { r in
                            try optional(&reason) { why in try body(UnsafeRawBufferPointer(s), r, why, UnsafeRawBufferPointer(m)) }
                        }
                    }
                }
            }
            return
        }
        let db = sqlite.db
        let statement = try db.cachedStatement(sql: """
            SELECT serial, revoked_at, reason, municipality_code FROM certificates INDEXED BY certificates_crl
            WHERE kind = ? AND root_generation = ? AND state IN ('revoked', 'hold')
            """)
        try statement.setArguments([kind.rawValue, generation])
        let s = statement.sqliteStatement
        defer { sqlite3_reset(s) }
        @inline(__always) func column(_ i: Int32) -> UnsafeRawBufferPointer? {
            guard let text = sqlite3_column_text(s, i) else { return nil }
            return UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(s, i)))
        }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            try body(column(0) ?? empty, column(1), column(2), column(3) ?? empty)
        }
    }

    /// How many certificates of `kind` are revoked or suspended (to size a CRL before building it).
    public func revokedCount(kind: CertificateKind, generation: Int = 1) throws -> Int {
        try scalar(Int.self, """
            SELECT COUNT(*) FROM certificates \(dialect == .sqlite ? "INDEXED BY certificates_crl" : "") WHERE kind = ? AND root_generation = ? AND state IN ('revoked', 'hold')
            """, [kind.rawValue, generation]) ?? 0
    }

    /// The municipality codes of certificates of `kind` (each names a CRL partition).
    public func municipalityCodes(kind: CertificateKind, generation: Int = 1) throws -> [String] {
        // A skip scan over certificates_by_locality, written as a recursive query because neither
        // engine skips through an index for DISTINCT: one index seek per municipality in use.
        try all("""
            WITH RECURSIVE codes(code) AS (
                SELECT MIN(municipality_code) FROM certificates WHERE kind = ? AND root_generation = ?
                UNION ALL
                SELECT (SELECT MIN(municipality_code) FROM certificates
                        WHERE kind = ? AND root_generation = ? AND municipality_code > codes.code)
                FROM codes WHERE codes.code IS NOT NULL)
            SELECT code FROM codes WHERE code IS NOT NULL ORDER BY 1
            """, [kind.rawValue, generation, kind.rawValue, generation]).map { try $0.get(0) }
    }

    /// The status of one certificate, or nil when no certificate has this serial.
    public func revocationStatus(serial: String) throws -> RevocationStatusRecord? {
        guard let row = try one("SELECT serial, kind, state, revoked_at, reason, root_generation FROM certificates WHERE serial = ?", [serial]) else {
            return nil
        }
        let revokedAt: String? = try row.get(3)
        return RevocationStatusRecord(serial: try row.get(0), kind: CertificateKind(rawValue: try row.get(1)) ?? .auth,
                                      state: CertificateRecord.State(rawValue: try row.get(2)) ?? .revoked,
                                      revokedAt: revokedAt.flatMap(StoredTime.seconds), reason: try row.get(4), generation: try row.get(5))
    }

    // MARK: Status log

    public func lastStatusChange() throws -> Int64 {
        try scalar(Int64.self, "SELECT COALESCE(MAX(seq), 0) FROM status_log") ?? 0
    }

    /// Status changes after `seq`, oldest first: (seq, serial, kind).
    public func statusChanges(after seq: Int64, limit: Int = 10_000) throws -> [(seq: Int64, serial: String, kind: CertificateKind)] {
        try all("SELECT seq, serial, kind FROM status_log WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit]).map {
            (seq: try $0.get(0), serial: try $0.get(1), kind: CertificateKind(rawValue: try $0.get(2)) ?? .auth)
        }
    }
}

/// The stored time form `YYYY-MM-DDTHH:MM:SSZ` read without a formatter (a CRL of a million
/// entries reads a million of them); anything else falls back to `ISOTime.parse`.
public enum StoredTime {
    public static func seconds(_ text: String) -> Int64? {
        var copy = text
        if let s = copy.withUTF8({ seconds(utf8: $0) }) { return s }
        return (try? ISOTime.parse(text)).map { Int64($0.timeIntervalSince1970) }
    }

    public static func seconds(utf8 t: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard t.count == 20 else { return nil }
        @inline(__always) func d(_ i: Int) -> Int64? { let c = t[i]; return c >= 0x30 && c <= 0x39 ? Int64(c - 0x30) : nil }
        guard t[4] == 0x2D, t[7] == 0x2D, t[10] == 0x54, t[13] == 0x3A, t[16] == 0x3A, t[19] == 0x5A,
              let y0 = d(0), let y1 = d(1), let y2 = d(2), let y3 = d(3), let mo0 = d(5), let mo1 = d(6), let d0 = d(8), let d1 = d(9),
              let h0 = d(11), let h1 = d(12), let mi0 = d(14), let mi1 = d(15), let s0 = d(17), let s1 = d(18) else { return nil }
        let year = y0 * 1000 + y1 * 100 + y2 * 10 + y3, month = mo0 * 10 + mo1, day = d0 * 10 + d1
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        // days_from_civil (H. Hinnant).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + (h0 * 10 + h1) * 3600 + (mi0 * 10 + mi1) * 60 + s0 * 10 + s1
    }
}
