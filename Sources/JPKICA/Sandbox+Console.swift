import Foundation
import JPKIDomain
import JPKIStore

// What the operator console (JPKIConsole, `/console/`) reads that no other face needed yet: a resident
// search, a resident's page with each certificate in full and why it ends when it does, the renewal
// window's position, and the agents' pending requests. Reads only; every change goes through the same
// services as the CLI and the admin API (`window`, `suspendCard`, `completeRequest`, …).

/// One certificate as the console's resident page shows it.
public struct ConsoleCertificate: Sendable {
    public let resource: CertificateResource
    /// What bounded its last valid day (ValidityRule): birthday, periodOfStay, card, authenticationCertificate, cardCertificate.
    public let limit: ValidityLimit
    /// The renewal window (004) today: nil inside it, else the day it opens (or "expired").
    public let renewalOpens: String?
    public let inRenewalWindow: Bool
}

/// A card with its certificates in full, as the console's resident page shows it.
public struct ConsoleCard: Sendable {
    public let card: CardResource
    public let limit: ValidityLimit
    public let certificates: [ConsoleCertificate]
}

/// A resident's page: the four basic details and the rest of the register entry, the cards, the
/// pending requests of agents.
public struct ConsoleResidentPage: Sendable {
    public let resident: ResidentResource
    public let age: Int
    public let cards: [ConsoleCard]
    public let pending: [AgentRequestSummary]
}

/// A voluntary agent's request awaiting its second visit (never the answer code: it was mailed).
public struct AgentRequestSummary: Sendable {
    public let id: Int64
    public let operation: String
    public let arguments: [String: String]
    public let residentID: Int64
    public let createdAt: String
    public let completableFrom: String
}

extension Sandbox {
    /// Residents whose name, address, municipality (name or code) or id matches `query` (case-insensitive
    /// substring; an id matches exactly), at most `limit`, in id order. An empty query lists the first `limit`.
    public func findResidents(matching query: String, limit: Int = 100) throws -> [Resident] {
        let q = query.trimmingCharacters(in: .whitespaces)
        guard !q.isEmpty else { return try residents(limit: limit, offset: 0) }
        if let id = Int64(q), id > 0, q.allSatisfy(\.isNumber) {
            if let r = try? resident(id: id) { return [r] }
        }
        let needle = q.lowercased()
        var found: [Resident] = []
        var offset = 0
        let page = 1000
        while found.count < limit {
            let batch = try residents(limit: page, offset: offset)
            for r in batch {
                let resource = ResidentResource(r)
                let haystack = [resource.name, resource.address, resource.municipality, resource.municipalityCode, resource.prefecture]
                if haystack.contains(where: { $0.lowercased().contains(needle) }) {
                    found.append(r)
                    if found.count == limit { break }
                }
            }
            if batch.count < page { break }
            offset += page
        }
        return found
    }

    /// A resident's page for the console: details, cards, every certificate in full with what bounded it.
    public func consoleResidentPage(id: Int64) throws -> ConsoleResidentPage {
        let now = try now()
        let today = LocalDate(now)
        let resident = try self.resident(id: id)
        let rows = try store.read { tx in try tx.cards(residentID: id).map { ($0, try tx.certificates(cardID: $0.id)) } }
        let cards = try rows.map { card, certs in
            let cardDay = LocalDate(card.notAfter)
            let cardLimit: ValidityLimit = resident.residenceUntil == cardDay && !Self.isBirthdayAnniversary(cardDay, of: resident.dateOfBirth)
                ? .periodOfStay : .birthday
            let authDays = Set(certs.filter { $0.kind == .auth && $0.form == .card }.map { LocalDate($0.notAfter) })
            let full = try certs.map { c -> ConsoleCertificate in
                let day = LocalDate(c.notAfter)
                let position = RenewalWindow.position(today: today, lastValidDay: day)
                let opens: String? = switch position {
                case .inWindow: nil
                case .beforeWindow(let opens): opens.description
                case .expired: "expired"
                }
                return ConsoleCertificate(resource: try CertificateResource(full: c, now: now),
                                          limit: Self.limit(of: c, day: day, resident: resident, cardDay: cardDay, authDays: authDays),
                                          renewalOpens: opens, inRenewalWindow: position == .inWindow)
            }
            return ConsoleCard(card: CardResource(card, now: now), limit: cardLimit, certificates: full)
        }
        return ConsoleResidentPage(resident: ResidentResource(resident), age: Birthday.age(of: resident.dateOfBirth, on: today),
                                   cards: cards, pending: try pendingRequests(residentID: id))
    }

    /// Which of ValidityRule's bounds gave this last valid day. The rule keeps the birthday unless another
    /// bound is strictly earlier, so a day that is the birthday anniversary is the birthday's.
    static func limit(of c: CertificateRecord, day: LocalDate, resident: Resident, cardDay: LocalDate, authDays: Set<LocalDate>) -> ValidityLimit {
        if c.form != .card { return .cardCertificate }
        if isBirthdayAnniversary(day, of: resident.dateOfBirth) { return .birthday }
        if resident.residenceUntil == day { return .periodOfStay }
        if day == cardDay { return .card }
        if c.kind == .sign && authDays.contains(day) { return .authenticationCertificate }
        return .birthday
    }

    /// The day is a birthday of someone born on `birth` (Birthday.anniversary: 29 February moves as the rule moves it).
    static func isBirthdayAnniversary(_ day: LocalDate, of birth: LocalDate) -> Bool {
        day.year > birth.year && Birthday.anniversary(of: birth, in: day.year) == day
    }

    /// The voluntary agents' requests still awaiting their second visit (of one resident, or all), oldest first.
    public func pendingRequests(residentID: Int64? = nil) throws -> [AgentRequestSummary] {
        try store.read { try $0.pendingRequests(residentID: residentID) }.map { r in
            AgentRequestSummary(id: r.id, operation: r.operation, arguments: r.arguments, residentID: r.residentID,
                                createdAt: ISOTime.display(r.createdAt), completableFrom: LocalDate(r.createdAt).addingDays(1).description)
        }
    }
}
