import Foundation

/// The dates the sandbox accepts. Every date it takes in lies where every computation made from it stays a
/// real date that X.509 can encode, so nothing downstream has to cope with an impossible one:
///
/// - **The sandbox clock** (`--at`, `clock set`, `clock advance`) and the other days it is given (a foreign
///   resident's `--residence-until`): from 1950-01-01 00:00 to 8999-12-31 23:59:59, Asia/Tokyo.
///   RFC 5280 §4.1.2.5 writes certificate times through 2049 as UTCTime, which starts in 1950; the upper
///   bound leaves room for everything computed forward from "now" (a root's 20 years, a card's 10th
///   birthday, a certificate's 5th, CRL and OCSP windows) inside GeneralizedTime's four-digit years.
/// - **Dates of birth**: from 1900-01-01 (and, as `ResidentApplication` says, not after today). Ages and
///   anniversaries are computed from them forward only.
public enum SupportedDates {
    public static let earliestBirth = LocalDate(daysSince1970: -25_567)          // 1900-01-01
    public static let firstDay = LocalDate(daysSince1970: -7_305)                // 1950-01-01
    public static let lastDay = LocalDate(daysSince1970: 2_567_654)              // 8999-12-31

    /// The instants the sandbox clock may read: 1950-01-01T00:00:00+09:00 up to, not including, 9000-01-01T00:00:00+09:00.
    public static var instants: Range<Date> { firstDay.startInTokyo..<lastDay.addingDays(1).startInTokyo }

    /// `date` when the sandbox clock may read it; else a `bad-date` error naming `what` (e.g. `--at`).
    public static func instant(_ date: Date, what: String) throws(DomainError) -> Date {
        guard date.timeIntervalSince1970.isFinite, instants.contains(date) else {
            throw .badDate("\(what) must lie between \(firstDay) and \(lastDay) (Asia/Tokyo), the range the sandbox computes with")
        }
        return date
    }

    /// `day` when it lies in the sandbox's range of days; else a `bad-date` error naming `what`.
    public static func day(_ day: LocalDate, what: String) throws(DomainError) -> LocalDate {
        guard (firstDay...lastDay).contains(day) else {
            throw .badDate("\(what) \(day) is outside the supported range \(firstDay) to \(lastDay)")
        }
        return day
    }

    /// Parses a date of birth (`YYYY-MM-DD`) and checks it lies from 1900-01-01 on and not after `today`.
    public static func birth(parsing text: String, today: LocalDate) throws(DomainError) -> LocalDate {
        let dob = try LocalDate(iso: text)
        guard dob >= earliestBirth else {
            throw .badDate("the date of birth \(dob) is before \(earliestBirth), the earliest the sandbox accepts")
        }
        guard dob <= today else { throw .invalidInput("the date of birth \(dob) is after today (\(today))") }
        return dob
    }
}
