import Foundation

/// Ages and birthdays, computed on calendar days in Asia/Tokyo.
///
/// 29 February: in a common year the birthday of a person born on 29 February is taken to be
/// 28 February, for the age and for every "n-th birthday" of the validity rules alike. It is the
/// last day of that February (民法 143条 ends a period that has no corresponding day on the last day
/// of the month), and it keeps a certificate from outliving its five years by a day.
public enum Birthday {
    /// The birthday of someone born on `birth` in `year`.
    public static func anniversary(of birth: LocalDate, in year: Int) -> LocalDate {
        birth.addingYears(year - birth.year)
    }

    /// Completed years of age on `date`.
    public static func age(of birth: LocalDate, on date: LocalDate) -> Int {
        let years = date.year - birth.year
        return anniversary(of: birth, in: date.year) <= date ? years : years - 1
    }

    /// 発行の日後のn回目の誕生日: the n-th birthday strictly after `date` (a birthday on the day of
    /// issuance itself is not "after" it).
    public static func nth(_ n: Int, of birth: LocalDate, after date: LocalDate) -> LocalDate {
        precondition(n >= 1)
        var year = date.year
        if anniversary(of: birth, in: year) <= date { year += 1 }
        return anniversary(of: birth, in: year + n - 1)
    }
}

/// The adult age in force on a date: 20 until 2022-03-31, 18 from 2022-04-01 (seed 004: 2022年4月1日、
/// 成人の基準が20歳から18歳に変わりました).
public enum AdultAge {
    public static let loweredOn = LocalDate(year: 2022, month: 4, day: 1)!

    public static func years(on date: LocalDate) -> Int { date < loweredOn ? 20 : 18 }

    public static func isAdult(birth: LocalDate, on date: LocalDate) -> Bool {
        Birthday.age(of: birth, on: date) >= years(on: date)
    }
}

/// Why a card or certificate ends when it does, for the answers the window gives.
public enum ValidityLimit: String, Sendable, Codable {
    case birthday
    case periodOfStay
    case card
    case authenticationCertificate
    /// A smartphone certificate ends with the card's certificate of the same kind (digest).
    case cardCertificate
}

/// A last valid day with the rule that chose it.
public struct LastValidDay: Sendable, Hashable, Codable {
    public let day: LocalDate
    public let limit: ValidityLimit
    public init(day: LocalDate, limit: ValidityLimit) { self.day = day; self.limit = limit }
    /// 23:59:59 JST of the last day.
    public var notAfter: Date { day.endInTokyo }
}

/// The validity rules of seed 004 (有効期限), in one place.
public enum ValidityRule {
    /// Card (マイナンバーカード): 10th birthday after issuance for adults, 5th for minors, by the adult
    /// age in force on the day of issuance (004); a foreign resident's card ends with the period of stay (000, 002).
    public static func card(birth: LocalDate, issuedOn: LocalDate, residenceUntil: LocalDate?) -> LastValidDay {
        let n = AdultAge.isAdult(birth: birth, on: issuedOn) ? 10 : 5
        let byBirthday = Birthday.nth(n, of: birth, after: issuedOn)
        if let stay = residenceUntil, stay < byBirthday { return LastValidDay(day: stay, limit: .periodOfStay) }
        return LastValidDay(day: byBirthday, limit: .birthday)
    }

    /// Certificate: 5th birthday after issuance, 6th when it is a renewal made with less than three
    /// months left (004); never after the card; a signing certificate never after the authentication
    /// certificate (digest); a foreign resident's never after the period of stay.
    public static func certificate(kind: CertificateKind, birth: LocalDate, issuedOn: LocalDate, renewal: Bool,
                                   card: LastValidDay, authentication: LastValidDay?, residenceUntil: LocalDate?) -> LastValidDay {
        var best = LastValidDay(day: Birthday.nth(renewal ? 6 : 5, of: birth, after: issuedOn), limit: .birthday)
        func bound(_ day: LocalDate, _ limit: ValidityLimit) { if day < best.day { best = LastValidDay(day: day, limit: limit) } }
        if let stay = residenceUntil { bound(stay, .periodOfStay) }
        bound(card.day, .card)
        if kind == .sign, let auth = authentication { bound(auth.day, .authenticationCertificate) }
        return best
    }
}

/// Who may hold a signing certificate (003, 004: 15歳未満の方は、署名用電子証明書の搭載はできません;
/// the digest: not adult wards). Every card holder may hold an authentication certificate.
public enum Eligibility {
    public static let signingMinimumAge = 15

    /// Nil when the holder may have the certificate, else why not.
    public static func refusal(for kind: CertificateKind, birth: LocalDate, adultWard: Bool, on date: LocalDate) -> String? {
        guard kind == .sign else { return nil }
        let age = Birthday.age(of: birth, on: date)
        if age < signingMinimumAge {
            return "no signing certificate: the holder is \(age), and signing certificates are not issued to under-15s (seeds 003, 004)"
        }
        if adultWard {
            return "no signing certificate: the holder is an adult ward (成年被後見人), who may not hold one (digest; seed 004)"
        }
        return nil
    }
}

/// The PIN (暗証番号) rules of each certificate (000–004).
public enum PINPolicy {
    /// Consecutive wrong PINs that lock the certificate: 5 for signing, 3 for authentication.
    public static func maxFailures(_ kind: CertificateKind) -> Int { kind == .sign ? 5 : 3 }

    /// Checks a PIN against the policy; the error says which rule it breaks.
    public static func validate(_ pin: String, for kind: CertificateKind) throws(DomainError) {
        switch kind {
        case .sign:
            let chars = Array(pin.unicodeScalars)
            guard (6...16).contains(chars.count) else {
                throw .invalidInput("the signing PIN must be 6 to 16 characters (it has \(chars.count))")
            }
            guard chars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) }) else {
                throw .invalidInput("the signing PIN may contain only upper-case letters A–Z and digits 0–9")
            }
            guard chars.contains(where: { ("A"..."Z").contains($0) }), chars.contains(where: { ("0"..."9").contains($0) }) else {
                throw .invalidInput("the signing PIN must mix letters and digits")
            }
        case .auth:
            guard pin.unicodeScalars.count == 4, pin.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) else {
                throw .invalidInput("the authentication PIN must be exactly 4 digits")
            }
        }
    }
}
