import Foundation

/// A calendar day in Japan (Asia/Tokyo), with no time of day: a date of birth, a last valid day.
public struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// The calendar every date rule uses: Gregorian, Asia/Tokyo.
    public static let tokyo: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        return calendar
    }()

    /// A valid date, or nil (e.g. 2023-02-29, or a year outside 1...9999).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...Self.daysIn(year: year, month: month)).contains(day) else { return nil }
        self.year = year; self.month = month; self.day = day
    }

    /// A date already known to be a real calendar day (month 1–12, day within the month); the year may
    /// lie outside 1...9999 so that arithmetic far from the supported range (`SupportedDates`) never traps.
    private init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year; self.month = month; self.day = day
    }

    /// Parses `YYYY-MM-DD` strictly: four, two and two ASCII digits (no sign, no spaces).
    public init(iso text: String) throws(DomainError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }),
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              let date = LocalDate(year: y, month: m, day: d)
        else { throw .invalidInput("\"\(text)\" is not a date in the form YYYY-MM-DD (e.g. 1980-12-31)") }
        self = date
    }

    /// The day in Tokyo on which `instant` falls (Japan Standard Time, UTC+9, as the calendar's time zone says).
    public init(_ instant: Date) {
        let c = Self.tokyo.dateComponents([.era, .year, .month, .day], from: instant)
        if c.era == 1, let y = c.year, let m = c.month, let d = c.day, LocalDate(year: y, month: m, day: d) != nil {
            self.init(unchecked: y, m, d)
        } else {
            // Far outside the supported range Foundation may give no components: count days at UTC+9.
            let seconds = instant.timeIntervalSince1970 + 9 * 3600
            let days = seconds.isFinite ? Int(max(min((seconds / 86_400).rounded(.down), 1e12), -1e12)) : 0
            self = LocalDate(daysSince1970: days)
        }
    }

    /// The day `days` after 1970-01-01 on the proleptic Gregorian calendar (H. Hinnant's civil_from_days).
    public init(daysSince1970 days: Int) {
        let z = days &+ 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z &- era &* 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(unchecked: yoe &+ era &* 400 &+ (m <= 2 ? 1 : 0), m, d)
    }

    /// Days since 1970-01-01 (negative before), the inverse of `init(daysSince1970:)`.
    public var daysSince1970: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era &* 146_097 &+ doe &- 719_468
    }

    public static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    public static func < (a: LocalDate, b: LocalDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// 00:00:00 in Tokyo on this day.
    public var startInTokyo: Date {
        if let date = Self.tokyo.date(from: DateComponents(year: year, month: month, day: day, hour: 0, minute: 0, second: 0)),
           LocalDate(date) == self {
            return date
        }
        // Outside what Foundation's calendar computes: midnight at UTC+9, by counting days.
        return Date(timeIntervalSince1970: Double(daysSince1970) * 86_400 - 9 * 3600)
    }

    /// 23:59:59 in Tokyo on this day: the notAfter of a certificate whose last valid day this is.
    public var endInTokyo: Date { startInTokyo.addingTimeInterval(86_399) }

    /// The same month and day `years` later; 29 February becomes 28 February in a common year
    /// (the rule `anniversary(in:)` documents).
    public func addingYears(_ years: Int) -> LocalDate {
        let y = year &+ years
        return LocalDate(unchecked: y, month, min(day, Self.daysIn(year: y, month: month)))
    }

    /// `months` calendar months earlier or later; a day past the end of the target month is clamped to its last day.
    public func addingMonths(_ months: Int) -> LocalDate {
        let index = year &* 12 &+ (month - 1) &+ months
        let y = index >= 0 ? index / 12 : (index - 11) / 12
        let m = index - y * 12 + 1
        return LocalDate(unchecked: y, m, min(day, Self.daysIn(year: y, month: m)))
    }

    public func addingDays(_ days: Int) -> LocalDate {
        LocalDate(daysSince1970: daysSince1970 &+ days)
    }
}

/// Where "now" comes from. The domain never reads the system clock itself.
public protocol SandboxClock: Sendable {
    func now() -> Date
}

/// A clock that always reads the same instant (tests, `--at`).
public struct FixedClock: SandboxClock {
    public let instant: Date
    public init(_ instant: Date) { self.instant = instant }
    public func now() -> Date { instant }
}

/// Real time moved by a fixed offset (the persisted sandbox clock).
public struct OffsetClock: SandboxClock {
    public let offset: TimeInterval
    public init(offset: TimeInterval) { self.offset = offset }
    public func now() -> Date { Date().addingTimeInterval(offset) }
}

/// ISO 8601 instants as the sandbox stores and prints them.
public enum ISOTime {
    /// Stored form: UTC with `Z`, sortable as text.
    public static func storage(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
    }

    /// Printed form: Asia/Tokyo with offset, e.g. `2031-05-26T23:59:59+09:00`.
    public static func display(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Tokyo")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx"
        return f.string(from: date)
    }

    /// Parses what users type for `--at` and the clock: `YYYY-MM-DD` (00:00 in Tokyo) or a full
    /// ISO 8601 date-time with an offset or `Z`.
    public static func parse(_ text: String) throws(DomainError) -> Date {
        if text.count == 10, let day = try? LocalDate(iso: text) { return day.startInTokyo }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        throw .invalidInput("\"\(text)\" is not an ISO 8601 date (2027-02-27) or date-time with offset (2027-02-27T10:00:00+09:00)")
    }
}
