import Foundation

/// Signing a PDF by an incremental update (ISO 32000-1 §7.5.6, §12.8): the original bytes stay as
/// they are, so earlier signatures keep verifying, and the update adds a signature dictionary, a
/// signature field merged with its (invisible) widget annotation, the first page with the widget in
/// /Annots, and the AcroForm with the field and /SigFlags 3.
public enum PDFSignature {
    public struct Options: Sendable {
        /// `/Filter`: `Adobe.PPKLite` (any reader), or `MOJSignDoc` (the Ministry of Justice plug-in's name).
        public var filter: String
        /// `/SubFilter`: `adbe.pkcs7.detached`, or `ETSI.CAdES.detached` for PAdES.
        public var subFilter: String
        /// `/M`, the signing time in the dictionary.
        public var signingTime: Date
        /// Bytes reserved for the CMS in /Contents.
        public var reserved: Int
        public init(filter: String = "Adobe.PPKLite", subFilter: String = "adbe.pkcs7.detached", signingTime: Date, reserved: Int = 16384) {
            self.filter = filter; self.subFilter = subFilter; self.signingTime = signingTime; self.reserved = reserved
        }
    }

    /// Appends a signature to `pdf`. `sign` gets the bytes the ByteRange covers and returns the DER
    /// CMS to embed. Returns the whole new file and the field's name.
    public static func sign(_ pdf: [UInt8], options: Options, sign: ([UInt8]) throws -> [UInt8]) throws -> (pdf: [UInt8], field: String) {
        let doc = try PDFDocument(bytes: pdf)
        guard let (rootNumber, _) = doc.trailer["Root"]?.reference else { throw PDFError(.malformed, "the trailer has no /Root") }
        var catalog = try doc.object(rootNumber)
        guard catalog.dictionaryEntries != nil else { throw PDFError(.malformed, "/Root is not a dictionary") }
        let (pageNumber, pageObject) = try doc.firstPage()
        var page = pageObject
        if case .stream = page { throw PDFError(.malformed, "the page object is a stream") }

        var nextNumber = doc.size
        func allocate() -> Int { defer { nextNumber += 1 }; return nextNumber }
        let sigNumber = allocate(), widgetNumber = allocate()
        var updated: [(Int, String)] = []   // object number → body (dictionary or array text)

        // The field name: Signature1, Signature2, … not used yet.
        let taken = Set(try doc.signatureFields().map(\.name))
        var i = 1
        while taken.contains("Signature\(i)") { i += 1 }
        let fieldName = "Signature\(i)"

        // /Annots of the first page (inline array, or an array object of its own).
        let widgetRef = PDFObject.reference(widgetNumber, 0)
        if let (annotsNumber, _) = page["Annots"]?.reference {
            let annots = (try doc.object(annotsNumber)).array ?? []
            updated.append((annotsNumber, PDFObject.array(annots + [widgetRef]).serialized()))
        } else {
            page = page.setting("Annots", .array((page["Annots"]?.array ?? []) + [widgetRef]))
            updated.append((pageNumber, page.serialized()))
        }

        // The AcroForm: inline in the catalog, or an object of its own; its /Fields likewise.
        let formEntry = catalog["AcroForm"]
        var form = try doc.resolve(formEntry)
        if form.dictionaryEntries == nil { form = .dictionary([]) }
        if let (fieldsNumber, _) = form["Fields"]?.reference {
            let fields = (try doc.object(fieldsNumber)).array ?? []
            updated.append((fieldsNumber, PDFObject.array(fields + [widgetRef]).serialized()))
        } else {
            form = form.setting("Fields", .array((form["Fields"]?.array ?? []) + [widgetRef]))
        }
        form = form.setting("SigFlags", .integer(3))
        if let (formNumber, _) = formEntry?.reference {
            updated.append((formNumber, form.serialized()))
        } else {
            catalog = catalog.setting("AcroForm", form)
            updated.append((rootNumber, catalog.serialized()))
        }

        let widget = PDFObject.dictionary([
            ("Type", .name("Annot")), ("Subtype", .name("Widget")), ("FT", .name("Sig")), ("T", .string(Array(fieldName.utf8))),
            ("V", .reference(sigNumber, 0)), ("P", .reference(pageNumber, 0)), ("Rect", .array([.integer(0), .integer(0), .integer(0), .integer(0)])),
            ("F", .integer(132)),
        ])
        updated.append((widgetNumber, widget.serialized()))

        // The signature dictionary, with fixed-width placeholders for /ByteRange and /Contents.
        let byteRangePlaceholder = "[0 0000000000 0000000000 0000000000]"
        let contentsPlaceholder = "<" + String(repeating: "0", count: options.reserved * 2) + ">"
        let sigBody = "<< /Type /Sig /Filter /\(options.filter) /SubFilter /\(options.subFilter) /ByteRange \(byteRangePlaceholder) /Contents \(contentsPlaceholder) /M \(PDFObject.string(Array(pdfDate(options.signingTime).utf8)).serialized()) >>"

        var out = pdf
        if let last = out.last, last != 10 && last != 13 { out.append(10) }
        var xref: [(Int, Int)] = []
        var sigOffset = 0
        for (number, body) in updated + [(sigNumber, sigBody)] {
            xref.append((number, out.count))
            if number == sigNumber { sigOffset = out.count }
            out += Array("\(number) 0 obj\n\(body)\nendobj\n".utf8)
        }
        let xrefOffset = out.count
        var table = "xref\n"
        for (number, offset) in xref.sorted(by: { $0.0 < $1.0 }) {
            table += "\(number) 1\n" + String(format: "%010d 00000 n\r\n", offset)
        }
        var trailer: [(String, PDFObject)] = [("Size", .integer(nextNumber)), ("Root", .reference(rootNumber, 0)), ("Prev", .integer(doc.startXref))]
        if let info = doc.trailer["Info"] { trailer.append(("Info", info)) }
        if let id = doc.trailer["ID"] { trailer.append(("ID", id)) }
        table += "trailer\n\(PDFObject.dictionary(trailer).serialized())\nstartxref\n\(xrefOffset)\n%%EOF\n"
        out += Array(table.utf8)

        // Patch the byte range, then sign what it covers.
        let sigText = Array(out[sigOffset...])
        guard let br = sigText.firstRange(of: Array(byteRangePlaceholder.utf8)),
              let ct = sigText.firstRange(of: Array(contentsPlaceholder.utf8)) else { throw PDFError(.malformed, "placeholder lost") }
        let contentsStart = sigOffset + ct.lowerBound, contentsEnd = sigOffset + ct.upperBound
        var range = "[0 \(contentsStart) \(contentsEnd) \(out.count - contentsEnd)]"
        range += String(repeating: " ", count: byteRangePlaceholder.count - range.count)
        out.replaceSubrange((sigOffset + br.lowerBound)..<(sigOffset + br.upperBound), with: Array(range.utf8))
        let signed = Array(out[0..<contentsStart]) + Array(out[contentsEnd...])
        let cms = try sign(signed)
        guard cms.count <= options.reserved else { throw PDFError(.unsupported, "the signature (\(cms.count) bytes) does not fit the \(options.reserved) bytes reserved") }
        let hex = Array(cms.map { hex2($0) }.joined().utf8)
        out.replaceSubrange((contentsStart + 1)..<(contentsStart + 1 + hex.count), with: hex)
        return (out, fieldName)
    }

