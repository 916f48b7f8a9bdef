import Foundation
import GRDB
import JPKIDomain

/// The sandbox's SQLite database: WAL so the CLI and the server share it, `synchronous=FULL` so an
/// acknowledged change survives a crash, a busy timeout so writers wait for each other.
public final class Store: Sendable {
    let pool: DatabasePool
    public let path: String

    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(15)
        config.journalMode = .wal
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        // GRDB opens DatabasePool write transactions with BEGIN IMMEDIATE: the write lock is held from the
        // first statement, so a check made inside `write` (already revoked? a live card?) cannot race
        // another process.
        self.path = path
        // The database holds the leaves' private keys: owner-only, and SQLite gives its -wal and -shm
        // files the same mode.
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
    }

    /// One read/write transaction: everything in `body` commits together or not at all.
    public func write<T>(_ body: (Transaction) throws -> T) throws -> T {
        try pool.write { db in try body(Transaction(db: db)) }
    }

    public func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        try pool.read { db in try body(Transaction(db: db)) }
    }

    /// Flushes the WAL into the main file (for copies and byte-level comparisons).
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
            CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
            CREATE TABLE residents (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL, name_flags TEXT NOT NULL,
                birth TEXT NOT NULL, sex TEXT NOT NULL,
                address TEXT NOT NULL, address_flags TEXT NOT NULL,
                locality TEXT NOT NULL,
                residence_until TEXT, adult_ward INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
            CREATE TABLE cards (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                resident_id INTEGER NOT NULL REFERENCES residents(id),
                issued_at TEXT NOT NULL, not_after TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
                status_changed_at TEXT);
            CREATE INDEX cards_by_resident ON cards(resident_id);
            CREATE TABLE certificates (
                serial TEXT PRIMARY KEY NOT NULL UNIQUE,
                kind TEXT NOT NULL CHECK (kind IN ('sign', 'auth')),
                card_id INTEGER NOT NULL REFERENCES cards(id),
                resident_id INTEGER NOT NULL REFERENCES residents(id),
                municipality_code TEXT NOT NULL,
                not_before TEXT NOT NULL, not_after TEXT NOT NULL,
                der BLOB NOT NULL, key_pem TEXT NOT NULL,
                pin_salt BLOB NOT NULL, pin_hash BLOB NOT NULL, pin_iterations INTEGER NOT NULL,
                pin_failures INTEGER NOT NULL DEFAULT 0,
                state TEXT NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'revoked', 'hold')),
                revoked_at TEXT, reason TEXT,
                issued_at TEXT NOT NULL);
            CREATE INDEX certificates_by_card ON certificates(card_id);
            CREATE INDEX certificates_by_resident ON certificates(resident_id);
            CREATE INDEX certificates_revoked ON certificates(kind, state);
            CREATE TABLE audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                sandbox_time TEXT NOT NULL, real_time TEXT NOT NULL,
                operation TEXT NOT NULL, applicant TEXT, resident_id INTEGER,
                serials TEXT NOT NULL DEFAULT '', fee INTEGER NOT NULL DEFAULT 0,
                outcome TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
                prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
            """)
        }
        registerRequestMigration(&m)
        registerRevocationMigration(&m)
        registerRootGenerationMigration(&m)
        registerPhoneMigration(&m)
        registerTokenMigration(&m)
        registerKeyPoolMigration(&m)
        return m
    }
}

/// A transaction's typed operations. The SQL of the sandbox lives here and nowhere else.
public struct Transaction {
    let db: Database

    // MARK: meta

    public func meta(_ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }

    public func setMeta(_ key: String, _ value: String?) throws {
        if let value {
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", arguments: [key, value])
        } else {
            try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [key])
        }
    }

    // MARK: residents

    public func insertResident(_ application: ResidentApplication, at now: Date) throws -> Resident {
        let time = ISOTime.storage(now)
        // A cached (prepared once per connection) statement: populate inserts thousands in one transaction.
        try db.cachedStatement(sql: """
            INSERT INTO residents(name, name_flags, birth, sex, address, address_flags, locality, residence_until, adult_ward, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [application.name.value, application.name.flags, application.dateOfBirth.description,
                             application.sex.rawValue, application.address.value, application.address.flags,
                             try Self.json(application.locality), application.residenceUntil?.description,
                             application.adultWard, time, time])
        return Resident(id: db.lastInsertedRowID, name: application.name, dateOfBirth: application.dateOfBirth,
                        sex: application.sex, address: application.address, locality: application.locality,
                        residenceUntil: application.residenceUntil, adultWard: application.adultWard)
    }

    public func updateResident(_ r: Resident, at now: Date) throws {
        try db.execute(sql: """
            UPDATE residents SET name = ?, name_flags = ?, birth = ?, sex = ?, address = ?, address_flags = ?, locality = ?,
                residence_until = ?, adult_ward = ?, updated_at = ? WHERE id = ?
            """, arguments: [r.name.value, r.name.flags, r.dateOfBirth.description, r.sex.rawValue, r.address.value,
                             r.address.flags, try Self.json(r.locality), r.residenceUntil?.description, r.adultWard,
                             ISOTime.storage(now), r.id])
    }

    public func resident(id: Int64) throws -> Resident? {
        try Row.fetchOne(db, sql: "SELECT * FROM residents WHERE id = ?", arguments: [id]).map(Self.resident)
    }

    public func residents(limit: Int = 1000, offset: Int = 0) throws -> [Resident] {
        try Row.fetchAll(db, sql: "SELECT * FROM residents ORDER BY id LIMIT ? OFFSET ?", arguments: [limit, offset]).map(Self.resident)
    }

    static func resident(_ row: Row) throws -> Resident {
        Resident(id: row["id"], name: CertificateText(value: row["name"], flags: row["name_flags"]),
                 dateOfBirth: try LocalDate(iso: row["birth"]), sex: try Sex(parsing: row["sex"]),
                 address: CertificateText(value: row["address"], flags: row["address_flags"]),
                 locality: try JSONDecoder().decode(Locality.self, from: Data((row["locality"] as String).utf8)),
                 residenceUntil: try (row["residence_until"] as String?).map { s throws(DomainError) in try LocalDate(iso: s) },
                 adultWard: row["adult_ward"])
    }

    // MARK: cards

    public func insertCard(residentID: Int64, issuedAt: Date, notAfter: Date) throws -> CardRecord {
        try db.cachedStatement(sql: "INSERT INTO cards(resident_id, issued_at, not_after, status) VALUES (?, ?, ?, 'active')")
            .execute(arguments: [residentID, ISOTime.storage(issuedAt), ISOTime.storage(notAfter)])
        return CardRecord(id: db.lastInsertedRowID, residentID: residentID, issuedAt: issuedAt, notAfter: notAfter, status: .active)
    }

    public func card(id: Int64) throws -> CardRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM cards WHERE id = ?", arguments: [id]).map(Self.card)
    }

    public func cards(residentID: Int64) throws -> [CardRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM cards WHERE resident_id = ? ORDER BY id", arguments: [residentID]).map(Self.card)
    }

    public func setCardStatus(_ id: Int64, _ status: CardRecord.Status, at now: Date) throws {
        try db.execute(sql: "UPDATE cards SET status = ?, status_changed_at = ? WHERE id = ?", arguments: [status.rawValue, ISOTime.storage(now), id])
    }

    static func card(_ row: Row) throws -> CardRecord {
        CardRecord(id: row["id"], residentID: row["resident_id"], issuedAt: try storedDate(row["issued_at"]),
                   notAfter: try storedDate(row["not_after"]), status: CardRecord.Status(rawValue: row["status"]) ?? .revoked)
    }

    // MARK: certificates

    public func insertCertificate(_ c: CertificateRecord) throws {
        try db.execute(sql: """
            INSERT INTO certificates(serial, kind, card_id, resident_id, municipality_code, not_before, not_after, der, key_pem,
                pin_salt, pin_hash, pin_iterations, pin_failures, state, revoked_at, reason, issued_at, form, phone_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [c.serial, c.kind.rawValue, c.cardID, c.residentID, c.municipalityCode,
                             ISOTime.storage(c.notBefore), ISOTime.storage(c.notAfter), Data(c.der), c.keyPEM,
                             Data(c.pin.salt), Data(c.pin.hash), c.pin.iterations, c.pinFailures, c.state.rawValue,
                             c.revokedAt.map(ISOTime.storage), c.reason, ISOTime.storage(c.issuedAt), c.form.rawValue, c.phoneID])
        try setRootGeneration(serial: c.serial, c.rootGeneration)
    }

    public func certificate(serial: String) throws -> CertificateRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM certificates WHERE serial = ?", arguments: [serial]).map(Self.certificate)
    }

    /// The certificates on the card itself (not those of phones issued from it).
    public func certificates(cardID: Int64) throws -> [CertificateRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM certificates WHERE card_id = ? AND form = 'card' ORDER BY issued_at, kind", arguments: [cardID]).map(Self.certificate)
    }

    /// Certificates, newest first, optionally of one resident or kind.
    public func certificates(residentID: Int64? = nil, kind: CertificateKind? = nil, limit: Int = 1000, offset: Int = 0) throws -> [CertificateRecord] {
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        if let residentID { clauses.append("resident_id = ?"); args.append(residentID) }
        if let kind { clauses.append("kind = ?"); args.append(kind.rawValue) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        args.append(limit); args.append(offset)
        return try Row.fetchAll(db, sql: "SELECT * FROM certificates \(whereSQL) ORDER BY issued_at DESC, serial LIMIT ? OFFSET ?",
                                arguments: StatementArguments(args)).map(Self.certificate)
    }

    public func serialExists(_ serial: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM certificates WHERE serial = ?)", arguments: [serial]) ?? false
    }

    public func setCertificateState(_ serial: String, _ state: CertificateRecord.State, reason: String?, at: Date?) throws {
        try db.execute(sql: "UPDATE certificates SET state = ?, reason = ?, revoked_at = ? WHERE serial = ?",
                       arguments: [state.rawValue, reason, at.map(ISOTime.storage), serial])
    }

    public func setPIN(_ serial: String, _ pin: PINHash) throws {
        try db.execute(sql: "UPDATE certificates SET pin_salt = ?, pin_hash = ?, pin_iterations = ?, pin_failures = 0 WHERE serial = ?",
                       arguments: [Data(pin.salt), Data(pin.hash), pin.iterations, serial])
    }

    public func setPINFailures(_ serial: String, _ failures: Int) throws {
        try db.execute(sql: "UPDATE certificates SET pin_failures = ? WHERE serial = ?", arguments: [failures, serial])
    }

    static func certificate(_ row: Row) throws -> CertificateRecord {
        CertificateRecord(
            serial: row["serial"], kind: CertificateKind(rawValue: row["kind"]) ?? .auth, cardID: row["card_id"],
            residentID: row["resident_id"], municipalityCode: row["municipality_code"],
            notBefore: try storedDate(row["not_before"]), notAfter: try storedDate(row["not_after"]),
            der: [UInt8](row["der"] as Data), keyPEM: row["key_pem"],
            pin: PINHash(salt: [UInt8](row["pin_salt"] as Data), hash: [UInt8](row["pin_hash"] as Data), iterations: row["pin_iterations"]),
            pinFailures: row["pin_failures"], state: CertificateRecord.State(rawValue: row["state"]) ?? .revoked,
            revokedAt: try (row["revoked_at"] as String?).map(storedDate), reason: row["reason"],
            issuedAt: try storedDate(row["issued_at"]), rootGeneration: row["root_generation"] ?? 1,
            form: CertificateForm(rawValue: row["form"]) ?? .card, phoneID: row["phone_id"])
    }

    // MARK: audit

    public func lastAuditHash() throws -> String? {
        try String.fetchOne(db, sql: "SELECT hash FROM audit ORDER BY id DESC LIMIT 1")
    }

    public func insertAudit(_ e: AuditEntry) throws {
        try db.execute(sql: """
            INSERT INTO audit(sandbox_time, real_time, operation, applicant, resident_id, serials, fee, outcome, detail, prev_hash, hash, actor)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [e.sandboxTime, e.realTime, e.operation, e.applicant, e.residentID, e.serials.joined(separator: ","),
                             e.fee, e.outcome, e.detail, e.previousHash, e.hash, e.actor])
    }

    public func auditEntries(since: String? = nil, residentID: Int64? = nil) throws -> [AuditEntry] {
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        if let since { clauses.append("sandbox_time >= ?"); args.append(since) }
        if let residentID { clauses.append("resident_id = ?"); args.append(residentID) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try Row.fetchAll(db, sql: "SELECT * FROM audit \(whereSQL) ORDER BY id", arguments: StatementArguments(args)).map { row in
            AuditEntry(id: row["id"], sandboxTime: row["sandbox_time"], realTime: row["real_time"], operation: row["operation"],
                       applicant: row["applicant"], residentID: row["resident_id"],
                       serials: (row["serials"] as String).split(separator: ",").map(String.init), fee: row["fee"],
                       outcome: row["outcome"], detail: row["detail"], previousHash: row["prev_hash"], hash: row["hash"],
                       actor: row["actor"])
        }
    }

    // MARK: helpers

    static func json<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    static func storedDate(_ text: String) throws -> Date {
        try ISOTime.parse(text)
    }
}
