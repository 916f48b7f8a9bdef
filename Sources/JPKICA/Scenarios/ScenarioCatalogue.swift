import Foundation
import JPKIDomain

/// The named scenarios: whole test identities in known states, made by sequencing the CA services
/// (docs/scenarios.md). The catalogue holds what each is; `Sandbox+Scenarios.swift` makes them.
public enum ScenarioCatalogue {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let description: String
        public let descriptionJa: String
        /// For scenarios that act in the past: their certificates' last valid day, in days from today
        /// (negative: already over). The card is issued five years before that day (docs/scenarios.md).
        let lastValidDayFromToday: Int?
    }

    public static let entries: [Entry] = [
        Entry(name: "good-adult", description: "An adult with a card and both certificates good.",
              descriptionJa: "署名用・利用者証明用電子証明書がともに有効な成人", lastValidDayFromToday: nil),
        Entry(name: "minor", description: "A 10-year-old, applied for by a legal representative: the authentication certificate only (no signing certificate under 15).",
              descriptionJa: "15歳未満（法定代理人が申請）：利用者証明用電子証明書のみ", lastValidDayFromToday: nil),
        Entry(name: "adult-ward", description: "An adult ward: the authentication certificate only (no signing certificate).",
              descriptionJa: "成年被後見人：利用者証明用電子証明書のみ", lastValidDayFromToday: nil),
        Entry(name: "foreign-resident", description: "A foreign resident whose period of stay ends in 60 days: the card and both certificates end with it.",
              descriptionJa: "在留期間が60日後に満了する外国人住民（カード・証明書の有効期限も同日）", lastValidDayFromToday: nil),
        Entry(name: "revoked-key-compromise", description: "Both certificates revoked as keyCompromise (the card was lost).",
              descriptionJa: "紛失により両証明書が失効（keyCompromise）", lastValidDayFromToday: nil),
        Entry(name: "suspended", description: "The card suspended: both certificates on hold (revoked, certificateHold).",
              descriptionJa: "一時停止中：両証明書が保留（certificateHold）", lastValidDayFromToday: nil),
        Entry(name: "released", description: "Suspended, then resumed at the window: both certificates good again.",
              descriptionJa: "一時停止の後に解除：両証明書が有効", lastValidDayFromToday: nil),
        Entry(name: "moved", description: "Moved to another municipality: the signing certificate revoked (affiliationChanged), the authentication certificate good.",
              descriptionJa: "転居：署名用電子証明書が失効（affiliationChanged）、利用者証明用電子証明書は有効", lastValidDayFromToday: nil),
        Entry(name: "renewed", description: "Certificates issued five years ago, renewed today inside the window: the old ones superseded, the new ones good.",
              descriptionJa: "5年前に発行し、更新期間中の今日更新：旧証明書は失効（superseded）、新証明書は有効", lastValidDayFromToday: 30),
        Entry(name: "expired", description: "Certificates issued five years ago whose validity ended 30 days ago.",
              descriptionJa: "5年前に発行し、30日前に有効期限が満了した証明書", lastValidDayFromToday: -30),
        Entry(name: "expiring", description: "Certificates issued five years ago that expire in 60 days: inside the renewal window, an expiry notice due.",
              descriptionJa: "有効期限まで60日：更新期間中、有効期限通知書の対象", lastValidDayFromToday: 60),
        Entry(name: "sign-pin-locked", description: "The signing password locked after 5 wrong tries; the certificate itself is good.",
              descriptionJa: "署名用パスワードが5回の誤入力でロック（証明書は有効）", lastValidDayFromToday: nil),
        Entry(name: "auth-pin-locked", description: "The authentication PIN locked after 3 wrong tries; the certificate itself is good.",
              descriptionJa: "利用者証明用暗証番号が3回の誤入力でロック（証明書は有効）", lastValidDayFromToday: nil),
        Entry(name: "agent-pending", description: "A voluntary agent applied for the holder's card: the request awaits the second visit with the mailed answer code.",
              descriptionJa: "任意代理人による交付申請：照会書兼回答書による2回目の来庁待ち", lastValidDayFromToday: nil),
    ]

    public static var names: [String] { entries.map(\.name) }

    /// The entry named `name`, or `not-found` naming the scenarios there are.
    public static func entry(_ name: String) throws -> Entry {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw SandboxError.notFound("no scenario named \"\(name)\"; the scenarios are: \(names.joined(separator: ", ")) (`jpki-sandbox scenario list`)")
        }
        return e
    }

    /// When a scenario's certificates must end on `lastValidDay`: the day of birth (45 years before, on
    /// that month and day) and the day the card is issued (the day after the birthday five years before),
    /// so that the 5th birthday after issuance, which ends the certificates (`ValidityRule`), is that day.
    /// 29 February is moved to 1 March.
    static func pastPlan(lastValidDay wanted: LocalDate) -> (lastValidDay: LocalDate, birth: LocalDate, issueDay: LocalDate) {
        let last = wanted.month == 2 && wanted.day == 29 ? wanted.addingDays(1) : wanted
        let birth = LocalDate(year: last.year - 45, month: last.month, day: last.day) ?? last.addingYears(-45)
        let birthdayFiveYearsBefore = LocalDate(year: last.year - 5, month: last.month, day: last.day) ?? last.addingYears(-5)
        return (last, birth, birthdayFiveYearsBefore.addingDays(1))
    }
}
