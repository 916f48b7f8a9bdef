import Foundation
import JPKIDomain
import JPKIStore

extension Sandbox {
    /// Where users extend the municipality table of this sandbox.
    var tableHint: String { home.municipalities.path }

    /// Registers a resident with the four basic details (resident add).
    public func addResident(name: String, birth: String, sex: String, address: String, residenceUntil: String?, adultWard: Bool) throws -> Resident {
        let now = try now()
        let application = try ResidentApplication(name: name, birth: birth, sex: sex, address: address, residenceUntil: residenceUntil,
                                                  adultWard: adultWard, table: table, today: LocalDate(now), tableHint: tableHint)
        return try store.write { tx in
            let resident = try tx.insertResident(application, at: now)
            try Audit.append(tx, at: now, operation: "resident.add", applicant: nil, residentID: resident.id, serials: [], fee: 0,
                             outcome: "ok", detail: substitutionNote(resident))
            return resident
        }
    }

    public func resident(id: Int64) throws -> Resident {
        guard let r = try store.read({ try $0.resident(id: id) }) else {
            throw SandboxError.notFound("no resident with id \(id); `jpki-sandbox resident list` shows the residents")
        }
        return r
    }

    public func residents(limit: Int = 1000, offset: Int = 0) throws -> [Resident] {
        try store.read { try $0.residents(limit: limit, offset: offset) }
    }

    func substitutionNote(_ r: Resident) -> String {
        var notes: [String] = []
        if r.name.hasSubstitutions { notes.append("name characters outside JIS X 0208 substituted") }
        if r.address.hasSubstitutions { notes.append("address characters outside JIS X 0208 substituted") }
        return notes.joined(separator: "; ")
    }
}
