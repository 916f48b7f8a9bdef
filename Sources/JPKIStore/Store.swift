import Foundation
import GRDB
import JPKIDomain

/// The register: SQLite in the home (the default) or PostgreSQL shared by any number of processes
/// (`--database postgres://…`). One type for both, so the CA services never know which: `write` is one
/// serialised read/write transaction, `read` one consistent snapshot, and `Transaction`'s typed
/// operations (the SQL, written once) run on either.
///
/// SQLite: WAL so the CLI and the server share it, `synchronous=FULL` so an acknowledged change
/// survives a crash, a busy timeout so writers wait for each other.
public final class Store: Sendable {
    enum Backend: Sendable {
        case sqlite(DatabasePool)
        case postgres(PostgresRegister)
    }
    let backend: Backend
    /// The SQLite file, or the PostgreSQL URL without its password.
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
        let pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
        backend = .sqlite(pool)
    }

    /// The register in PostgreSQL (`postgres://user:password@host:port/database`), migrated to the
    /// current schema. See docs/postgres.md.
    public init(postgresURL: String) throws {
        let register = try PostgresRegister(url: postgresURL)
        try register.migrate()
        backend = .postgres(register)
        path = register.displayURL
    }

    /// Whether `text` names a PostgreSQL register (`postgres://` or `postgresql://`).
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public var dialect: SQLDialect {
        switch backend { case .sqlite: .sqlite; case .postgres: .postgres }
    }

    /// One read/write transaction: everything in `body` commits together or not at all. On SQLite it
    /// begins IMMEDIATE; on PostgreSQL it takes the register's advisory lock first. Either way a check
    /// made inside (already revoked? PIN failures?) cannot race a writer in another process.
    public func write<T>(_ body: (Transaction) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let pool): try pool.write { db in try body(Transaction(conn: SQLiteConnection(db))) }
        case .postgres(let register): try register.write { conn in try body(Transaction(conn: conn)) }
        }
    }

    public func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let pool): try pool.read { db in try body(Transaction(conn: SQLiteConnection(db))) }
        case .postgres(let register): try register.read { conn in try body(Transaction(conn: conn)) }
        }
    }

    /// Flushes the WAL into the main file (for copies and byte-level comparisons). Nothing to do on
    /// PostgreSQL.
    public func checkpoint() throws {
        if case .sqlite(let pool) = backend {
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
    }

    /// The migrations applied, in order (the same names on both backends).
    public func appliedMigrations() throws -> [String] {
        switch backend {
        case .sqlite(let pool): try pool.read { db in try Self.migrator.appliedIdentifiers(db) }.sorted { a, b in
            (Self.migrationOrder.firstIndex(of: a) ?? .max) < (Self.migrationOrder.firstIndex(of: b) ?? .max) }
        case .postgres(let register): try register.appliedMigrations()
        }
    }

    /// The names of the migrations, oldest first.
    public static let migrationOrder = ["v1", "v2-requests", "v3-revocation-event", "v2-revocation", "v4-root-generations",
                                        "v4-phones", "v4-tokens", "v5-key-pool", "v6-crl-partitions"]

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
        registerPartitionIndexMigration(&m)
        return m
    }
}

/// A transaction's typed operations. The SQL of the sandbox lives here and nowhere else, written once
/// for both backends (`?` placeholders; `dialect` where they differ).
public struct Transaction {
    let conn: any SQLConnection

    public var dialect: SQLDialect { conn.dialect }

    // MARK: statements

    @discardableResult
    func exec(_ sql: String, _ arguments: SQLArguments = []) throws -> Int {
        try conn.execute(sql, arguments.map(\.sqlValue))
    }

    func all(_ sql: String, _ arguments: SQLArguments = []) throws -> [SQLRow] {
        try conn.rows(sql, arguments.map(\.sqlValue))
    }

    func one(_ sql: String, _ arguments: SQLArguments = []) throws -> SQLRow? {
        try all(sql, arguments).first
    }

