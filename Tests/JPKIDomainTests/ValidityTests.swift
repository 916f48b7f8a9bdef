import Testing
@testable import JPKIDomain

private func d(_ s: String) -> LocalDate { try! LocalDate(iso: s) }

/// Table tests for the validity and eligibility rules; each row names the seed page it comes from.
struct ValidityTests {
    struct CertificateCase: CustomTestStringConvertible, Sendable {
        let label: String, seed: String, birth: String, issued: String, renewal: Bool, stay: String?
        let cardEnd: String, cardLimit: ValidityLimit, certEnd: String, certLimit: ValidityLimit
        var testDescription: String { "\(label) (\(seed))" }
    }

    static let certificateCases: [CertificateCase] = [
        .init(label: "adult: 5th birthday after issuance, card 10th", seed: "004", birth: "1980-12-31", issued: "2026-11-21",
              renewal: false, stay: nil, cardEnd: "2035-12-31", cardLimit: .birthday, certEnd: "2030-12-31", certLimit: .birthday),
        .init(label: "issued on the birthday: that birthday is not 'after' issuance", seed: "004", birth: "1980-11-21", issued: "2026-11-21",
              renewal: false, stay: nil, cardEnd: "2036-11-21", cardLimit: .birthday, certEnd: "2031-11-21", certLimit: .birthday),
        .init(label: "issued the day after the birthday", seed: "004", birth: "1980-11-20", issued: "2026-11-21",
              renewal: false, stay: nil, cardEnd: "2036-11-20", cardLimit: .birthday, certEnd: "2031-11-20", certLimit: .birthday),
        .init(label: "minor (17): card 5th birthday, certificate bounded by it", seed: "004", birth: "2009-06-01", issued: "2026-11-21",
              renewal: false, stay: nil, cardEnd: "2031-06-01", cardLimit: .birthday, certEnd: "2031-06-01", certLimit: .birthday),
        .init(label: "14-year-old: card 5th birthday", seed: "003/004", birth: "2012-01-10", issued: "2026-11-21",
              renewal: false, stay: nil, cardEnd: "2031-01-10", cardLimit: .birthday, certEnd: "2031-01-10", certLimit: .birthday),
        .init(label: "turned 19 in 2021: a minor under the adult age of 20 (card 5th birthday)", seed: "004", birth: "2002-03-01", issued: "2021-06-01",
              renewal: false, stay: nil, cardEnd: "2026-03-01", cardLimit: .birthday, certEnd: "2026-03-01", certLimit: .birthday),
        .init(label: "turned 19 in 2023: an adult under the adult age of 18 (card 10th birthday)", seed: "004", birth: "2004-03-01", issued: "2023-06-01",
              renewal: false, stay: nil, cardEnd: "2033-03-01", cardLimit: .birthday, certEnd: "2028-03-01", certLimit: .birthday),
        .init(label: "18 on 2022-03-31 is a minor", seed: "004", birth: "2003-06-01", issued: "2022-03-31",
              renewal: false, stay: nil, cardEnd: "2026-06-01", cardLimit: .birthday, certEnd: "2026-06-01", certLimit: .birthday),
        .init(label: "18 on 2022-04-01 is an adult", seed: "004", birth: "2003-06-01", issued: "2022-04-01",
              renewal: false, stay: nil, cardEnd: "2031-06-01", cardLimit: .birthday, certEnd: "2026-06-01", certLimit: .birthday),
        .init(label: "foreign resident whose stay ends first", seed: "000/002", birth: "1985-06-15", issued: "2026-11-21",
              renewal: false, stay: "2028-03-31", cardEnd: "2028-03-31", cardLimit: .periodOfStay, certEnd: "2028-03-31", certLimit: .periodOfStay),
        .init(label: "foreign resident whose stay ends after the birthday", seed: "000/002", birth: "1985-06-15", issued: "2026-11-21",
              renewal: false, stay: "2040-01-01", cardEnd: "2036-06-15", cardLimit: .birthday, certEnd: "2031-06-15", certLimit: .birthday),
        .init(label: "29 February: 28 February in a common year", seed: "digest; docs/profile.md", birth: "2000-02-29", issued: "2026-11-21",
              renewal: false, stay: nil, cardEnd: "2036-02-29", cardLimit: .birthday, certEnd: "2031-02-28", certLimit: .birthday),
        .init(label: "29 February: 29 February in a leap year", seed: "digest; docs/profile.md", birth: "2000-02-29", issued: "2027-11-21",
              renewal: false, stay: nil, cardEnd: "2037-02-28", cardLimit: .birthday, certEnd: "2032-02-29", certLimit: .birthday),
        .init(label: "renewal with under 3 months left: 6th birthday", seed: "004", birth: "1980-05-26", issued: "2027-03-01",
              renewal: true, stay: nil, cardEnd: "2036-05-26", cardLimit: .birthday, certEnd: "2032-05-26", certLimit: .birthday),
    ]

    @Test(arguments: certificateCases)
    func certificateValidity(_ c: CertificateCase) {
        let card = ValidityRule.card(birth: d(c.birth), issuedOn: d(c.issued), residenceUntil: c.stay.map(d))
        #expect(card.day == d(c.cardEnd))
        #expect(card.limit == c.cardLimit)
        let cert = ValidityRule.certificate(kind: .auth, birth: d(c.birth), issuedOn: d(c.issued), renewal: c.renewal, card: card,
                                            authentication: nil, residenceUntil: c.stay.map(d))
        #expect(cert.day == d(c.certEnd))
        #expect(cert.limit == c.certLimit)
    }

