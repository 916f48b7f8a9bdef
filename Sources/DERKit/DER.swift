/// A minimal DER (ITU-T X.690) writer and reader.
///
/// Enough to build the extension values of a certificate profile byte for byte and to walk
/// structures in tests; the heavy parsing stays with OpenSSL. Every node is a tag, a definite
/// length in the shortest form, and contents.
public enum DER {
    // Universal tags used in X.509.
    public static let boolean: UInt8 = 0x01
    public static let integer: UInt8 = 0x02
    public static let bitString: UInt8 = 0x03
    public static let octetString: UInt8 = 0x04
    public static let null: UInt8 = 0x05
    public static let objectIdentifier: UInt8 = 0x06
    public static let enumerated: UInt8 = 0x0A
    public static let utf8String: UInt8 = 0x0C
    public static let printableString: UInt8 = 0x13
    public static let ia5String: UInt8 = 0x16
    public static let utcTime: UInt8 = 0x17
    public static let generalizedTime: UInt8 = 0x18
    public static let sequence: UInt8 = 0x30
    public static let set: UInt8 = 0x31

    /// Context-specific tag `[n]`, constructed or primitive.
    public static func context(_ number: UInt8, constructed: Bool) -> UInt8 {
        precondition(number < 31, "high tag numbers are not needed here")
        return 0x80 | (constructed ? 0x20 : 0) | number
    }

    /// Encodes a length in the definite, shortest form.
    public static func length(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        var bytes: [UInt8] = []
        var n = count
        while n > 0 { bytes.insert(UInt8(n & 0xFF), at: 0); n >>= 8 }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    /// A whole TLV.
    public static func node(_ tag: UInt8, _ contents: [UInt8]) -> [UInt8] {
        [tag] + length(contents.count) + contents
    }

    public static func sequence(_ children: [[UInt8]]) -> [UInt8] { node(sequence, children.flatMap { $0 }) }
    public static func set(_ children: [[UInt8]]) -> [UInt8] {
        // DER sorts SET OF elements by their encodings.
        node(set, children.sorted { $0.lexicographicallyPrecedes($1) }.flatMap { $0 })
    }
    public static func explicit(_ number: UInt8, _ inner: [UInt8]) -> [UInt8] {
        node(context(number, constructed: true), inner)
    }
    public static func utf8(_ string: String) -> [UInt8] { node(utf8String, Array(string.utf8)) }
    public static func printable(_ string: String) -> [UInt8] { node(printableString, Array(string.utf8)) }
    public static func ia5(_ string: String) -> [UInt8] { node(ia5String, Array(string.utf8)) }
    public static func octets(_ bytes: [UInt8]) -> [UInt8] { node(octetString, bytes) }
    public static func bool(_ value: Bool) -> [UInt8] { node(boolean, [value ? 0xFF : 0x00]) }
    public static func nullValue() -> [UInt8] { [null, 0x00] }

    /// A non-negative INTEGER from its big-endian magnitude.
    public static func unsignedInteger(_ magnitude: [UInt8]) -> [UInt8] {
        var bytes = Array(magnitude.drop(while: { $0 == 0 }))
        if bytes.isEmpty { bytes = [0] }
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return node(integer, bytes)
    }
    public static func integer(_ value: Int) -> [UInt8] {
        precondition(value >= 0)
        var bytes: [UInt8] = []
        var n = value
        repeat { bytes.insert(UInt8(n & 0xFF), at: 0); n >>= 8 } while n > 0
        return unsignedInteger(bytes)
    }

    /// A BIT STRING whose bits are numbered from the most significant bit of the first byte
    /// (as in KeyUsage), encoded with trailing zero bits removed as DER requires for named bit lists.
    public static func namedBits(_ bits: Set<Int>) -> [UInt8] {
        guard let highest = bits.max() else { return node(bitString, [0]) }
        var bytes = [UInt8](repeating: 0, count: highest / 8 + 1)
        for bit in bits { bytes[bit / 8] |= 0x80 >> UInt8(bit % 8) }
        let unused = 7 - highest % 8
        return node(bitString, [UInt8(unused)] + bytes)
    }

    /// An OBJECT IDENTIFIER from dotted text. Returns nil when the text is not a valid OID.
    public static func oid(_ dotted: String) -> [UInt8]? {
        let arcs = dotted.split(separator: ".", omittingEmptySubsequences: false).map { UInt64($0) }
        guard arcs.count >= 2, arcs.allSatisfy({ $0 != nil }) else { return nil }
        let values = arcs.map { $0! }
        guard values[0] <= 2, values[0] == 2 || values[1] < 40 else { return nil }
        var body: [UInt8] = []
        func base128(_ v: UInt64) {
            var chunk: [UInt8] = [UInt8(v & 0x7F)]
            var n = v >> 7
            while n > 0 { chunk.insert(UInt8(n & 0x7F) | 0x80, at: 0); n >>= 7 }
            body += chunk
        }
        base128(values[0] * 40 + values[1])
        for v in values.dropFirst(2) { base128(v) }
        return node(objectIdentifier, body)
    }

    /// Like `oid(_:)` for OIDs written in code, which are known to be valid.
    public static func knownOID(_ dotted: String) -> [UInt8] {
        guard let encoded = oid(dotted) else { preconditionFailure("invalid OID literal \(dotted)") }
        return encoded
    }
}

/// One decoded DER node.
public struct DERNode: Sendable, Equatable {
    public let tag: UInt8
    /// The contents octets.
    public let contents: [UInt8]
    /// The whole encoding, tag and length included.
    public let encoded: [UInt8]

