import Foundation
import GRDB
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

/// `PRAGMA data_version` on a dedicated read-only connection: the number changes whenever another
/// connection, in this process or another, commits to the database. Asking costs a few microseconds
/// and no lock, so a server can ask before every answer.
final class SQLiteChangeProbe: @unchecked Sendable {
    private let queue: DatabaseQueue

    init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(15)
        queue = try DatabaseQueue(path: path, configuration: config)
    }

    func dataVersion() throws -> Int64 {
        try queue.inDatabase { db in try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0 }
    }
}
