import Foundation

/// A PDF read through its cross-reference tables (ISO 32000-1 §7.5): the newest offset of every
/// object, following `/Prev` through incremental updates, and the newest trailer.
/// Classic `xref` tables only; a file whose newest section is a cross-reference stream is refused
/// as unsupported (PDF 1.5 object streams would need a Flate decoder and a stream writer).
public struct PDFDocument: Sendable {
    public let bytes: [UInt8]
    /// Object number → byte offset of `n g obj`.
    public private(set) var offsets: [Int: Int] = [:]
    /// The newest trailer dictionary.
    public private(set) var trailer: PDFObject = .dictionary([])
    /// Where the newest cross-reference section starts.
    public let startXref: Int

    public init(bytes: [UInt8]) throws(PDFError) {
        guard bytes.prefix(1024).firstRange(of: Array("%PDF-".utf8)) != nil else { throw PDFError(.malformed, "not a PDF (no %PDF- header)") }
        self.bytes = bytes
        // startxref N %%EOF, in the last kilobyte.
        let tailStart = max(0, bytes.count - 1024)
        guard let marker = Array(bytes[tailStart...]).lastRange(of: Array("startxref".utf8)) else {
            throw PDFError(.malformed, "no startxref at the end: the PDF is damaged or truncated")
        }
        var p = PDFParser(bytes, at: tailStart + marker.upperBound)
        guard let start = Int(p.word()), start >= 0, start < bytes.count else { throw PDFError(.malformed, "startxref does not point into the file (truncated?)") }
        startXref = start
        var next: Int? = start, seen = Set<Int>()
        while let at = next, !seen.contains(at) {
            seen.insert(at)
            let section = try Self.readSection(bytes, at: at)
            for (n, o) in section.entries where offsets[n] == nil { offsets[n] = o }
            if case .dictionary(let entries) = trailer, entries.isEmpty { trailer = section.trailer }
            next = section.trailer["Prev"]?.integer
        }
        guard trailer["Root"]?.reference != nil else { throw PDFError(.malformed, "the trailer has no /Root") }
        if trailer["Encrypt"] != nil { throw PDFError(.unsupported, "encrypted PDFs are not supported") }
    }

    static func readSection(_ bytes: [UInt8], at offset: Int) throws(PDFError) -> (entries: [(Int, Int)], trailer: PDFObject) {
        var p = PDFParser(bytes, at: offset)
        let keyword = p.word()
        guard keyword == "xref" else {
            if Int(keyword) != nil { throw PDFError(.unsupported, "the PDF uses a cross-reference stream (PDF 1.5+ compressed xref), which this writer does not read yet") }
            throw PDFError(.malformed, "no xref table at byte \(offset) (damaged or truncated)")
        }
        var entries: [(Int, Int)] = []
        while true {
            var probe = p
            let w = probe.word()
            if w == "trailer" { p = probe; break }
            guard let first = Int(w), let count = Int(probe.word()), count >= 0, count < 10_000_000 else {
                throw PDFError(.malformed, "bad xref subsection at byte \(p.position)")
            }
            p = probe
            for i in 0..<count {
                guard let o = Int(p.word()), Int(p.word()) != nil else { throw PDFError(.malformed, "bad xref entry (truncated?)") }
                let type = p.word()
                if type == "n" && o > 0 { entries.append((first + i, o)) }
                else if type != "f" && type != "n" { throw PDFError(.malformed, "bad xref entry type \(type)") }
            }
        }
        let trailer = try p.parseObject()
        guard trailer.dictionaryEntries != nil else { throw PDFError(.malformed, "the trailer is not a dictionary") }
        return (entries, trailer)
    }

    /// The object `n` (its newest revision), or null when it is not in the file.
    public func object(_ n: Int) throws(PDFError) -> PDFObject {
        guard let offset = offsets[n] else { return .null }
        var p = PDFParser(bytes, at: offset)
        guard Int(p.word()) == n, Int(p.word()) != nil else { throw PDFError(.malformed, "object \(n) is not at the offset its xref gives") }
        try p.expect("obj")
        return try p.parseObject()
    }

