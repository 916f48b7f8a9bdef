import Foundation
import Testing
@testable import JPKIDomain

/// Issue 8 item 6: one supported range of dates, and date arithmetic that cannot trap.
struct SupportedDatesTests {
    private func d(_ s: String) throws -> LocalDate { try LocalDate(iso: s) }

    @Test("the range's ends are the documented days")
    func ends() throws {
        #expect(SupportedDates.earliestBirth == (try d("1900-01-01")))
        #expect(SupportedDates.firstDay == (try d("1950-01-01")))
        #expect(SupportedDates.lastDay == (try d("8999-12-31")))
        #expect(ISOTime.display(SupportedDates.instants.lowerBound) == "1950-01-01T00:00:00+09:00")
        #expect(ISOTime.display(SupportedDates.instants.upperBound) == "9000-01-01T00:00:00+09:00")
    }

    @Test("instants outside 1950-01-01 … 8999-12-31 (Tokyo) are refused with bad-date")
    func instants() throws {
        let inside = [try d("1950-01-01").startInTokyo, try d("8999-12-31").endInTokyo, Date(timeIntervalSince1970: 1_800_000_000)]
        for date in inside { #expect(throws: Never.self) { try SupportedDates.instant(date, what: "--at") } }
        let outside = [try d("1949-12-31").endInTokyo, try d("9000-01-01").startInTokyo, try d("9998-12-30").startInTokyo,
                       Date(timeIntervalSince1970: 1e12), Date.distantPast, Date(timeIntervalSince1970: .infinity)]
        for date in outside {
            #expect(throws: DomainError.self) { try SupportedDates.instant(date, what: "--at") }
            do { _ = try SupportedDates.instant(date, what: "--at") } catch { #expect((error as Any as? DomainError)?.code == "bad-date") }
        }
    }

    @Test("dates of birth: from 1900-01-01, not after today, strictly YYYY-MM-DD")
    func births() throws {
        let today = try d("2026-11-21")
        #expect(try SupportedDates.birth(parsing: "1900-01-01", today: today) == (try d("1900-01-01")))
        #expect(try SupportedDates.birth(parsing: "2026-11-21", today: today) == today)
        for (text, code) in [("1899-12-31", "bad-date"), ("1800-01-01", "bad-date"), ("2026-11-22", "invalid-input"),
                             ("+980-12-31", "invalid-input"), ("-980-12-31", "invalid-input"), (" 980-12-31", "invalid-input"),
                             ("１９８０-12-31", "invalid-input"), ("0000-01-01", "invalid-input")] {
            do {
                _ = try SupportedDates.birth(parsing: text, today: today)
                Issue.record("\(text) was accepted")
            } catch { #expect((error as Any as? DomainError)?.code == code, "\(text): \(error)") }
        }
    }

    @Test("LocalDate is total: arithmetic past year 9999 or before year 1 gives a value, never a trap")
    func total() throws {
        let late = try d("9998-12-30")
        #expect(late.addingYears(10).year == 10008)
        #expect(late.addingMonths(25).description == "10001-01-30")
        #expect(late.addingDays(400).year == 10000)
        #expect(try d("0001-01-01").addingDays(-1).description == "0000-12-31")
        #expect(try d("0001-03-15").addingMonths(-3).month == 12)
        _ = late.addingYears(10).startInTokyo
        _ = late.addingYears(10).endInTokyo
        _ = LocalDate(Date.distantFuture)
        _ = LocalDate(Date.distantPast)
        _ = LocalDate(Date(timeIntervalSince1970: 1e18))
        _ = LocalDate(Date(timeIntervalSince1970: -.infinity))
    }

    @Test("day counting agrees with the calendar over the supported range")
    func dayCounting() throws {
        #expect(LocalDate(daysSince1970: 0).description == "1970-01-01")
        #expect(try d("2000-02-29").daysSince1970 == 11_016)
        var day = try d("1899-12-25")
        for step in 0..<4000 {
            let next = day.addingDays(1 + step % 97 * 14)
            #expect(LocalDate(daysSince1970: next.daysSince1970) == next)
            #expect(LocalDate(next.startInTokyo) == next, "\(next)")
            day = next
        }
        #expect(day.year > 8000)
    }
}
