import Foundation
import JPKIDomain
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// An error of the PostgreSQL register, with the server's message (postgres-nio keeps it out of its
/// own description).
public struct RegisterError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }

    static func wrap(_ error: any Error, _ what: String) -> RegisterError {
        if let e = error as? RegisterError { return e }
        if let p = error as? PSQLError {
            if let message = p.serverInfo?[.message] {
                let code = p.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return RegisterError("\(what): \(message)\(code)")
            }
            return RegisterError("\(what): \(p.code)\(p.underlying.map { ": \($0)" } ?? "")")
        }
        return RegisterError("\(what): \(error)")
    }
}

/// The register in PostgreSQL, shared by the CLI and any number of `serve` processes, on any machines.
///
/// postgres-nio is asynchronous; the store's API is synchronous and called off the event loops (see
/// JPKICA's Blocking.swift), so each call waits on a future of a dedicated event loop group of this
/// process, never one of the server's. A small pool of connections (at most `maxConnections`) is shared
/// by the threads; the change probe has a connection of its own.
///
/// Guarantees (the same as SQLite's; docs/postgres.md):
/// - every write transaction takes the transaction-scoped advisory lock `lockKey` first, so write
///   transactions run one at a time across all processes and machines (SQLite's BEGIN IMMEDIATE), and
///   a check made inside one (already revoked? PIN failures?) cannot race another writer. Writes run at
///   READ COMMITTED: each statement sees every commit made before the lock was granted;
/// - every write transaction bumps the one-row `register_version` before it commits: the change probe
///   reads it, so a commit is seen by the very next OCSP answer of every server;
/// - reads are REPEATABLE READ READ ONLY: one consistent snapshot per `read`.
final class PostgresRegister: @unchecked Sendable {
    /// The advisory lock of the register's writers ("JPKI").
    static let lockKey: Int64 = 0x4A50_4B49
    static let maxConnections = 8
    /// One thread of this process for all its PostgreSQL connections (never an event loop of the server).
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let logger: Logger = {
        var l = Logger(label: "jpki-sandbox.postgres")
        l.logLevel = .critical
        return l
    }()

    let configuration: PostgresConnection.Configuration
    /// The URL without its password.
    let displayURL: String

    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var opened = 0
    private var nextID = 0
    private let probeLock = NSLock()
    private var probeConnection: PostgresConnection?

    init(url: String) throws {
        (configuration, displayURL) = try Self.parse(url)
        // Fail now, clearly, when the server cannot be reached.
        let connection = try connect()
        release(connection, broken: false)
    }

    deinit {
        for c in idle { Self.closeQuietly(c) }
        if let p = probeConnection { Self.closeQuietly(p) }
    }

    // MARK: URL

    /// `postgres://user[:password]@host[:port]/database[?host=/socket/dir][&sslmode=disable]`.
    static func parse(_ url: String) throws -> (PostgresConnection.Configuration, String) {
        guard Store.isPostgresURL(url), let c = URLComponents(string: url) else {
            throw RegisterError("not a PostgreSQL URL: expected postgres://user:password@host:port/database")
        }
        let user = c.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let password = c.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let database = String(c.path.drop(while: { $0 == "/" }))
        let port = c.port ?? 5432
        let query = Dictionary((c.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, b in b })
        if let mode = query["sslmode"], !["disable", "allow", "prefer"].contains(mode) {
            throw RegisterError("sslmode=\(mode) is not supported: the sandbox connects to PostgreSQL without TLS (use a loopback or private network)")
        }
        let display = "postgres://\(user)@\(c.host ?? query["host"] ?? "localhost"):\(port)/\(database)"
        if let socketDir = query["host"], socketDir.hasPrefix("/") {
            return (PostgresConnection.Configuration(unixSocketPath: "\(socketDir)/.s.PGSQL.\(port)", username: user, password: password,
                                                     database: database.isEmpty ? nil : database), display)
        }
        guard let host = c.host, !host.isEmpty else { throw RegisterError("\(display): the URL names no host") }
        return (PostgresConnection.Configuration(host: host, port: port, username: user, password: password,
                                                 database: database.isEmpty ? nil : database, tls: .disable), display)
    }

    // MARK: Connections

