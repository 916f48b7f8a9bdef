import Foundation

/// The two SQL dialects the register speaks. The typed operations of `Transaction` are written once;
/// where the dialects differ (index hints, random numbers) they ask `dialect`.
public enum SQLDialect: Sendable {
    case sqlite, postgres
}

/// A value bound to or read from a statement: the storage classes both databases share.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case text(String)
    case blob([UInt8])
}

/// What may be bound to a `?` placeholder.
public protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .int(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .int(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension Data: SQLBindable { public var sqlValue: SQLValue { .blob([UInt8](self)) } }
extension Array: SQLBindable where Element == UInt8 { public var sqlValue: SQLValue { .blob(self) } }

/// Statement arguments, in the order of the `?` placeholders.
typealias SQLArguments = [(any SQLBindable)?]

extension Optional where Wrapped == any SQLBindable {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// What may be read from a column.
protocol SQLColumnDecodable {
    static func decode(_ value: SQLValue, column: String) throws -> Self
}

struct SQLDecodingError: Error, CustomStringConvertible {
    let column: String
    let value: SQLValue
    let type: String
    var description: String { "the register's column \(column) holds \(value), not a \(type)" }
}

extension String: SQLColumnDecodable {
    static func decode(_ value: SQLValue, column: String) throws -> String {
        switch value {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        case .null: throw SQLDecodingError(column: column, value: value, type: "String")
        }
    }
}

extension Int64: SQLColumnDecodable {
    static func decode(_ value: SQLValue, column: String) throws -> Int64 {
        switch value {
        case .int(let i): return i
        case .text(let s): if let i = Int64(s) { return i }
        default: break
        }
        throw SQLDecodingError(column: column, value: value, type: "integer")
    }
}

extension Int: SQLColumnDecodable {
    static func decode(_ value: SQLValue, column: String) throws -> Int { Int(try Int64.decode(value, column: column)) }
}

extension Bool: SQLColumnDecodable {
    static func decode(_ value: SQLValue, column: String) throws -> Bool { try Int64.decode(value, column: column) != 0 }
}

extension Data: SQLColumnDecodable {
    static func decode(_ value: SQLValue, column: String) throws -> Data {
        switch value {
        case .blob(let b): return Data(b)
        case .text(let s): return Data(s.utf8)
        default: throw SQLDecodingError(column: column, value: value, type: "blob")
        }
    }
}

extension Optional: SQLColumnDecodable where Wrapped: SQLColumnDecodable {
    static func decode(_ value: SQLValue, column: String) throws -> Wrapped? {
        if case .null = value { return nil }
        return try Wrapped.decode(value, column: column)
    }
}

/// One result row: its column names (lower case, as written in the SQL) and values.
struct SQLRow {
    let columns: [String]
    let values: [SQLValue]

    func value(_ name: String) throws -> SQLValue {
        guard let i = columns.firstIndex(of: name) else {
            throw SQLDecodingError(column: name, value: .null, type: "column of this result")
        }
        return values[i]
    }

    func get<T: SQLColumnDecodable>(_ name: String) throws -> T { try T.decode(value(name), column: name) }
    func get<T: SQLColumnDecodable>(_ index: Int) throws -> T { try T.decode(values[index], column: columns[index]) }
}

/// A connection inside one transaction. The SQL is written with `?` placeholders; the PostgreSQL
/// connection numbers them (`$1`, `$2`, …).
protocol SQLConnection: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs a statement; returns how many rows it changed.
    @discardableResult func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int
    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs an INSERT into a table with an `id` key and returns the new row's id.
    func insert(_ sql: String, _ arguments: [SQLValue]) throws -> Int64
}

enum Placeholders {
    /// `?` → `$1`, `$2`, … outside quoted text.
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character?
        for ch in sql {
            if let q = quote {
                if ch == q { quote = nil }
                out.append(ch)
            } else if ch == "'" || ch == "\"" {
                quote = ch
                out.append(ch)
            } else if ch == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        return out
    }
}
