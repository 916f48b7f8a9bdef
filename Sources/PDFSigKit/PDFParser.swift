/// A tokenizer and object parser over the bytes of a PDF (ISO 32000-1 §7.2, §7.3).
struct PDFParser {
    let bytes: [UInt8]
    var position: Int

    init(_ bytes: [UInt8], at position: Int) { self.bytes = bytes; self.position = position }

    static func isWhitespace(_ c: UInt8) -> Bool { c == 0 || c == 9 || c == 10 || c == 12 || c == 13 || c == 32 }
    static func isDelimiter(_ c: UInt8) -> Bool { "()<>[]{}/%".utf8.contains(c) }

    mutating func skipWhitespace() {
        while position < bytes.count {
            let c = bytes[position]
            if Self.isWhitespace(c) { position += 1 }
            else if c == UInt8(ascii: "%") { while position < bytes.count && bytes[position] != 10 && bytes[position] != 13 { position += 1 } }
            else { break }
        }
    }

    /// A bare word (number, keyword) at the position, without consuming it when `peek`.
    mutating func word() -> String {
        skipWhitespace()
        let start = position
        while position < bytes.count && !Self.isWhitespace(bytes[position]) && !Self.isDelimiter(bytes[position]) { position += 1 }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    mutating func expect(_ keyword: String) throws(PDFError) {
        let w = word()
        guard w == keyword else { throw PDFError(.malformed, "expected \(keyword) at byte \(position), found \(w.isEmpty ? "nothing" : w)") }
    }

    mutating func parseObject(depth: Int = 0) throws(PDFError) -> PDFObject {
        guard depth < 64 else { throw PDFError(.malformed, "objects nested too deeply at byte \(position)") }
        skipWhitespace()
        guard position < bytes.count else { throw PDFError(.malformed, "the file ends inside an object (truncated)") }
        let c = bytes[position]
        switch c {
        case UInt8(ascii: "/"):
            position += 1
            let start = position
            while position < bytes.count && !Self.isWhitespace(bytes[position]) && !Self.isDelimiter(bytes[position]) { position += 1 }
            return .name(String(decoding: bytes[start..<position], as: UTF8.self))
        case UInt8(ascii: "["):
            position += 1
            var items: [PDFObject] = []
            while true {
                skipWhitespace()
                guard position < bytes.count else { throw PDFError(.malformed, "unterminated array (truncated)") }
                if bytes[position] == UInt8(ascii: "]") { position += 1; break }
                items.append(try parseObject(depth: depth + 1))
            }
            return .array(items)
        case UInt8(ascii: "<"):
            if position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "<") {
                position += 2
                var entries: [(String, PDFObject)] = []
                while true {
                    skipWhitespace()
                    guard position + 1 < bytes.count else { throw PDFError(.malformed, "unterminated dictionary (truncated)") }
                    if bytes[position] == UInt8(ascii: ">") && bytes[position + 1] == UInt8(ascii: ">") { position += 2; break }
                    guard case .name(let key) = try parseObject(depth: depth + 1) else { throw PDFError(.malformed, "a dictionary key is not a name at byte \(position)") }
                    entries.append((key, try parseObject(depth: depth + 1)))
                }
                // A stream follows its dictionary.
                var probe = self
                if probe.word() == "stream" { return .stream(entries) }
                return .dictionary(entries)
            }
            position += 1
            var digits: [UInt8] = []
            while position < bytes.count && bytes[position] != UInt8(ascii: ">") {
                let h = bytes[position]; position += 1
                if Self.isWhitespace(h) { continue }
                guard let v = hexValue(h) else { throw PDFError(.malformed, "bad hex string at byte \(position)") }
                digits.append(v)
            }
            guard position < bytes.count else { throw PDFError(.malformed, "unterminated hex string (truncated)") }
            position += 1
            if digits.count % 2 == 1 { digits.append(0) }
            return .string(stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] })
        case UInt8(ascii: "("):
            return .string(try literalString())
        default:
            let w = word()
            switch w {
            case "": throw PDFError(.malformed, "unexpected byte \(c) at \(position)")
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default: break
            }
            if let n = Int(w) {
                // `n g R` is a reference.
                var probe = self
                let g = probe.word()
                if let gen = Int(g), probe.word() == "R" { self = probe; return .reference(n, gen) }
                return .integer(n)
            }
            if w.allSatisfy({ "+-.0123456789".contains($0) }) { return .real(w) }
            throw PDFError(.malformed, "unexpected \(w) at byte \(position)")
        }
    }

    func hexValue(_ h: UInt8) -> UInt8? {
        switch h {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): h - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): h - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): h - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    mutating func literalString() throws(PDFError) -> [UInt8] {
        position += 1
        var out: [UInt8] = [], depth = 1
        while position < bytes.count {
            let c = bytes[position]; position += 1
            switch c {
            case UInt8(ascii: "("): depth += 1; out.append(c)
            case UInt8(ascii: ")"):
                depth -= 1
                if depth == 0 { return out }
                out.append(c)
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { break }
                let e = bytes[position]; position += 1
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case 13: if position < bytes.count && bytes[position] == 10 { position += 1 }
                case 10: break
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var v = Int(e - 48), n = 1
                    while n < 3 && position < bytes.count && (48...55).contains(bytes[position]) { v = v * 8 + Int(bytes[position] - 48); position += 1; n += 1 }
                    out.append(UInt8(v & 0xFF))
                default: out.append(e)
                }
            default: out.append(c)
            }
        }
        throw PDFError(.malformed, "unterminated string (truncated)")
    }
}
