import Foundation
import JPKIDomain
import JPKIStore

/// A procedure at the municipal window, with what the applicant brings. The CLI and the admin API
/// both describe what was asked as one of these and hand it to `Sandbox.window(_:applicant:noticeForm:)`,
/// so who may act now and who leaves a pending request (a voluntary agent, 002/003) is decided here only.
public enum WindowProcedure: Sendable, Equatable {
    case cardIssue(resident: Int64, signPIN: String?, authPIN: String?)
    case cardRenew(card: Int64, signPIN: String?, authPIN: String?)
    case cardResume(card: Int64, pin: String?)
    case cardRevoke(card: Int64, reason: String)
    case certificateIssue(card: Int64, kind: CertificateKind, pin: String?)
    case certificateRenew(serial: String, pin: String?)
    case certificateRevoke(serial: String, reason: String)
    case pinReset(serial: String, newPIN: String?)
    case residentUpdate(id: Int64, name: String?, address: String?, birth: String?, sex: String?)

    /// The audit/request operation name.
    public var operation: String {
        switch self {
        case .cardIssue: "card.issue"
        case .cardRenew: "card.renew"
        case .cardResume: "card.resume"
        case .cardRevoke: "card.revoke"
        case .certificateIssue: "cert.issue"
        case .certificateRenew: "cert.renew"
        case .certificateRevoke: "cert.revoke"
        case .pinReset: "pin.reset"
        case .residentUpdate: "resident.update"
        }
    }
}

/// The secrets an agent gives at the second visit (never stored with a request).
public struct WindowSecrets: Sendable, Equatable {
    public var signPIN: String?
    public var authPIN: String?
    public var pin: String?
    public var newPIN: String?
    public init(signPIN: String? = nil, authPIN: String? = nil, pin: String? = nil, newPIN: String? = nil) {
        self.signPIN = signPIN; self.authPIN = authPIN; self.pin = pin; self.newPIN = newPIN
    }
}

extension Sandbox {
    /// Runs a window procedure: at once for the holder or a legal representative (and for an agent
    /// bringing the expiry notice's form, `noticeForm`), else a voluntary agent's first visit records a
    /// request. What is asked is checked first (the resident, card or certificate exists; the reason
    /// parses), so a bad request leaves nothing behind either way.
    public func window(_ procedure: WindowProcedure, applicant: Applicant, noticeForm: Bool = false) throws -> WindowAnswer {
        let (residentID, arguments) = try describe(procedure)
        guard applicant == .agent, !noticeForm else { return .done(try perform(procedure, applicant: applicant)) }
        let r = try startAgentRequest(operation: procedure.operation, arguments: arguments, residentID: residentID)
        return .pending(AgentRequestResource(r))
    }

    /// An agent's second visit: the answer code, a later day, then the procedure with the PINs given now.
    public func completeRequest(id: Int64, answer: String, secrets: WindowSecrets) throws -> RequestCompletionResource {
        let request = try openRequest(id: id, answer: answer)
        let procedure = try Self.procedure(request, secrets: secrets)
        let result = try perform(procedure, applicant: .agent)
        try markRequestCompleted(id: id)
        return RequestCompletionResource(request: .init(id: Int(id), operation: request.operation, status: "completed"), result: result)
    }

    /// The resident concerned and the request's stored arguments (no secrets), checking that what is
    /// named exists and that a reason parses.
    private func describe(_ p: WindowProcedure) throws -> (Int64, [String: String]) {
        switch p {
        case .cardIssue(let resident, _, _):
            _ = try self.resident(id: resident)
            return (resident, ["resident": String(resident)])
        case .cardRenew(let id, _, _):
            return (try card(id: id).residentID, ["card": String(id)])
        case .cardResume(let id, _):
            return (try card(id: id).residentID, ["card": String(id)])
        case .cardRevoke(let id, let reason):
            _ = try RevocationRequest(parsing: reason)
            return (try card(id: id).residentID, ["card": String(id), "reason": reason])
        case .certificateIssue(let id, let kind, _):
            return (try card(id: id).residentID, ["card": String(id), "kind": kind.rawValue])
        case .certificateRenew(let serial, _):
            let c = try certificate(serial: serial)
            return (c.residentID, ["serial": c.serial])
        case .certificateRevoke(let serial, let reason):
            _ = try RevocationRequest(parsing: reason)
            let c = try certificate(serial: serial)
            return (c.residentID, ["serial": c.serial, "reason": reason])
        case .pinReset(let serial, _):
            let c = try certificate(serial: serial)
            return (c.residentID, ["serial": c.serial])
        case .residentUpdate(let id, let name, let address, let birth, let sex):
            _ = try resident(id: id)
            var a = ["id": String(id)]
            if let name { a["name"] = name }; if let address { a["address"] = address }
            if let birth { a["birth"] = birth }; if let sex { a["sex"] = sex }
            return (id, a)
        }
    }

