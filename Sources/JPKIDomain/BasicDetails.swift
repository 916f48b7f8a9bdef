import Foundation

/// 性別 as the signing certificate codes it.
public enum Sex: String, Sendable, Codable, CaseIterable {
    case male, female, unknown

    /// The certificate's code: `1` male, `2` female, `3` not known.
    public var code: String {
        switch self {
        case .male: "1"
        case .female: "2"
        case .unknown: "3"
        }
    }

    public init(parsing text: String) throws(DomainError) {
        guard let sex = Sex(rawValue: text.lowercased()) else {
            throw .invalidInput("sex must be male, female or unknown, not \"\(text)\"")
        }
        self = sex
    }
}

/// A text as the certificate carries it, with one substitution flag per character
/// (`1` where a character outside JIS X 0208 was replaced).
public struct CertificateText: Sendable, Hashable, Codable {
    public let value: String
    public let flags: String
    public var hasSubstitutions: Bool { flags.contains("1") }
    public init(value: String, flags: String) { self.value = value; self.flags = flags }
}

/// Characters the certificate may carry: JIS X 0208 (levels 1 and 2). Others are replaced by
/// 〓 (U+3013, the geta mark that Japanese systems print for a character they cannot show) and flagged.
public enum JISX0208 {
    public static let substitute: Character = "\u{3013}"
    private static let scalars: Set<UInt32> = Set(JISX0208Table.scalars)

    public static func contains(_ scalar: Unicode.Scalar) -> Bool { scalars.contains(scalar.value) }

    /// Replaces what is outside JIS X 0208 and returns the flags. A character made of several
    /// scalars (a base and a variation selector) counts as one and is replaced unless it is one JIS scalar.
    public static func substitute(_ text: String) -> CertificateText {
        var value = ""
        var flags = ""
        for character in text {
            let s = character.unicodeScalars
            if s.count == 1, contains(s.first!) {
                value.append(character); flags.append("0")
            } else {
                value.append(substitute); flags.append("1")
            }
        }
        return CertificateText(value: value, flags: flags)
    }

    /// ASCII letters, digits and symbols become their full-width forms (U+FF01–FF5E), which are in
    /// JIS X 0208 while ASCII is not; the hyphen-minus becomes U+FF0D, as in addresses `１－２－３`.
    public static func fullWidth(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { s in
            (0x21...0x7E).contains(s.value) ? Unicode.Scalar(s.value + 0xFEE0)! : s
        }))
    }
}

/// 氏名: surname and given name separated by one ideographic space (U+3000).
public enum NameRule {
    public static let maxLength = 100

    public static func normalize(_ input: String) throws(DomainError) -> CertificateText {
        let parts = input.split(whereSeparator: { $0 == " " || $0 == "\u{3000}" || $0 == "\t" })
        guard !parts.isEmpty else { throw .invalidInput("the name is empty") }
        let joined = parts.map { JISX0208.fullWidth(String($0)) }.joined(separator: "\u{3000}")
        guard joined.count <= maxLength else { throw .invalidInput("the name is longer than \(maxLength) characters") }
        return JISX0208.substitute(joined)
    }
}

/// 住所: from the prefecture on, no postal code, full-width digits and hyphens, 200 characters at most.
public enum AddressRule {
    public static let maxLength = 200

    public static func normalize(_ input: String) throws(DomainError) -> CertificateText {
        var text = input.trimmingCharacters(in: .whitespaces)
        // A leading postal code (〒123-4567 or 123-4567) is not part of the certificate's address.
        if let range = text.range(of: #"^〒?\s*[0-9０-９]{3}[-－ー]?[0-9０-９]{4}\s*"#, options: .regularExpression) {
            text.removeSubrange(range)
        }
        text = text.replacingOccurrences(of: " ", with: "\u{3000}")
        guard !text.isEmpty else { throw .invalidInput("the address is empty") }
        let full = JISX0208.fullWidth(text)
        guard full.count <= maxLength else {
            throw .invalidInput("the address is \(full.count) characters; the certificate holds at most \(maxLength)")
        }
        return JISX0208.substitute(full)
    }
}

/// 生年月日 coded as in the certificate: era digit then the Gregorian date, `EYYYYMMDD`.
public enum EraDate {
    /// Era digit by the first day of each era: 1 Meiji, 2 Taisho, 3 Showa, 4 Heisei, 5 Reiwa; 0 before Meiji.
    static let eras: [(LocalDate, Int)] = [
        (LocalDate(year: 2019, month: 5, day: 1)!, 5),
        (LocalDate(year: 1989, month: 1, day: 8)!, 4),
        (LocalDate(year: 1926, month: 12, day: 25)!, 3),
        (LocalDate(year: 1912, month: 7, day: 30)!, 2),
        (LocalDate(year: 1868, month: 10, day: 23)!, 1),
    ]

    public static func era(of date: LocalDate) -> Int {
        eras.first(where: { date >= $0.0 })?.1 ?? 0
    }

    public static func encode(_ date: LocalDate) -> String {
        "\(era(of: date))" + String(format: "%04d%02d%02d", date.year, date.month, date.day)
    }

    /// Reads `EYYYYMMDD` back, checking the era digit.
    public static func decode(_ text: String) -> LocalDate? {
        guard text.count == 9, text.allSatisfy(\.isASCII), let first = text.first?.wholeNumberValue else { return nil }
        let digits = Array(text.dropFirst())
        guard let y = Int(String(digits[0..<4])), let m = Int(String(digits[4..<6])), let d = Int(String(digits[6..<8])),
              let date = LocalDate(year: y, month: m, day: d), era(of: date) == first else { return nil }
        return date
    }
}
