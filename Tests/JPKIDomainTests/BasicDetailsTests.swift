import DERKit
import Foundation
import Testing
@testable import JPKIDomain

struct BasicDetailsTests {
    @Test("names: an ASCII or ideographic space becomes one U+3000")
    func nameSpaces() throws {
        #expect(try NameRule.normalize("山田 太郎").value == "山田\u{3000}太郎")
        #expect(try NameRule.normalize("山田\u{3000}太郎").value == "山田\u{3000}太郎")
        #expect(try NameRule.normalize("  山田   太郎 ").value == "山田\u{3000}太郎")
        #expect(try NameRule.normalize("山田 太郎").flags == "00000")
    }

    @Test("characters outside JIS X 0208 are replaced and flagged")
    func substitution() throws {
        let n = try NameRule.normalize("髙橋 𠮷子")
        #expect(n.value == "〓橋\u{3000}〓子")
        #expect(n.flags == "10010")
        #expect(n.hasSubstitutions)
        // Variation sequences count as one character and are replaced.
        #expect(try NameRule.normalize("葛\u{E0100}飾 花子").flags == "10000")
        // Latin letters become full-width, which JIS X 0208 has.
        let latin = try NameRule.normalize("SMITH John")
        #expect(latin.value == "ＳＭＩＴＨ\u{3000}Ｊｏｈｎ")
        #expect(!latin.hasSubstitutions)
    }

    @Test func emptyName() {
        #expect(throws: DomainError.self) { try NameRule.normalize("   ") }
    }

    @Test("addresses: full-width digits and hyphens, no postal code, 200 characters at most")
    func addresses() throws {
        let a = try AddressRule.normalize("〒350-8601 埼玉県川越市元町1-3-1")
        #expect(a.value == "埼玉県川越市元町１－３－１")
        #expect(a.flags == String(repeating: "0", count: a.value.count))
        #expect(try AddressRule.normalize("東京都板橋区板橋2丁目66番1号").value == "東京都板橋区板橋２丁目６６番１号")
        let long = "東京都板橋区" + String(repeating: "板", count: 194)
        #expect(try AddressRule.normalize(long).value.count == 200)
        #expect(throws: DomainError.self) { try AddressRule.normalize(long + "板") }
    }

    @Test("date of birth as EYYYYMMDD with the era in force (1 Meiji … 5 Reiwa)")
    func eraCoding() {
        let cases: [(String, String)] = [
            ("1980-12-31", "319801231"), ("1989-01-07", "319890107"), ("1989-01-08", "419890108"),
            ("2019-04-30", "420190430"), ("2019-05-01", "520190501"), ("1926-12-24", "219261224"),
            ("1926-12-25", "319261225"), ("1912-07-29", "119120729"), ("1912-07-30", "219120730"),
        ]
        for (date, coded) in cases {
            #expect(EraDate.encode(try! LocalDate(iso: date)) == coded, "\(date)")
            #expect(EraDate.decode(coded) == (try! LocalDate(iso: date)))
        }
        #expect(EraDate.decode("519801231") == nil, "wrong era digit")
    }

    @Test(arguments: ["2023-02-29", "1980/12/31", "80-1-1", "1980-13-01", "", "1980-12-31T00:00"])
    func malformedDates(_ text: String) {
        #expect(throws: DomainError.self) { try LocalDate(iso: text) }
    }

    @Test func isoTimes() throws {
        #expect(ISOTime.display(try ISOTime.parse("2027-02-27")) == "2027-02-27T00:00:00+09:00")
        #expect(ISOTime.storage(try ISOTime.parse("2027-02-27T10:00:00+09:00")) == "2027-02-27T01:00:00Z")
        #expect(throws: DomainError.self) { try ISOTime.parse("27/02/2027") }
    }

    @Test func sexCodes() throws {
        #expect(try Sex(parsing: "male").code == "1")
        #expect(try Sex(parsing: "Female").code == "2")
        #expect(try Sex(parsing: "unknown").code == "3")
        #expect(throws: DomainError.self) { try Sex(parsing: "m") }
    }
}

struct MunicipalityTableTests {
    static let table: MunicipalityTable = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ca-config/municipalities.json")
        return try! MunicipalityTable(json: Data(contentsOf: url))
    }()

    @Test("all 47 prefectures, the 23 wards and the seed pages' municipalities")
    func coverage() throws {
        #expect(Self.table.prefectures.count == 47)
        let tokyo = Self.table.prefectures.first { $0.name == "東京都" }!
        #expect(tokyo.municipalities.filter { $0.name.hasSuffix("区") }.count == 23)
        for (address, romanized) in [("埼玉県川越市元町", "Kawagoe-shi"), ("千葉県習志野市鷺沼", "Narashino-shi"),
                                     ("静岡県沼津市御幸町", "Numazu-shi"), ("東京都板橋区板橋", "Itabashi-ku"), ("東京都町田市森野", "Machida-shi")] {
            #expect(try Self.table.locate(address).municipality.romanized == romanized)
        }
    }

    @Test func unknownAddresses() {
        do {
            _ = try Self.table.locate("埼玉県存在しない市1-1", tableHint: "HINT.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("HINT.json"), "the error says how to extend the table")
        }
        #expect(throws: DomainError.self) { try Self.table.locate("川越市元町1-3-1") }
    }
}