    /// The procedure a stored request names, with the secrets given at the second visit.
    static func procedure(_ r: AgentRequest, secrets s: WindowSecrets) throws -> WindowProcedure {
        let a = r.arguments
        func int(_ k: String) throws -> Int64 {
            guard let v = a[k].flatMap(Int64.init) else { throw SandboxError("corrupt", "request \(r.id) lacks \(k)") }
            return v
        }
        switch r.operation {
        case "card.issue": return .cardIssue(resident: try int("resident"), signPIN: s.signPIN, authPIN: s.authPIN)
        case "card.renew": return .cardRenew(card: try int("card"), signPIN: s.signPIN, authPIN: s.authPIN)
        case "card.resume": return .cardResume(card: try int("card"), pin: s.pin)
        case "card.revoke": return .cardRevoke(card: try int("card"), reason: a["reason"] ?? "cessationOfOperation")
        case "cert.issue":
            guard let kind = a["kind"].flatMap(CertificateKind.init) else { throw SandboxError("corrupt", "request \(r.id) lacks kind") }
            return .certificateIssue(card: try int("card"), kind: kind, pin: s.pin)
        case "cert.renew": return .certificateRenew(serial: a["serial"] ?? "", pin: s.pin)
        case "cert.revoke": return .certificateRevoke(serial: a["serial"] ?? "", reason: a["reason"] ?? "")
        case "pin.reset": return .pinReset(serial: a["serial"] ?? "", newPIN: s.newPIN)
        case "resident.update":
            return .residentUpdate(id: try int("id"), name: a["name"], address: a["address"], birth: a["birth"], sex: a["sex"])
        default: throw SandboxError("corrupt", "request \(r.id) names an unknown operation \(r.operation)")
        }
    }

    /// Does the procedure now, as `applicant`.
    private func perform(_ p: WindowProcedure, applicant who: Applicant) throws -> WindowResult {
        switch p {
        case .cardIssue(let resident, let signPIN, let authPIN):
            guard let authPIN else { throw SandboxError.invalid("give the authentication PIN with --auth-pin (4 digits)") }
            let r = try issueCard(residentID: resident, signPIN: signPIN, authPIN: authPIN, applicant: who)
            return .cardIssued(CardIssuanceResource(r, now: try now()))
        case .cardRenew(let id, let signPIN, let authPIN):
            guard let authPIN else { throw SandboxError.invalid("give --auth-pin (and --sign-pin) for the new card's certificates") }
            let r = try renewCard(id: id, signPIN: signPIN, authPIN: authPIN, applicant: who)
            return .cardIssued(CardIssuanceResource(r, now: try now()))
        case .cardResume(let id, let pin):
            guard let pin else { throw SandboxError.invalid("give --pin (the signing or the authentication PIN)") }
            let (card, certs) = try resumeCard(id: id, pin: pin, applicant: who)
            return .card(CardDetailResource(card, certificates: certs, now: try now()))
        case .cardRevoke(let id, let reason):
            let (card, certs) = try revokeCard(id: id, request: try RevocationRequest(parsing: reason), applicant: who)
            return .card(CardDetailResource(card, certificates: certs, now: try now()))
        case .certificateIssue(let card, let kind, let pin):
            guard let pin else { throw SandboxError.invalid("give the new certificate's PIN with --pin") }
            return .certificateIssued(IssuanceResource(try issueCertificate(cardID: card, kind: kind, pin: pin, applicant: who), now: try now()))
        case .certificateRenew(let serial, let pin):
            return .certificateIssued(IssuanceResource(try renewCertificate(serial: serial, newPIN: pin, applicant: who), now: try now()))
        case .certificateRevoke(let serial, let reason):
            let r = try revokeCertificate(serial: serial, request: try RevocationRequest(parsing: reason), applicant: who)
            return .revocation(RevocationResource(r, now: try now()))
        case .pinReset(let serial, let newPIN):
            guard let newPIN else { throw SandboxError.invalid("give --new-pin") }
            return .pin(PINResultResource(try resetPIN(serial: serial, new: newPIN, applicant: who)))
        case .residentUpdate(let id, let name, let address, let birth, let sex):
            let c = try updateResident(id: id, name: name, address: address, birth: birth, sex: sex, applicant: who)
            return .residentUpdated(ResidentUpdateResource(c))
        }
    }

    /// A resident with their cards and the summaries of their certificates.
    public func residentDetail(id: Int64) throws -> ResidentDetailResource {
        let now = try now()
        let resident = ResidentResource(try self.resident(id: id))
        let cards = try store.read { tx in try tx.cards(residentID: id).map { ($0, try tx.certificates(cardID: $0.id)) } }
        return ResidentDetailResource(resident: resident, cards: cards.map { CardDetailResource($0.0, certificates: $0.1, now: now) })
    }

    /// A card with the summaries of its certificates.
    public func cardDetail(id: Int64) throws -> CardDetailResource {
        let card = try card(id: id)
        return CardDetailResource(card, certificates: try store.read { try $0.certificates(cardID: id) }, now: try now())
    }
}
