/// A PDF object (ISO 32000-1 §7.3), as far as signing needs: dictionaries keep their key order, names
/// and numbers keep their source spelling, strings are decoded bytes (written back as hex strings).
public indirect enum PDFObject: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    /// A real number, as written.
    case real(String)
    case string([UInt8])
    /// A name without its slash, as written (with any #xx escapes).
    case name(String)
    case array([PDFObject])
    case dictionary([(String, PDFObject)])
    case reference(Int, Int)
    /// A stream's dictionary (its data is never rewritten).
    case stream([(String, PDFObject)])

    public static func == (a: PDFObject, b: PDFObject) -> Bool { a.serialized() == b.serialized() }

    public subscript(key: String) -> PDFObject? {
        switch self {
        case .dictionary(let entries), .stream(let entries): entries.last { $0.0 == key }?.1
        default: nil
        }
    }

    public var integer: Int? { if case .integer(let v) = self { v } else { nil } }
    public var name: String? { if case .name(let v) = self { v } else { nil } }
    public var array: [PDFObject]? { if case .array(let v) = self { v } else { nil } }
    public var bytes: [UInt8]? { if case .string(let v) = self { v } else { nil } }
    public var dictionaryEntries: [(String, PDFObject)]? {
        switch self { case .dictionary(let e), .stream(let e): e; default: nil }
    }
    public var reference: (Int, Int)? { if case .reference(let n, let g) = self { (n, g) } else { nil } }

    /// The same dictionary with `key` set (replaced in place, or appended).
    public func setting(_ key: String, _ value: PDFObject) -> PDFObject {
        var entries = dictionaryEntries ?? []
        if let i = entries.firstIndex(where: { $0.0 == key }) { entries[i].1 = value } else { entries.append((key, value)) }
        return .dictionary(entries)
    }

    /// The object in PDF syntax.
    public func serialized() -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .real(let r): return r
        case .string(let bytes): return "<" + bytes.map { hex2($0) }.joined() + ">"
        case .name(let n): return "/" + n
        case .array(let items): return "[" + items.map { $0.serialized() }.joined(separator: " ") + "]"
        case .dictionary(let entries), .stream(let entries):
            return "<<" + entries.map { " /\($0.0) \($0.1.serialized())" }.joined() + " >>"
        case .reference(let n, let g): return "\(n) \(g) R"
        }
    }
}

func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

/// What went wrong reading or signing a PDF.
public struct PDFError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// Not a PDF, or a damaged or truncated one.
        case malformed
        /// A valid PDF this writer does not handle (cross-reference streams, encryption).
        case unsupported
    }
    public let code: Code
    public let message: String
    init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}
