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

    /// A valid date, or nil (e.g. 2023-02-29).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...Self.daysIn(year: year, month: month)).contains(day) else { return nil }
        self.year = year; self.month = month; self.day = day
    }

    /// Parses `YYYY-MM-DD` strictly.
    public init(iso text: String) throws(DomainError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              let date = LocalDate(year: y, month: m, day: d)
        else { throw .invalidInput("\"\(text)\" is not a date in the form YYYY-MM-DD (e.g. 1980-12-31)") }
        self = date
    }

    /// The day in Tokyo on which `instant` falls.
    public init(_ instant: Date) {
        let c = Self.tokyo.dateComponents([.year, .month, .day], from: instant)
        self.year = c.year!; self.month = c.month!; self.day = c.day!
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
        Self.tokyo.date(from: DateComponents(year: year, month: month, day: day, hour: 0, minute: 0, second: 0))!
    }

    /// 23:59:59 in Tokyo on this day: the notAfter of a certificate whose last valid day this is.
    public var endInTokyo: Date { startInTokyo.addingTimeInterval(86_399) }

    /// The same month and day `years` later; 29 February becomes 28 February in a common year
    /// (the rule `anniversary(in:)` documents).
    public func addingYears(_ years: Int) -> LocalDate {
        let y = year + years
        return LocalDate(year: y, month: month, day: min(day, Self.daysIn(year: y, month: month)))!
    }

    /// `months` calendar months earlier or later; a day past the end of the target month is clamped to its last day.
    public func addingMonths(_ months: Int) -> LocalDate {
        let index = year * 12 + (month - 1) + months
        let y = index / 12, m = index % 12 + 1
        return LocalDate(year: y, month: m, day: min(day, Self.daysIn(year: y, month: m)))!
    }

    public func addingDays(_ days: Int) -> LocalDate {
        LocalDate(Self.tokyo.date(byAdding: .day, value: days, to: startInTokyo.addingTimeInterval(43_200))!)
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