    /// The first column of the first row; nil when there is no row or it is NULL.
    func scalar<T: SQLColumnDecodable>(_ type: T.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> T? {
        guard let row = try one(sql, arguments) else { return nil }
        return try T?.decode(row.values[0], column: row.columns[0])
    }

    func insertID(_ sql: String, _ arguments: SQLArguments) throws -> Int64 {
        try conn.insert(sql, arguments.map(\.sqlValue))
    }

    // MARK: meta

    public func meta(_ key: String) throws -> String? {
        try scalar(String.self, "SELECT value FROM meta WHERE key = ?", [key])
    }

    public func setMeta(_ key: String, _ value: String?) throws {
        if let value {
            try exec("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
        } else {
            try exec("DELETE FROM meta WHERE key = ?", [key])
        }
    }

    // MARK: residents

    public func insertResident(_ application: ResidentApplication, at now: Date) throws -> Resident {
        let time = ISOTime.storage(now)
        let id = try insertID("""
            INSERT INTO residents(name, name_flags, birth, sex, address, address_flags, locality, residence_until, adult_ward, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [application.name.value, application.name.flags, application.dateOfBirth.description,
                  application.sex.rawValue, application.address.value, application.address.flags,
                  try Self.json(application.locality), application.residenceUntil?.description,
                  application.adultWard, time, time])
        return Resident(id: id, name: application.name, dateOfBirth: application.dateOfBirth,
                        sex: application.sex, address: application.address, locality: application.locality,
                        residenceUntil: application.residenceUntil, adultWard: application.adultWard)
    }

    public func updateResident(_ r: Resident, at now: Date) throws {
        try exec("""
            UPDATE residents SET name = ?, name_flags = ?, birth = ?, sex = ?, address = ?, address_flags = ?, locality = ?,
                residence_until = ?, adult_ward = ?, updated_at = ? WHERE id = ?
            """, [r.name.value, r.name.flags, r.dateOfBirth.description, r.sex.rawValue, r.address.value,
                  r.address.flags, try Self.json(r.locality), r.residenceUntil?.description, r.adultWard,
                  ISOTime.storage(now), r.id])
    }

    public func resident(id: Int64) throws -> Resident? {
        try one("SELECT * FROM residents WHERE id = ?", [id]).map(Self.resident)
    }

    public func residents(limit: Int = 1000, offset: Int = 0) throws -> [Resident] {
        try all("SELECT * FROM residents ORDER BY id LIMIT ? OFFSET ?", [limit, offset]).map(Self.resident)
    }

    static func resident(_ row: SQLRow) throws -> Resident {
        Resident(id: try row.get("id"), name: CertificateText(value: try row.get("name"), flags: try row.get("name_flags")),
                 dateOfBirth: try LocalDate(iso: row.get("birth")), sex: try Sex(parsing: row.get("sex")),
                 address: CertificateText(value: try row.get("address"), flags: try row.get("address_flags")),
                 locality: try JSONDecoder().decode(Locality.self, from: Data((try row.get("locality") as String).utf8)),
                 residenceUntil: try (try row.get("residence_until") as String?).map { s throws(DomainError) in try LocalDate(iso: s) },
                 adultWard: try row.get("adult_ward"))
    }

    // MARK: cards

    public func insertCard(residentID: Int64, issuedAt: Date, notAfter: Date) throws -> CardRecord {
        let id = try insertID("INSERT INTO cards(resident_id, issued_at, not_after, status) VALUES (?, ?, ?, 'active')",
                              [residentID, ISOTime.storage(issuedAt), ISOTime.storage(notAfter)])
        return CardRecord(id: id, residentID: residentID, issuedAt: issuedAt, notAfter: notAfter, status: .active)
    }

    public func card(id: Int64) throws -> CardRecord? {
        try one("SELECT * FROM cards WHERE id = ?", [id]).map(Self.card)
    }

    public func cards(residentID: Int64) throws -> [CardRecord] {
        try all("SELECT * FROM cards WHERE resident_id = ? ORDER BY id", [residentID]).map(Self.card)
    }

    public func setCardStatus(_ id: Int64, _ status: CardRecord.Status, at now: Date) throws {
        try exec("UPDATE cards SET status = ?, status_changed_at = ? WHERE id = ?", [status.rawValue, ISOTime.storage(now), id])
    }

    static func card(_ row: SQLRow) throws -> CardRecord {
        CardRecord(id: try row.get("id"), residentID: try row.get("resident_id"), issuedAt: try storedDate(row.get("issued_at")),
                   notAfter: try storedDate(row.get("not_after")), status: CardRecord.Status(rawValue: try row.get("status")) ?? .revoked)
    }

    // MARK: certificates

    public func insertCertificate(_ c: CertificateRecord) throws {
        try exec("""
            INSERT INTO certificates(serial, kind, card_id, resident_id, municipality_code, not_before, not_after, der, key_pem,
                pin_salt, pin_hash, pin_iterations, pin_failures, state, revoked_at, reason, issued_at, form, phone_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [c.serial, c.kind.rawValue, c.cardID, c.residentID, c.municipalityCode,
                  ISOTime.storage(c.notBefore), ISOTime.storage(c.notAfter), c.der, c.keyPEM,
                  c.pin.salt, c.pin.hash, c.pin.iterations, c.pinFailures, c.state.rawValue,
                  c.revokedAt.map(ISOTime.storage), c.reason, ISOTime.storage(c.issuedAt), c.form.rawValue, c.phoneID])
        try setRootGeneration(serial: c.serial, c.rootGeneration)
    }

    public func certificate(serial: String) throws -> CertificateRecord? {
        try one("SELECT * FROM certificates WHERE serial = ?", [serial]).map(Self.certificate)
    }

    /// The certificates on the card itself (not those of phones issued from it).
    public func certificates(cardID: Int64) throws -> [CertificateRecord] {
        try all("SELECT * FROM certificates WHERE card_id = ? AND form = 'card' ORDER BY issued_at, kind", [cardID]).map(Self.certificate)
    }

    /// Certificates, newest first, optionally of one resident or kind.
    public func certificates(residentID: Int64? = nil, kind: CertificateKind? = nil, limit: Int = 1000, offset: Int = 0) throws -> [CertificateRecord] {
        var clauses: [String] = []
        var args: SQLArguments = []
        if let residentID { clauses.append("resident_id = ?"); args.append(residentID) }
        if let kind { clauses.append("kind = ?"); args.append(kind.rawValue) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        args.append(limit); args.append(offset)
        return try all("SELECT * FROM certificates \(whereSQL) ORDER BY issued_at DESC, serial LIMIT ? OFFSET ?", args).map(Self.certificate)
    }

    public func serialExists(_ serial: String) throws -> Bool {
        try scalar(Bool.self, "SELECT EXISTS(SELECT 1 FROM certificates WHERE serial = ?)", [serial]) ?? false
    }

    public func setCertificateState(_ serial: String, _ state: CertificateRecord.State, reason: String?, at: Date?) throws {
        try exec("UPDATE certificates SET state = ?, reason = ?, revoked_at = ? WHERE serial = ?",
                 [state.rawValue, reason, at.map(ISOTime.storage), serial])
    }

    public func setPIN(_ serial: String, _ pin: PINHash) throws {
        try exec("UPDATE certificates SET pin_salt = ?, pin_hash = ?, pin_iterations = ?, pin_failures = 0 WHERE serial = ?",
                 [pin.salt, pin.hash, pin.iterations, serial])
    }

    public func setPINFailures(_ serial: String, _ failures: Int) throws {
        try exec("UPDATE certificates SET pin_failures = ? WHERE serial = ?", [failures, serial])
    }

    static func certificate(_ row: SQLRow) throws -> CertificateRecord {
        CertificateRecord(
            serial: try row.get("serial"), kind: CertificateKind(rawValue: try row.get("kind")) ?? .auth, cardID: try row.get("card_id"),
            residentID: try row.get("resident_id"), municipalityCode: try row.get("municipality_code"),
            notBefore: try storedDate(row.get("not_before")), notAfter: try storedDate(row.get("not_after")),
            der: [UInt8](try row.get("der") as Data), keyPEM: try row.get("key_pem"),
            pin: PINHash(salt: [UInt8](try row.get("pin_salt") as Data), hash: [UInt8](try row.get("pin_hash") as Data),
                         iterations: try row.get("pin_iterations")),
            pinFailures: try row.get("pin_failures"), state: CertificateRecord.State(rawValue: try row.get("state")) ?? .revoked,
            revokedAt: try (try row.get("revoked_at") as String?).map(storedDate), reason: try row.get("reason"),
            issuedAt: try storedDate(row.get("issued_at")), rootGeneration: (try row.get("root_generation") as Int?) ?? 1,
            form: CertificateForm(rawValue: try row.get("form")) ?? .card, phoneID: try row.get("phone_id"))
    }

    // MARK: audit

    public func lastAuditHash() throws -> String? {
        try scalar(String.self, "SELECT hash FROM audit ORDER BY id DESC LIMIT 1")
    }

    public func insertAudit(_ e: AuditEntry) throws {
        try exec("""
            INSERT INTO audit(sandbox_time, real_time, operation, applicant, resident_id, serials, fee, outcome, detail, prev_hash, hash, actor)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [e.sandboxTime, e.realTime, e.operation, e.applicant, e.residentID, e.serials.joined(separator: ","),
                  e.fee, e.outcome, e.detail, e.previousHash, e.hash, e.actor])
    }

    public func auditEntries(since: String? = nil, residentID: Int64? = nil) throws -> [AuditEntry] {
        var clauses: [String] = []
        var args: SQLArguments = []
        if let since { clauses.append("sandbox_time >= ?"); args.append(since) }
        if let residentID { clauses.append("resident_id = ?"); args.append(residentID) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try all("SELECT * FROM audit \(whereSQL) ORDER BY id", args).map { row in
            AuditEntry(id: try row.get("id"), sandboxTime: try row.get("sandbox_time"), realTime: try row.get("real_time"),
                       operation: try row.get("operation"), applicant: try row.get("applicant"), residentID: try row.get("resident_id"),
                       serials: (try row.get("serials") as String).split(separator: ",").map(String.init), fee: try row.get("fee"),
                       outcome: try row.get("outcome"), detail: try row.get("detail"), previousHash: try row.get("prev_hash"),
                       hash: try row.get("hash"), actor: try row.get("actor"))
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
