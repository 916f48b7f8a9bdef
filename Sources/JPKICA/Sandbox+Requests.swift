import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// A voluntary agent's first visit: the request and the inquiry-and-answer form mailed to the holder.
public struct PendingRequest: Sendable {
    public let id: Int64
    public let operation: String
    public let residentID: Int64
    public let createdAt: Date
    /// The one-time code printed on the form (the sandbox "mails" it: it is in the answer and in the form file).
    public let answerCode: String
    public let formFile: URL
    public let formText: String
    /// The first day the request can be completed.
    public let completableFrom: LocalDate
}

/// What the basic-detail change did.
public struct ResidentChange: Sendable {
    public let resident: Resident
    public let changed: [String]
    public let revoked: [String]
}

public struct ExpiryNotice: Sendable {
    public let subject: String           // "card" or "certificate"
    public let cardID: Int64
    public let serial: String?
    public let kind: CertificateKind?
    public let notAfter: Date
    public let renewalOpens: LocalDate
    public let resident: Resident
}

extension Sandbox {
    // MARK: Voluntary agents (002, 003)

    /// 任意代理人: records the request and produces the 照会書兼回答書 with a one-time answer code
    /// mailed to the holder's address. Nothing else changes until `completeRequest` on a later day.
    public func startAgentRequest(operation: String, arguments: [String: String], residentID: Int64) throws -> PendingRequest {
        let resident = try resident(id: residentID)
        let now = try now()
        let today = LocalDate(now)
        if let why = WindowRule.applicantRefusal(age: Birthday.age(of: resident.dateOfBirth, on: today), applicantIsLegalRepresentative: false) {
            throw refusal(operation, applicant: .agent, residentID: residentID, why)
        }
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        let code = String(try Crypto.randomBytes(8).map { alphabet[Int($0) % alphabet.count] })
        let answer = try hashPIN(code)
        let id = try store.write { tx in
            let id = try tx.insertRequest(operation: operation, arguments: arguments, residentID: residentID, at: now, answer: answer)
            try Audit.append(tx, at: now, operation: operation, applicant: Applicant.agent.rawValue, residentID: residentID, serials: [],
                             fee: 0, outcome: "pending", detail: "request \(id): inquiry-and-answer form mailed to the holder")
            return id
        }
        let form = """
        照会書兼回答書 (inquiry-and-answer form) — JPKI Sandbox
        To: \(resident.name.value)
            \(resident.address.value)
        A voluntary agent (任意代理人) applied on \(today) for: \(operation) \(arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        If you asked them to, give them this form, sealed. They finish at the window on \(today.addingDays(1)) or later with:
            jpki-sandbox request complete \(id) --answer \(code)
        Answer code: \(code)

        """
        let folder = home.url.appendingPathComponent("mail")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let file = folder.appendingPathComponent("request-\(id).txt")
        try AtomicFile.write(Array(form.utf8), to: file, mode: 0o600)
        return PendingRequest(id: id, operation: operation, residentID: residentID, createdAt: now, answerCode: code,
                              formFile: file, formText: form, completableFrom: today.addingDays(1))
    }

    /// Checks an agent's second visit: the request is pending, the answer code matches, and it is a
    /// later day than the first visit (an agent never finishes the same day). Returns the request;
    /// the caller runs the operation, then `markRequestCompleted`.
    public func openRequest(id: Int64, answer: String) throws -> AgentRequest {
        guard let request = try store.read({ try $0.request(id: id) }) else {
            throw SandboxError.notFound("no request with id \(id)")
        }
        guard request.status == "pending" else {
            throw refusal(request.operation, applicant: .agent, residentID: request.residentID, "request \(id) was already completed")
        }
        guard try pinMatches(answer, request.answer) else {
            throw refusal(request.operation, applicant: .agent, residentID: request.residentID,
                          "the answer code does not match the form mailed for request \(id)")
        }
        let today = LocalDate(try now())
        let created = LocalDate(request.createdAt)
        guard today > created else {
            throw refusal(request.operation, applicant: .agent, residentID: request.residentID,
                          "a voluntary agent never finishes the same day (seeds 002, 003): request \(id) was made on \(created); come back on \(created.addingDays(1)) or later")
        }
        return request
    }

    public func markRequestCompleted(id: Int64) throws {
        let now = try now()
        try store.write { tx in
            guard let r = try tx.request(id: id) else { return }
            try tx.completeRequest(id: id, at: now)
            try Audit.append(tx, at: now, operation: "request.complete", applicant: Applicant.agent.rawValue, residentID: r.residentID,
                             serials: [], fee: 0, outcome: "ok", detail: "request \(id): \(r.operation)")
        }
    }