    /// `o` itself, or the object it refers to.
    public func resolve(_ o: PDFObject?) throws(PDFError) -> PDFObject {
        guard let o else { return .null }
        if let (n, _) = o.reference { return try object(n) }
        return o
    }

    /// The size the next update's trailer starts from.
    public var size: Int { max(trailer["Size"]?.integer ?? 0, (offsets.keys.max() ?? 0) + 1) }

    /// The first page (depth-first through /Pages /Kids).
    func firstPage() throws(PDFError) -> (Int, PDFObject) {
        let catalog = try resolve(trailer["Root"])
        var node = catalog["Pages"]
        for _ in 0..<64 {
            guard let (n, _) = node?.reference else { break }
            let object = try self.object(n)
            if object["Type"]?.name == "Page" { return (n, object) }
            node = object["Kids"]?.array?.first
        }
        throw PDFError(.malformed, "no page found through /Root /Pages")
    }

    /// Every signature field (`/FT /Sig` with a value) of the AcroForm, top-level fields and their kids.
    public func signatureFields() throws(PDFError) -> [(name: String, value: PDFObject)] {
        let catalog = try resolve(trailer["Root"])
        let form = try resolve(catalog["AcroForm"])
        var result: [(String, PDFObject)] = []
        var stack = (try resolve(form["Fields"])).array ?? []
        var guardCount = 0
        while !stack.isEmpty && guardCount < 100_000 {
            guardCount += 1
            let field = try resolve(stack.removeFirst())
            if let kids = try resolve(field["Kids"]).array { stack.append(contentsOf: kids) }
            if field["FT"]?.name == "Sig", let v = field["V"] {
                let value = try resolve(v)
                let name = field["T"]?.bytes.map { decodeText($0) } ?? "?"
                result.append((name, value))
            }
        }
        return result
    }
}

/// A PDF text string: UTF-16BE with a BOM, else PDFDocEncoding (read as Latin-1 here).
func decodeText(_ bytes: [UInt8]) -> String {
    if bytes.starts(with: [0xFE, 0xFF]) {
        let units = stride(from: 2, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        return String(decoding: units, as: UTF16.self)
    }
    return String(bytes.map { Character(Unicode.Scalar($0)) })
}

extension Array where Element == UInt8 {
    func lastRange(of needle: [UInt8]) -> Range<Int>? {
        guard needle.count <= count, !needle.isEmpty else { return nil }
        var i = count - needle.count
        while i >= 0 {
            if self[i] == needle[0] && Array(self[i..<(i + needle.count)]) == needle { return i..<(i + needle.count) }
            i -= 1
        }
        return nil
    }
}

extension PDFDocument {
    /// A one-page A4 PDF with lines of ASCII text in Helvetica (classic xref), for fixtures and demos.
    /// `padding` adds that many bytes of comment lines to the content stream (for benchmarks).
    public static func blank(lines: [String], padding: Int = 0) -> [UInt8] {
        func escape(_ s: String) -> String {
            String(s.unicodeScalars.map { $0.isASCII ? Character($0) : "?" }).replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "(", with: "\\(").replacingOccurrences(of: ")", with: "\\)")
        }
        var text = "BT /F1 14 Tf 72 770 Td 18 TL\n"
        for line in lines { text += "(\(escape(line))) Tj T*\n" }
        text += "ET\n"
        if padding > 0 {
            let line = "% " + String(repeating: "x", count: 76) + "\n"
            text += String(repeating: line, count: padding / line.utf8.count + 1)
        }
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            "<< /Length \(text.utf8.count) >>\nstream\n\(text)endstream",
        ]
        var out: [UInt8] = Array("%PDF-1.7\n%".utf8) + [0xE2, 0xE3, 0xCF, 0xD3, 0x0A]
        var offsets: [Int] = []
        for (i, body) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(i + 1) 0 obj\n\(body)\nendobj\n".utf8)
        }
        let xref = out.count
        var table = "xref\n0 \(objects.count + 1)\n0000000000 65535 f\r\n"
        for o in offsets { table += String(format: "%010d 00000 n\r\n", o) }
        table += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return out + Array(table.utf8)
    }
}