    /// Waits for a future of the register's own event loop. Not `EventLoopFuture.wait()`, which NIO
    /// forbids on every event loop thread: the OCSP fast path asks the change probe on a server event
    /// loop (as it does SQLite's `PRAGMA data_version`), and blocking that thread for one loopback
    /// round trip is safe because the future completes on this group's own thread, never the caller's.
    static func block<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
        precondition(!group.next().inEventLoop, "the PostgreSQL register waited on its own event loop")
        let box = FutureResult<T>(), done = DispatchSemaphore(value: 0)
        future.whenComplete { box.result = $0; done.signal() }
        done.wait()
        return try box.result!.get()
    }

    /// Closes and waits (postgres-nio insists a connection is closed before it goes away).
    static func closeQuietly(_ c: PostgresConnection) {
        let f: EventLoopFuture<Void> = c.close()
        if !Self.group.next().inEventLoop { _ = try? Self.block(f) }
    }

    private func connect() throws -> PostgresConnection {
        condition.lock(); nextID += 1; let id = nextID; condition.unlock()
        do {
            return try Self.block(PostgresConnection.connect(on: Self.group.next(), configuration: configuration, id: id, logger: Self.logger))
        } catch {
            throw RegisterError.wrap(error, "cannot connect to the register at \(displayURL)")
        }
    }

    private func acquire() throws -> PostgresConnection {
        condition.lock()
        while idle.isEmpty && opened >= Self.maxConnections { condition.wait() }
        if let c = idle.popLast() { condition.unlock(); return c }
        opened += 1
        condition.unlock()
        do { return try connect() } catch {
            condition.lock(); opened -= 1; condition.signal(); condition.unlock()
            throw error
        }
    }

    private func release(_ c: PostgresConnection, broken: Bool) {
        condition.lock()
        if broken || c.isClosed {
            opened -= 1
            Self.closeQuietly(c)
        } else {
            idle.append(c)
        }
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on a pooled connection inside `begin` … COMMIT (ROLLBACK when it throws).
    private func transaction<T>(begin: String, beforeCommit: String?, _ body: (PostgresSQLConnection) throws -> T) throws -> T {
        let c = try acquire()
        let sql = PostgresSQLConnection(c, displayURL)
        var broken = true
        defer { release(c, broken: broken) }
        try sql.simple(begin)
        let result: T
        do {
            result = try body(sql)
            try sql.simple((beforeCommit.map { $0 + "; " } ?? "") + "COMMIT")
        } catch {
            // A connection that cannot even roll back is dropped from the pool.
            broken = (try? sql.simple("ROLLBACK")) == nil
            throw error
        }
        broken = false
        return result
    }

    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(\(Self.lockKey))",
                        beforeCommit: "UPDATE register_version SET version = version + 1", body)
    }

    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", beforeCommit: nil, body)
    }

    /// The counter every write transaction bumps, read on the probe's own connection (autocommit: the
    /// latest committed value).
    func registerVersion() throws -> Int64 {
        probeLock.lock(); defer { probeLock.unlock() }
        if probeConnection == nil || probeConnection!.isClosed { probeConnection = try connect() }
        let sql = PostgresSQLConnection(probeConnection!, displayURL)
        do {
            guard let row = try sql.rows("SELECT version FROM register_version WHERE id = 1", []).first else { return 0 }
            return try row.get(0)
        } catch {
            if let p = probeConnection { Self.closeQuietly(p) }
            probeConnection = nil
            throw error
        }
    }

    // MARK: Migrations

    func appliedMigrations() throws -> [String] {
        try read { c in try c.rows("SELECT name FROM schema_migrations ORDER BY seq", []).map { try $0.get(0) } }
    }

    /// Applies the migrations not yet applied, under the writers' lock (two processes starting at once
    /// never both migrate). The same names as SQLite's, recorded in `schema_migrations`.
    func migrate() throws {
        // Fast path: everything applied (every CLI command opens the register).
        if let applied = try? appliedMigrations(), applied == PostgresSchema.migrations.map(\.name) { return }
        let c = try acquire()
        let sql = PostgresSQLConnection(c, displayURL)
        var broken = true
        defer { release(c, broken: broken) }
        do {
            try sql.simple("BEGIN; SELECT pg_advisory_xact_lock(\(Self.lockKey))")
            try sql.simple(PostgresSchema.bootstrap)
            let applied = Set(try sql.rows("SELECT name FROM schema_migrations", []).map { try $0.get(0) as String })
            for m in PostgresSchema.migrations where !applied.contains(m.name) {
                try sql.simple(m.sql)
                try sql.execute("INSERT INTO schema_migrations(name, applied_at) VALUES (?, ?)", [.text(m.name), .text(ISOTime.storage(Date()))])
            }
            try sql.simple("UPDATE register_version SET version = version + 1; COMMIT")
        } catch {
            broken = (try? sql.simple("ROLLBACK")) == nil
            throw RegisterError.wrap(error, "cannot migrate the register at \(displayURL)")
        }
        broken = false
    }

    // MARK: Databases (tests, docs/postgres.md)

    /// Creates the database `name` on the server of `url` and returns the URL of the new database.
    static func createDatabase(url: String, name: String) throws -> String {
        try withAdmin(url) { c in try c.simple("CREATE DATABASE \"\(name)\"") }
        return databaseURL(url, name)
    }

    static func dropDatabase(url: String, name: String) throws {
        try withAdmin(url) { c in try c.simple("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)") }
    }

    static func databaseURL(_ url: String, _ name: String) -> String {
        guard var c = URLComponents(string: url) else { return url }
        c.path = "/" + name
        return c.string ?? url
    }

    private static func withAdmin(_ url: String, _ body: (PostgresSQLConnection) throws -> Void) throws {
        let (configuration, display) = try parse(url)
        let connection: PostgresConnection
        do {
            connection = try block(PostgresConnection.connect(on: group.next(), configuration: configuration, id: 0, logger: logger))
        } catch { throw RegisterError.wrap(error, "cannot connect to \(display)") }
        defer { closeQuietly(connection) }
        try body(PostgresSQLConnection(connection, display))
    }
}

