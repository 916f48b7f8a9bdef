import Foundation
import JPKIDomain
import JPKIStore

/// What a window operation did: acted now, or (a voluntary agent's first visit) recorded a request.
public enum WindowOutcome<T> {
    case done(T)
    case pending(PendingRequest)
}

/// What finishing an agent's request did, by the operation it named.
public enum CompletedOperation {
    case cardIssued(CardIssuance)
    case cardChanged(CardRecord, [CertificateRecord])
    case certificateIssued(CertificateIssuance)
    case certificateRevoked(CertificateRecord)
    case pin(PINResult)
    case residentUpdated(ResidentChange)
}

/// The PINs an agent gives on the second visit (never stored with the request).
public struct RequestPINs: Sendable {
    public var signPIN: String?, authPIN: String?, pin: String?, newPIN: String?
    public init(signPIN: String? = nil, authPIN: String? = nil, pin: String? = nil, newPIN: String? = nil) {
        self.signPIN = signPIN; self.authPIN = authPIN; self.pin = pin; self.newPIN = newPIN
    }
}

extension Sandbox {
    /// A voluntary agent's first visit records a request instead of acting (002, 003); everyone else
    /// acts now. `noticeForm`: the agent brought the form enclosed with the expiry notice, which
    /// finishes at once (renewals). Both faces (CLI, admin API) go through here.
    public func atWindow<T>(applicant: Applicant, noticeForm: Bool = false, operation: String, arguments: [String: String],
                            residentID: Int64, act: (Applicant) throws -> T) throws -> WindowOutcome<T> {
        guard applicant == .agent, !noticeForm else { return .done(try act(applicant)) }
        return .pending(try startAgentRequest(operation: operation, arguments: arguments, residentID: residentID))
    }

    /// An agent's second visit: checks the request (`openRequest`), runs the operation it names with
    /// the PINs given now, and marks it completed.
    public func completeRequest(id: Int64, answer: String, pins: RequestPINs) throws -> (AgentRequest, CompletedOperation) {
        let request = try openRequest(id: id, answer: answer)
        let a = request.arguments
        func int(_ k: String) throws -> Int64 {
            guard let v = a[k].flatMap(Int64.init) else { throw SandboxError("corrupt", "request \(id) lacks \(k)") }
            return v
        }
        let result: CompletedOperation
        switch request.operation {
        case "card.issue":
            guard let authPIN = pins.authPIN else { throw SandboxError.invalid("give the authentication PIN (and the signing PIN) for the card's certificates") }
            result = .cardIssued(try issueCard(residentID: try int("resident"), signPIN: pins.signPIN, authPIN: authPIN, applicant: .agent))
        case "card.renew":
            guard let authPIN = pins.authPIN else { throw SandboxError.invalid("give the authentication PIN (and the signing PIN) for the new card's certificates") }
            result = .cardIssued(try renewCard(id: try int("card"), signPIN: pins.signPIN, authPIN: authPIN, applicant: .agent))
        case "cert.renew":
            result = .certificateIssued(try renewCertificate(serial: a["serial"] ?? "", newPIN: pins.pin, applicant: .agent))
        case "cert.issue":
            guard let pin = pins.pin, let kind = a["kind"].flatMap(CertificateKind.init) else { throw SandboxError.invalid("give the PIN for the new certificate") }
            result = .certificateIssued(try issueCertificate(cardID: try int("card"), kind: kind, pin: pin, applicant: .agent))
        case "cert.revoke":
            result = .certificateRevoked(try revokeCertificate(serial: a["serial"] ?? "", request: try RevocationRequest(parsing: a["reason"] ?? ""), applicant: .agent))
        case "card.resume":
            guard let pin = pins.pin else { throw SandboxError.invalid("give the PIN (either certificate's) to resume the card") }
            let (card, certs) = try resumeCard(id: try int("card"), pin: pin, applicant: .agent)
            result = .cardChanged(card, certs)
        case "card.revoke":
            let (card, certs) = try revokeCard(id: try int("card"), request: try RevocationRequest(parsing: a["reason"] ?? "cessationOfOperation"), applicant: .agent)
            result = .cardChanged(card, certs)
        case "pin.reset":
            guard let newPIN = pins.newPIN else { throw SandboxError.invalid("give the new PIN") }
            result = .pin(try resetPIN(serial: a["serial"] ?? "", new: newPIN, applicant: .agent))
        case "resident.update":
            result = .residentUpdated(try updateResident(id: try int("id"), name: a["name"], address: a["address"], birth: a["birth"], sex: a["sex"], applicant: .agent))
        default:
            throw SandboxError("corrupt", "request \(id) names an unknown operation \(request.operation)")
        }
        try markRequestCompleted(id: id)
        return (request, result)
    }
}