    /// "D:YYYYMMDDHHmmSS+09'00'" in Japan time.
    static func pdfDate(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Tokyo")
        f.dateFormat = "yyyyMMddHHmmss"
        return "D:" + f.string(from: date) + "+09'00'"
    }

    /// An embedded signature as found in the file.
    public struct Embedded: Sendable {
        public let field: String
        public let filter: String?
        public let subFilter: String?
        public let byteRange: [Int]
        /// The DER CMS (the zero padding of /Contents removed).
        public let cms: [UInt8]
        /// The bytes the byte range covers.
        public let signedBytes: [UInt8]
        /// Whether the byte range covers the whole file (false: later incremental updates follow).
        public let coversWholeFile: Bool
        /// `/M`, if present and readable.
        public let signingTime: Date?
    }

    /// Every signature of the AcroForm, with its byte range checked for shape: it must start at 0,
    /// leave out exactly the /Contents hex string, and stay inside the file.
    public static func embedded(in pdf: [UInt8]) throws(PDFError) -> [Embedded] {
        let doc = try PDFDocument(bytes: pdf)
        var result: [Embedded] = []
        for (name, value) in try doc.signatureFields() {
            let range = value["ByteRange"]?.array?.compactMap(\.integer) ?? []
            guard range.count == 4, range[0] == 0, range[1] > 0, range[2] > range[1], range[3] >= 0, range[2] + range[3] <= pdf.count,
                  pdf[range[1]] == UInt8(ascii: "<"), pdf[range[2] - 1] == UInt8(ascii: ">") else {
                throw PDFError(.malformed, "the signature \(name) has a /ByteRange \(range) that does not fit the file (truncated or damaged)")
            }
            guard let contents = value["Contents"]?.bytes else { throw PDFError(.malformed, "the signature \(name) has no /Contents") }
            let signed = Array(pdf[0..<range[1]]) + Array(pdf[range[2]..<(range[2] + range[3])])
            result.append(Embedded(field: name, filter: value["Filter"]?.name, subFilter: value["SubFilter"]?.name, byteRange: range,
                                   cms: stripPadding(contents), signedBytes: signed, coversWholeFile: range[2] + range[3] == pdf.count,
                                   signingTime: value["M"]?.bytes.flatMap { parseDate(String(decoding: $0, as: UTF8.self)) }))
        }
        return result
    }

    /// The DER element at the start of `bytes` (the rest is /Contents padding).
    static func stripPadding(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == 0x30 else { return bytes }
        let first = Int(bytes[1])
        if first < 0x80 { return Array(bytes.prefix(2 + first)) }
        let n = first & 0x7F
        guard n >= 1, n <= 4, bytes.count >= 2 + n else { return bytes }
        let length = bytes[2..<(2 + n)].reduce(0) { $0 << 8 | Int($1) }
        return Array(bytes.prefix(2 + n + length))
    }

    /// A PDF date "D:YYYYMMDDHHmmSS+HH'mm'" (or Z, or no zone = UTC).
    static func parseDate(_ text: String) -> Date? {
        var s = Substring(text)
        if s.hasPrefix("D:") { s = s.dropFirst(2) }
        let digits = s.prefix { $0.isNumber }
        guard digits.count >= 14 else { return nil }
        var c = DateComponents()
        let d = Array(digits)
        func num(_ a: Int, _ b: Int) -> Int { Int(String(d[a..<b]))! }
        c.year = num(0, 4); c.month = num(4, 6); c.day = num(6, 8); c.hour = num(8, 10); c.minute = num(10, 12); c.second = num(12, 14)
        var offset = 0
        let rest = s.dropFirst(digits.count)
        if let sign = rest.first, sign == "+" || sign == "-" {
            let parts = rest.dropFirst().split(separator: "'").map { Int($0) ?? 0 }
            offset = ((parts.first ?? 0) * 3600 + (parts.count > 1 ? parts[1] : 0) * 60) * (sign == "-" ? -1 : 1)
        }
        c.timeZone = TimeZone(secondsFromGMT: offset)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(secondsFromGMT: 0)!
        return cal.date(from: c)
    }
}