final class FutureResult<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

/// A PostgreSQL connection inside one transaction: `?` placeholders numbered, values bound as int8,
/// text or bytea, results read in binary.
final class PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    let display: String
    init(_ connection: PostgresConnection, _ display: String) { self.connection = connection; self.display = display }

    var dialect: SQLDialect { .postgres }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var numbered: [String: String] = [:]

    static func numberedSQL(_ sql: String) -> String {
        cacheLock.lock(); defer { cacheLock.unlock() }
        if let s = numbered[sql] { return s }
        let s = Placeholders.numbered(sql)
        if numbered.count < 4096 { numbered[sql] = s }
        return s
    }

    static func bind(_ v: SQLValue) -> PostgresData {
        switch v {
        case .null: .null
        case .int(let i): PostgresData(int64: i)
        case .text(let s): PostgresData(string: s)
        case .blob(let b): PostgresData(bytes: b)
        }
    }

    /// Runs statements without arguments, one at a time (postgres-nio sends each as an extended
    /// query, which takes one statement): `sql` is split at the `;` outside quotes and `$$` bodies.
    func simple(_ sql: String) throws {
        for statement in Self.statements(sql) {
            do { _ = try PostgresRegister.block(connection.query(statement, [])) } catch { throw RegisterError.wrap(error, "the register at \(display)") }
        }
    }

    static func statements(_ sql: String) -> [String] {
        var out: [String] = [], current = ""
        var quote: Character?, dollar = false
        var previous: Character = " "
        for ch in sql {
            if dollar {
                if ch == "$" && previous == "$" { dollar = false }
            } else if let q = quote {
                if ch == q { quote = nil }
            } else if ch == "'" || ch == "\"" {
                quote = ch
            } else if ch == "$" && previous == "$" {
                dollar = true
            } else if ch == ";" {
                let t = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !t.isEmpty { out.append(t) }
                current = ""; previous = " "
                continue
            }
            current.append(ch)
            // `$$` closes only with a fresh pair: forget the `$` that opened or closed one.
            previous = (ch == "$" && previous == "$") ? " " : ch
        }
        let t = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !t.isEmpty { out.append(t) }
        return out
    }

    private func run(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
        do {
            return try PostgresRegister.block(connection.query(Self.numberedSQL(sql), arguments.map(Self.bind)))
        } catch {
            throw RegisterError.wrap(error, "the register at \(display)")
        }
    }

    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try run(sql, arguments).metadata.rows ?? 0
    }

    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let result = try run(sql, arguments)
        return try result.rows.map { row in
            var columns: [String] = [], values: [SQLValue] = []
            columns.reserveCapacity(row.count); values.reserveCapacity(row.count)
            for cell in row {
                columns.append(cell.columnName)
                values.append(try Self.value(cell))
            }
            return SQLRow(columns: columns, values: values)
        }
    }

    func insert(_ sql: String, _ arguments: [SQLValue]) throws -> Int64 {
        guard let row = try rows(sql + " RETURNING id", arguments).first else { throw RegisterError("INSERT returned no id") }
        return try row.get(0)
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard let bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return .int(try cell.decode(Int64.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea: return .blob(Array(bytes.readableBytesView))
        default: return .text(try cell.decode(String.self))
        }
    }
}

