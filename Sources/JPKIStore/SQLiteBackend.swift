import Foundation
import GRDB
import GRDBSQLite
import JPKIDomain

/// A GRDB connection inside one transaction. Every statement is a cached (prepared once per
/// connection) statement: populate runs thousands of the same inserts in one transaction.
final class SQLiteConnection: SQLConnection {
    let db: Database
    init(_ db: Database) { self.db = db }

    var dialect: SQLDialect { .sqlite }

    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map { v -> DatabaseValue in
            switch v {
            case .null: return .null
            case .int(let i): return i.databaseValue
            case .text(let s): return s.databaseValue
            case .blob(let b): return Data(b).databaseValue
            }
        })
    }

    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        return db.changesCount
    }

    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        let columns = statement.columnNames
        let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
        var rows: [SQLRow] = []
        while let row = try cursor.next() {
            rows.append(SQLRow(columns: columns, values: (0..<columns.count).map { i in
                let value: DatabaseValue = row[i]
                switch value.storage {
                case .null: return .null
                case .int64(let v): return .int(v)
                case .double(let d): return .int(Int64(d))
                case .string(let s): return .text(s)
                case .blob(let d): return .blob([UInt8](d))
                }
            }))
        }
        return rows
    }

    func insert(_ sql: String, _ arguments: [SQLValue]) throws -> Int64 {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        return db.lastInsertedRowID
    }
}

/// "Has any connection, in this process or another, committed since I last asked?", asked before
/// every OCSP answer, so it must cost next to nothing.
///
/// The authority is `PRAGMA data_version` on a dedicated read-only connection (raw SQLite, a prepared
/// statement under a mutex: no queue hop). Running it opens and closes a read transaction, which takes
/// file locks (two `fcntl` calls). So the probe first looks at the wal-index header, the first 48
/// bytes of the `-shm` file that every connection of a WAL database maps (https://sqlite.org/walformat.html,
/// "The WAL-Index Header"). Every commit rewrites it: `iChange` counts transactions, `mxFrame` and the
/// salts and checksum move with it. When those bytes are exactly the ones seen at the last asking,
/// nothing was committed since and the last number still holds; when anything differs (a commit, a
/// checkpoint that restarts the WAL, a header being written at this instant) the pragma is asked.
/// The header is read before the pragma, so a commit between the two is seen at the next call.
final class SQLiteChangeProbe: @unchecked Sendable {
    private let lock = NSLock()
    private let db: OpaquePointer
    private let statement: OpaquePointer
    /// The wal-index header as SQLite maps it (nil: not available; every call asks the pragma).
    private var header: UnsafeRawPointer?
    private typealias Header = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    private var seenHeader: Header = (0, 0, 0, 0, 0, 0)
    private var seenVersion: Int64?

    init(path: String) throws {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let handle { sqlite3_close_v2(handle) }
            throw RegisterError("opening \(path) for the change probe: \(message)")
        }
        sqlite3_busy_timeout(handle, 15_000)
        var prepared: OpaquePointer?
        guard sqlite3_prepare_v2(handle, "PRAGMA data_version", -1, &prepared, nil) == SQLITE_OK, let prepared else {
            let message = String(cString: sqlite3_errmsg(handle))
            sqlite3_close_v2(handle)
            throw RegisterError("preparing PRAGMA data_version: \(message)")
        }
        db = handle
        statement = prepared
        // The first asking opens the WAL index. Its first region is found through SQLite's own VFS
        // (xShmMap on the connection's file, region 0): SQLite's mapping, valid while this connection is
        // open. Never through a file descriptor of our own on the -shm file: closing it would drop every
        // POSIX lock this process holds on that file, SQLite's included, and the next process to open the
        // database would take itself for the first, truncate the -shm and rebuild it under our feet.
        _ = try askLocked()
        var file: UnsafeMutablePointer<sqlite3_file>?
        if sqlite3_file_control(handle, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK, let file,
           let methods = file.pointee.pMethods, methods.pointee.iVersion >= 2, let shmMap = methods.pointee.xShmMap {
            var region: UnsafeMutableRawPointer?
            if shmMap(file, 0, 32_768, 0, &region) == SQLITE_OK, let region { header = UnsafeRawPointer(region) }
        }
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close_v2(db)
    }

    /// Whether the wal-index header is watched (false: every call runs the pragma).
    var watchesHeader: Bool { header != nil }

    func dataVersion() throws -> Int64 {
        lock.lock(); defer { lock.unlock() }
        guard let header else { return try askLocked() }
        // isInit (byte 12) set and the six words equal to the last ones seen: nothing committed since.
        func word(_ i: Int) -> UInt64 { header.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) }
        let now: Header = (word(0), word(1), word(2), word(3), word(4), word(5))
        if let seenVersion, now == seenHeader, header.load(fromByteOffset: 12, as: UInt8.self) == 1 { return seenVersion }
        let version = try askLocked()
        seenHeader = now
        seenVersion = version
        return version
    }

    private func askLocked() throws -> Int64 {
        defer { sqlite3_reset(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else {
            throw RegisterError("PRAGMA data_version: \(String(cString: sqlite3_errmsg(db)))")
        }
        return sqlite3_column_int64(statement, 0)
    }
}