    public var isConstructed: Bool { tag & 0x20 != 0 }

    /// The children of a constructed node.
    public func children() throws(DERError) -> [DERNode] {
        var reader = DERReader(contents)
        var nodes: [DERNode] = []
        while !reader.isAtEnd { nodes.append(try reader.next()) }
        return nodes
    }

    /// The dotted form of an OBJECT IDENTIFIER node.
    public func oidString() throws(DERError) -> String {
        guard tag == DER.objectIdentifier, !contents.isEmpty else { throw .unexpected("OBJECT IDENTIFIER") }
        var arcs: [UInt64] = []
        var value: UInt64 = 0
        for byte in contents {
            value = (value << 7) | UInt64(byte & 0x7F)
            if byte & 0x80 == 0 { arcs.append(value); value = 0 }
        }
        guard let first = arcs.first else { throw .unexpected("OBJECT IDENTIFIER") }
        let head: [UInt64] = first < 80 ? [first / 40, first % 40] : [2, first - 80]
        return (head + arcs.dropFirst()).map(String.init).joined(separator: ".")
    }
}

public enum DERError: Error, Equatable, CustomStringConvertible {
    case truncated
    case unsupportedLength
    case unexpected(String)

    public var description: String {
        switch self {
        case .truncated: "DER data is truncated"
        case .unsupportedLength: "DER length form is not supported (indefinite or too long)"
        case .unexpected(let what): "DER data does not hold the expected \(what)"
        }
    }
}

/// Reads consecutive DER nodes from bytes.
public struct DERReader {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func next() throws(DERError) -> DERNode {
        let start = offset
        guard offset + 2 <= bytes.count else { throw .truncated }
        let tag = bytes[offset]
        guard tag & 0x1F != 0x1F else { throw .unexpected("low tag number") }
        var length = Int(bytes[offset + 1])
        offset += 2
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count > 0, count <= 4 else { throw .unsupportedLength }
            guard offset + count <= bytes.count else { throw .truncated }
            length = 0
            for _ in 0..<count { length = (length << 8) | Int(bytes[offset]); offset += 1 }
        }
        guard length <= bytes.count - offset else { throw .truncated }
        let contents = Array(bytes[offset..<(offset + length)])
        offset += length
        return DERNode(tag: tag, contents: contents, encoded: Array(bytes[start..<offset]))
    }

    /// Parses exactly one node spanning all the bytes.
    public static func single(_ bytes: [UInt8]) throws(DERError) -> DERNode {
        var reader = DERReader(bytes)
        let node = try reader.next()
        guard reader.isAtEnd else { throw .unexpected("single node (trailing bytes)") }
        return node
    }
}