/// The register's schema in PostgreSQL: the same tables, columns and indexes as SQLite's migrations,
/// under the same names (BIGINT for INTEGER, BYTEA for BLOB, identity columns for AUTOINCREMENT,
/// PL/pgSQL triggers for `status_log`, text compared byte by byte: COLLATE "C" as SQLite does).
enum PostgresSchema {
    static let bootstrap = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            seq BIGINT GENERATED BY DEFAULT AS IDENTITY, name TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS register_version (id INT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
        INSERT INTO register_version(id, version) VALUES (1, 0) ON CONFLICT DO NOTHING;
        """

    /// `TEXT` columns compare like SQLite's (bytes, whatever the database's locale).
    static func ddl(_ sql: String) -> String {
        sql.replacingOccurrences(of: #"\bTEXT\b"#, with: #"TEXT COLLATE "C""#, options: .regularExpression)
    }

    static let migrations: [(name: String, sql: String)] = [
        ("v1", ddl("""
            CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
            CREATE TABLE residents (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                name TEXT NOT NULL, name_flags TEXT NOT NULL,
                birth TEXT NOT NULL, sex TEXT NOT NULL,
                address TEXT NOT NULL, address_flags TEXT NOT NULL,
                locality TEXT NOT NULL,
                residence_until TEXT, adult_ward BIGINT NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
            CREATE TABLE cards (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                resident_id BIGINT NOT NULL REFERENCES residents(id),
                issued_at TEXT NOT NULL, not_after TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
                status_changed_at TEXT);
            CREATE INDEX cards_by_resident ON cards(resident_id);
            CREATE TABLE certificates (
                serial TEXT PRIMARY KEY NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('sign', 'auth')),
                card_id BIGINT NOT NULL REFERENCES cards(id),
                resident_id BIGINT NOT NULL REFERENCES residents(id),
                municipality_code TEXT NOT NULL,
                not_before TEXT NOT NULL, not_after TEXT NOT NULL,
                der BYTEA NOT NULL, key_pem TEXT NOT NULL,
                pin_salt BYTEA NOT NULL, pin_hash BYTEA NOT NULL, pin_iterations BIGINT NOT NULL,
                pin_failures BIGINT NOT NULL DEFAULT 0,
                state TEXT NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'revoked', 'hold')),
                revoked_at TEXT, reason TEXT,
                issued_at TEXT NOT NULL);
            CREATE INDEX certificates_by_card ON certificates(card_id);
            CREATE INDEX certificates_by_resident ON certificates(resident_id);
            CREATE INDEX certificates_revoked ON certificates(kind, state);
            CREATE TABLE audit (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                sandbox_time TEXT NOT NULL, real_time TEXT NOT NULL,
                operation TEXT NOT NULL, applicant TEXT, resident_id BIGINT,
                serials TEXT NOT NULL DEFAULT '', fee BIGINT NOT NULL DEFAULT 0,
                outcome TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
                prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
            """)),
        ("v2-requests", ddl("""
            CREATE TABLE requests (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                operation TEXT NOT NULL, arguments TEXT NOT NULL,
                resident_id BIGINT NOT NULL REFERENCES residents(id),
                created_at TEXT NOT NULL,
                answer_salt BYTEA NOT NULL, answer_hash BYTEA NOT NULL, answer_iterations BIGINT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
                completed_at TEXT);
            """)),
        ("v3-revocation-event", ddl("ALTER TABLE certificates ADD COLUMN revocation_event TEXT;")),
        ("v2-revocation", ddl("""
            CREATE TABLE status_log (
                seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                serial TEXT NOT NULL,
                kind TEXT NOT NULL);
            CREATE FUNCTION status_log_record() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO status_log(serial, kind) VALUES (NEW.serial, NEW.kind);
                RETURN NULL;
            END $$;
            CREATE TRIGGER status_log_insert AFTER INSERT ON certificates
                FOR EACH ROW EXECUTE FUNCTION status_log_record();
            CREATE INDEX status_log_by_serial ON status_log(serial);
            CREATE INDEX certificates_crl ON certificates(kind, state, serial, revoked_at, reason, municipality_code)
                WHERE state IN ('revoked', 'hold');
            CREATE TRIGGER status_log_update AFTER UPDATE OF state, reason, revoked_at ON certificates
                FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.reason IS DISTINCT FROM NEW.reason
                                   OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
                EXECUTE FUNCTION status_log_record();
            """)),
        ("v4-root-generations", ddl("""
            CREATE TABLE root_generations (
                kind TEXT NOT NULL CHECK (kind IN ('sign', 'auth')),
                generation BIGINT NOT NULL CHECK (generation >= 2),
                der BYTEA NOT NULL,
                created_at TEXT NOT NULL,
                new_with_old BYTEA, old_with_new BYTEA,
                PRIMARY KEY (kind, generation));
            ALTER TABLE certificates ADD COLUMN root_generation BIGINT NOT NULL DEFAULT 1;
            DROP INDEX certificates_crl;
            CREATE INDEX certificates_crl ON certificates(kind, root_generation, state, serial, revoked_at, reason, municipality_code)
                WHERE state IN ('revoked', 'hold');
            """)),
        ("v4-phones", ddl("""
            CREATE TABLE phones (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                resident_id BIGINT NOT NULL REFERENCES residents(id),
                card_id BIGINT NOT NULL REFERENCES cards(id),
                platform TEXT NOT NULL CHECK (platform IN ('android', 'iphone')),
                status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'held-with-card', 'revoked')),
                issued_at TEXT NOT NULL, status_changed_at TEXT, reason TEXT);
            CREATE INDEX phones_by_resident ON phones(resident_id);
            CREATE INDEX phones_by_card ON phones(card_id);
            ALTER TABLE certificates ADD COLUMN form TEXT NOT NULL DEFAULT 'card' CHECK (form IN ('card', 'android', 'iphone'));
            ALTER TABLE certificates ADD COLUMN phone_id BIGINT REFERENCES phones(id);
            CREATE INDEX certificates_by_phone ON certificates(phone_id) WHERE phone_id IS NOT NULL;
            """)),
        ("v4-tokens", ddl("""
            CREATE TABLE tokens (
                name TEXT PRIMARY KEY NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
                hash TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL,
                revoked_at TEXT);
            ALTER TABLE audit ADD COLUMN actor TEXT;
            """)),
        ("v5-key-pool", ddl("""
            CREATE TABLE key_pool (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                key_pem TEXT NOT NULL,
                created_at TEXT NOT NULL);
            CREATE TABLE shared_key_certificates (
                serial TEXT PRIMARY KEY NOT NULL REFERENCES certificates(serial),
                key_index BIGINT NOT NULL);
            """)),
        ("v6-crl-partitions", ddl(partitionIndex)),
    ]

    /// The same statement on both engines (see `Store.registerPartitionIndexMigration`).
    static let partitionIndex = "CREATE INDEX certificates_by_locality ON certificates(kind, root_generation, municipality_code);"
}

extension Store {
    /// Creates a database on the PostgreSQL server of `url` (whose own database is only used to connect)
    /// and returns its URL: for tests and scripts that want a register of their own.
    public static func createPostgresDatabase(url: String, name: String) throws -> String {
        try PostgresRegister.createDatabase(url: url, name: name)
    }

    public static func dropPostgresDatabase(url: String, name: String) throws {
        try PostgresRegister.dropDatabase(url: url, name: name)
    }
}