    @Test("the signing certificate never outlives the authentication certificate (digest)")
    func signingBoundedByAuthentication() {
        let card = LastValidDay(day: d("2035-01-01"), limit: .birthday)
        let auth = LastValidDay(day: d("2028-01-01"), limit: .birthday)
        let sign = ValidityRule.certificate(kind: .sign, birth: d("1980-12-31"), issuedOn: d("2026-11-21"), renewal: false,
                                            card: card, authentication: auth, residenceUntil: nil)
        #expect(sign.day == d("2028-01-01"))
        #expect(sign.limit == .authenticationCertificate)
        // The authentication certificate is not bounded by anything of the signing one.
        let authAgain = ValidityRule.certificate(kind: .auth, birth: d("1980-12-31"), issuedOn: d("2026-11-21"), renewal: false,
                                                 card: card, authentication: auth, residenceUntil: nil)
        #expect(authAgain.day == d("2030-12-31"))
    }

    @Test("the card bounds both certificates (000, 003)")
    func cardBoundsCertificates() {
        let card = LastValidDay(day: d("2027-01-01"), limit: .birthday)
        let cert = ValidityRule.certificate(kind: .auth, birth: d("1980-12-31"), issuedOn: d("2026-11-21"), renewal: false,
                                            card: card, authentication: nil, residenceUntil: nil)
        #expect(cert.day == d("2027-01-01"))
        #expect(cert.limit == .card)
    }

    @Test("notAfter is 23:59:59 JST of the last day")
    func notAfterIsEndOfDayInTokyo() {
        let end = LastValidDay(day: d("2030-12-31"), limit: .birthday).notAfter
        #expect(ISOTime.display(end) == "2030-12-31T23:59:59+09:00")
        #expect(ISOTime.storage(end) == "2030-12-31T14:59:59Z")
    }

    struct EligibilityCase: Sendable, CustomTestStringConvertible {
        let label: String, seed: String, birth: String, on: String, adultWard: Bool, eligible: Bool
        var testDescription: String { "\(label) (\(seed))" }
    }

    static let eligibilityCases: [EligibilityCase] = [
        .init(label: "adult", seed: "004", birth: "1980-12-31", on: "2026-11-21", adultWard: false, eligible: true),
        .init(label: "14-year-old", seed: "003/004", birth: "2012-01-10", on: "2026-11-21", adultWard: false, eligible: false),
        .init(label: "the day before the 15th birthday", seed: "003/004", birth: "2011-11-22", on: "2026-11-21", adultWard: false, eligible: false),
        .init(label: "the 15th birthday", seed: "003/004", birth: "2011-11-21", on: "2026-11-21", adultWard: false, eligible: true),
        .init(label: "adult ward", seed: "digest/004", birth: "1970-01-01", on: "2026-11-21", adultWard: true, eligible: false),
        .init(label: "born 29 Feb, 15 on 28 Feb of a common year", seed: "docs/profile.md", birth: "2012-02-29", on: "2027-02-28", adultWard: false, eligible: true),
        .init(label: "born 29 Feb, 14 on 27 Feb of a common year", seed: "docs/profile.md", birth: "2012-02-29", on: "2027-02-27", adultWard: false, eligible: false),
    ]

    @Test(arguments: eligibilityCases)
    func signingEligibility(_ c: EligibilityCase) {
        let refusal = Eligibility.refusal(for: .sign, birth: d(c.birth), adultWard: c.adultWard, on: d(c.on))
        #expect((refusal == nil) == c.eligible, "\(refusal ?? "eligible")")
        // Everyone with a card may hold an authentication certificate.
        #expect(Eligibility.refusal(for: .auth, birth: d(c.birth), adultWard: c.adultWard, on: d(c.on)) == nil)
    }

    @Test func ageAndNthBirthday() {
        #expect(Birthday.age(of: d("1980-12-31"), on: d("2026-12-30")) == 45)
        #expect(Birthday.age(of: d("1980-12-31"), on: d("2026-12-31")) == 46)
        #expect(Birthday.nth(1, of: d("1980-12-31"), after: d("2026-12-31")) == d("2027-12-31"))
        #expect(Birthday.nth(1, of: d("1980-12-31"), after: d("2026-12-30")) == d("2026-12-31"))
    }
}

struct PINPolicyTests {
    @Test(arguments: ["ABC123", "A1B2C3D4E5F6G7H8", "1A2B3C"])
    func validSigningPINs(_ pin: String) throws { try PINPolicy.validate(pin, for: .sign) }

    @Test(arguments: ["ABC12", "A1B2C3D4E5F6G7H8X", "abc123", "ABCDEF", "123456", "ABC 123", "ＡＢＣ１２３"])
    func invalidSigningPINs(_ pin: String) {
        #expect(throws: DomainError.self) { try PINPolicy.validate(pin, for: .sign) }
    }

    @Test(arguments: ["0000", "1234"])
    func validAuthPINs(_ pin: String) throws { try PINPolicy.validate(pin, for: .auth) }

    @Test(arguments: ["123", "12345", "12a4", "１２３４", ""])
    func invalidAuthPINs(_ pin: String) {
        #expect(throws: DomainError.self) { try PINPolicy.validate(pin, for: .auth) }
    }

    @Test("locks after 5 (signing) and 3 (authentication) failures (004)")
    func lockThresholds() {
        #expect(PINPolicy.maxFailures(.sign) == 5)
        #expect(PINPolicy.maxFailures(.auth) == 3)
    }
}