    // MARK: Basic details

    /// 住所・氏名等の変更 (resident update): a change of any of the four details revokes every valid
    /// signing certificate of the resident as affiliationChanged; authentication certificates stay (000, 002, 004).
    public func updateResident(id: Int64, name: String?, address: String?, birth: String?, sex: String?, applicant: Applicant = .self) throws -> ResidentChange {
        var resident = try resident(id: id)
        let now = try now()
        try checkApplicant(applicant, resident: resident, today: LocalDate(now), operation: "resident.update")
        var changed: [String] = []
        if let name {
            let n = try NameRule.normalize(name)
            if n != resident.name { resident.name = n; changed.append("name") }
        }
        if let address {
            let a = try AddressRule.normalize(address)
            let locality = try table.locate(a.value, tableHint: tableHint)
            if a != resident.address { resident.address = a; resident.locality = locality; changed.append("address") }
        }
        if let birth {
            let b = try SupportedDates.birth(parsing: birth, today: LocalDate(now))
            if b != resident.dateOfBirth { resident.dateOfBirth = b; changed.append("dateOfBirth") }
        }
        if let sex {
            let s = try Sex(parsing: sex)
            if s != resident.sex { resident.sex = s; changed.append("sex") }
        }
        guard !changed.isEmpty else {
            throw SandboxError.invalid("nothing to change: give --name, --address, --birth or --sex with a new value")
        }
        let updated = resident
        let revoked = try store.write { tx in
            try tx.updateResident(updated, at: now)
            var revoked: [String] = []
            for cert in try tx.certificates(residentID: id, kind: .sign) where cert.state != .revoked && cert.notAfter >= now {
                try tx.setCertificateState(cert.serial, .revoked, reason: RevocationReason.affiliationChanged.rawValue, at: now)
                revoked.append(cert.serial)
            }
            try Audit.append(tx, at: now, operation: "resident.update", applicant: applicant.rawValue, residentID: id, serials: revoked,
                             fee: 0, outcome: "ok", detail: "changed \(changed.joined(separator: ", "))")
            return revoked
        }
        return ResidentChange(resident: updated, changed: changed, revoked: revoked)
    }

    // MARK: Expiry notices (有効期限通知書, 002, 004)

    /// Cards and certificates whose expiry falls between now and now + `within`, as the notice would be sent.
    public func expiryNotices(within: SandboxDuration) throws -> [ExpiryNotice] {
        let now = try now()
        let until = try within.added(to: now)
        return try store.read { tx in
            var notices: [ExpiryNotice] = []
            for card in try tx.cardsExpiring(from: now, to: until) {
                guard let r = try tx.resident(id: card.residentID) else { continue }
                notices.append(ExpiryNotice(subject: "card", cardID: card.id, serial: nil, kind: nil, notAfter: card.notAfter,
                                            renewalOpens: RenewalWindow.opens(lastValidDay: LocalDate(card.notAfter)), resident: r))
            }
            for cert in try tx.certificatesExpiring(from: now, to: until) {
                guard let r = try tx.resident(id: cert.residentID) else { continue }
                notices.append(ExpiryNotice(subject: "certificate", cardID: cert.cardID, serial: cert.serial, kind: cert.kind, notAfter: cert.notAfter,
                                            renewalOpens: RenewalWindow.opens(lastValidDay: LocalDate(cert.notAfter)), resident: r))
            }
            return notices.sorted { $0.notAfter < $1.notAfter }
        }
    }

    // MARK: Audit

    public func auditEntries(since: Date? = nil, residentID: Int64? = nil) throws -> [AuditEntry] {
        try store.read { try $0.auditEntries(since: since.map(ISOTime.storage), residentID: residentID) }
    }

    /// Checks the whole hash chain; nil when intact.
    public func verifyAudit() throws -> (count: Int, broken: (id: Int64, problem: String)?) {
        let all = try store.read { try $0.auditEntries() }
        return (all.count, Audit.verify(all))
    }

    /// The chain check as both faces report it: the count when intact, else `audit-broken` naming the
    /// first bad entry.
    public func checkAudit() throws -> AuditVerifyResource {
        let (count, broken) = try verifyAudit()
        if let broken { throw SandboxError("audit-broken", "the audit log was tampered with at entry \(broken.id): \(broken.problem)") }
        return AuditVerifyResource(ok: true, entries: count)
    }
}
