import Foundation
import HTTPTypes
import Hummingbird
import JPKICA
import JPKIDomain
import JPKIStore
import NIOCore

// The routes of the admin API and their bodies. Each handler calls the CA services that the CLI
// command of the same name calls, in the same order, and answers with the same resource type.

struct ResidentBody: AdminBody {
    static let fields: Set<String> = ["name", "birth", "sex", "address", "residenceUntil", "adultWard"]
    var name: String, birth: String, sex: String, address: String
    var residenceUntil: String?
    var adultWard: Bool?
}

struct ResidentUpdateBody: AdminBody {
    static let fields: Set<String> = ["name", "address", "birth", "sex", "applicant"]
    var name: String?, address: String?, birth: String?, sex: String?, applicant: String?
}

struct CardIssueBody: AdminBody {
    static let fields: Set<String> = ["resident", "signPin", "authPin", "applicant"]
    var resident: Int64
    var signPin: String?, authPin: String?, applicant: String?
}

struct CardRenewBody: AdminBody {
    static let fields: Set<String> = ["signPin", "authPin", "applicant", "noticeForm"]
    var signPin: String?, authPin: String?, applicant: String?
    var noticeForm: Bool?
}

struct ApplicantBody: AdminBody {
    static let fields: Set<String> = ["applicant"]
    var applicant: String?
}

struct CardResumeBody: AdminBody {
    static let fields: Set<String> = ["pin", "applicant"]
    var pin: String?, applicant: String?
}

struct RevokeBody: AdminBody {
    static let fields: Set<String> = ["reason", "applicant"]
    var reason: String?, applicant: String?
}

struct CertIssueBody: AdminBody {
    static let fields: Set<String> = ["card", "kind", "pin", "applicant"]
    var card: Int64
    var kind: String
    var pin: String?, applicant: String?
}

struct CertRenewBody: AdminBody {
    static let fields: Set<String> = ["pin", "applicant", "noticeForm"]
    var pin: String?, applicant: String?
    var noticeForm: Bool?
}

struct PINBody: AdminBody {
    static let fields: Set<String> = ["pin"]
    var pin: String
}

struct PINChangeBody: AdminBody {
    static let fields: Set<String> = ["pin", "newPin"]
    var pin: String, newPin: String
}

struct PINResetBody: AdminBody {
    static let fields: Set<String> = ["newPin", "applicant"]
    var newPin: String?, applicant: String?
}

struct RequestCompleteBody: AdminBody {
    static let fields: Set<String> = ["answer", "signPin", "authPin", "pin", "newPin"]
    var answer: String
    var signPin: String?, authPin: String?, pin: String?, newPin: String?
}

struct ExportBody: AdminBody {
    static let fields: Set<String> = ["format", "password"]
    var format: String?, password: String?
}

struct ClockSetBody: AdminBody {
    static let fields: Set<String> = ["when"]
    var when: String
}

struct ClockAdvanceBody: AdminBody {
    static let fields: Set<String> = ["duration"]
    var duration: String
}

struct EmptyBody: AdminBody {
    static let fields: Set<String> = []
}

struct CRLBody: AdminBody {
    static let fields: Set<String> = ["partitions"]
    var partitions: Bool?
}

struct ScenarioBody: AdminBody {
    static let fields: Set<String> = ["includeIdentities", "password"]
    var includeIdentities: Bool?
    var password: String?
}

struct TokenBody: AdminBody {
    static let fields: Set<String> = ["name", "role"]
    var name: String, role: String
}

func parseApplicant(_ text: String?) throws -> Applicant {
    guard let text else { return .self }
    guard let a = Applicant(rawValue: text) else {
        throw SandboxError.invalid("applicant must be self, legal-representative or agent, not \"\(text)\"")
    }
    return a
}

/// `.done` → the resource with `status`; `.pending` (an agent's first visit) → 202 and the request.
func windowAnswer(_ answer: WindowAnswer, status: HTTPResponse.Status) -> Response {
    switch answer {
    case .done(let result): AdminAPI.json(result, status: status)
    case .pending(let request): AdminAPI.json(request, status: .accepted)
    }
}

extension AdminAPI {
    static let routes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/openapi.json", nil) { _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        },

        // Residents
        AdminRoute(.get, "/admin/v1/residents", .viewer) { call in
            let limit = try call.queryInt("limit", default: 100, range: 0...10_000) ?? 100
            let offset = try call.queryInt("offset", default: 0, range: 0...Int(Int32.max)) ?? 0
            return json(try await call.run { ResidentListResource(try $0.residents(limit: limit, offset: offset).map(ResidentResource.init)) })
        },
        AdminRoute(.post, "/admin/v1/residents", .operator) { call in
            let b = try call.decode(ResidentBody.self)
            return json(try await call.run {
                ResidentResource(try $0.addResident(name: b.name, birth: b.birth, sex: b.sex, address: b.address,
                                                    residenceUntil: b.residenceUntil, adultWard: b.adultWard ?? false))
            }, status: .created)
        },
        AdminRoute(.get, "/admin/v1/residents/{id}", .viewer) { call in
            let id = try call.id()
            return json(try await call.run { try $0.residentDetail(id: id) })
        },
        AdminRoute(.patch, "/admin/v1/residents/{id}", .operator) { call in
            let id = try call.id()
            let b = try call.decode(ResidentUpdateBody.self)
            let who = try parseApplicant(b.applicant)
            return windowAnswer(try await call.run {
                try $0.window(.residentUpdate(id: id, name: b.name, address: b.address, birth: b.birth, sex: b.sex), applicant: who)
            }, status: .ok)
        },

        // Cards
        AdminRoute(.post, "/admin/v1/cards", .operator) { call in
            let b = try call.decode(CardIssueBody.self)
            let who = try parseApplicant(b.applicant)
            return windowAnswer(try await call.run {
                try $0.window(.cardIssue(resident: b.resident, signPIN: b.signPin, authPIN: b.authPin), applicant: who)
            }, status: .created)
        },
        AdminRoute(.get, "/admin/v1/cards/{id}", .viewer) { call in
            let id = try call.id()
            return json(try await call.run { try $0.cardDetail(id: id) })
        },
        AdminRoute(.post, "/admin/v1/cards/{id}/renew", .operator) { call in
            let id = try call.id()
            let b = try call.decode(CardRenewBody.self)
            let who = try parseApplicant(b.applicant)
            return windowAnswer(try await call.run {
                try $0.window(.cardRenew(card: id, signPIN: b.signPin, authPIN: b.authPin), applicant: who, noticeForm: b.noticeForm ?? false)
            }, status: .created)
        },
        AdminRoute(.post, "/admin/v1/cards/{id}/suspend", .operator) { call in
            let id = try call.id()
            let b = try call.decode(ApplicantBody.self)
            let who = try parseApplicant(b.applicant)
            return json(try await call.run { sandbox in
                let (card, certs) = try sandbox.suspendCard(id: id, applicant: who)
                return CardDetailResource(card, certificates: certs, now: try sandbox.now())
            })
        },
        AdminRoute(.post, "/admin/v1/cards/{id}/resume", .operator) { call in
            let id = try call.id()
            let b = try call.decode(CardResumeBody.self)
            let who = try parseApplicant(b.applicant)
            return windowAnswer(try await call.run { try $0.window(.cardResume(card: id, pin: b.pin), applicant: who) }, status: .ok)
        },
        AdminRoute(.post, "/admin/v1/cards/{id}/revoke", .operator) { call in
            let id = try call.id()
            let b = try call.decode(RevokeBody.self)
            let who = try parseApplicant(b.applicant)
            let reason = b.reason ?? "cessationOfOperation"
            return windowAnswer(try await call.run { try $0.window(.cardRevoke(card: id, reason: reason), applicant: who) }, status: .ok)
        },

        // Certificates
        AdminRoute(.get, "/admin/v1/certificates", .viewer) { call in
            let limit = try call.queryInt("limit", default: 100, range: 0...10_000) ?? 100
            let resident = try call.queryInt("resident", default: nil, range: 0...Int(Int64.max)).map(Int64.init)
            let kind = try call.query["kind"].map { k in
                guard let parsed = CertificateKind(rawValue: k) else { throw SandboxError.invalid("kind must be sign or auth") }
                return parsed
            }
            return json(try await call.run { sandbox in
                let now = try sandbox.now()
                return CertificateListResource(try sandbox.certificates(residentID: resident, kind: kind, limit: limit).map { CertificateResource(summary: $0, now: now) })
            })
        },
        AdminRoute(.post, "/admin/v1/certificates", .operator) { call in
            let b = try call.decode(CertIssueBody.self)
            let who = try parseApplicant(b.applicant)
            guard let kind = CertificateKind(rawValue: b.kind) else { throw SandboxError.invalid("kind must be sign or auth") }
            return windowAnswer(try await call.run { try $0.window(.certificateIssue(card: b.card, kind: kind, pin: b.pin), applicant: who) }, status: .created)
        },
        AdminRoute(.get, "/admin/v1/certificates/{serial}", .viewer) { call in
            let serial = call.param("serial")
            return json(try await call.run { sandbox in try CertificateResource(full: try sandbox.certificate(serial: serial), now: try sandbox.now()) })
        },
        AdminRoute(.post, "/admin/v1/certificates/{serial}/renew", .operator) { call in
            let serial = call.param("serial")
            let b = try call.decode(CertRenewBody.self)
            let who = try parseApplicant(b.applicant)
            return windowAnswer(try await call.run { sandbox in
                let old = try sandbox.certificate(serial: serial)
                return try sandbox.window(.certificateRenew(serial: old.serial, pin: b.pin), applicant: who, noticeForm: b.noticeForm ?? false)
            }, status: .created)
        },
        AdminRoute(.post, "/admin/v1/certificates/{serial}/revoke", .operator) { call in
            let serial = call.param("serial")
            let b = try call.decode(RevokeBody.self)
            let who = try parseApplicant(b.applicant)
            guard let reason = b.reason else { throw SandboxError("bad-arguments", "the field reason is required") }
            return windowAnswer(try await call.run { try $0.window(.certificateRevoke(serial: serial, reason: reason), applicant: who) }, status: .ok)
        },
        AdminRoute(.post, "/admin/v1/certificates/{serial}/export", .operator) { call in
            let serial = call.param("serial")
            let b = try call.decode(ExportBody.self)
            switch b.format ?? "pkcs12" {
            case "pem":
                let text = try await call.run { try $0.exportPEMBundle(serial: serial) }
                return Response(status: .ok, headers: [.contentType: "application/x-pem-file",
                                                       .contentDisposition: "attachment; filename=\"\(try Sandbox.normalizeSerial(serial)).pem\""],
                                body: .init(byteBuffer: ByteBuffer(string: text)))
            case "pkcs12":
                guard let password = b.password else { throw SandboxError.invalid("give password for the PKCS#12 file, or format pem") }
                let bytes = try await call.run { try $0.exportPKCS12(serial: serial, password: password) }
                return Response(status: .ok, headers: [.contentType: "application/x-pkcs12",
                                                       .contentDisposition: "attachment; filename=\"\(try Sandbox.normalizeSerial(serial)).p12\""],
                                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            case let other:
                throw SandboxError.invalid("format must be pkcs12 or pem, not \"\(other)\"")
            }
        },

        // PINs
        AdminRoute(.post, "/admin/v1/certificates/{serial}/pin/verify", .operator) { call in
            let serial = call.param("serial")
            let b = try call.decode(PINBody.self)
            return pinAnswer(try await call.run { try $0.verifyPIN(serial: serial, pin: b.pin) })
        },
        AdminRoute(.post, "/admin/v1/certificates/{serial}/pin/change", .operator) { call in
            let serial = call.param("serial")
            let b = try call.decode(PINChangeBody.self)
            return pinAnswer(try await call.run { try $0.changePIN(serial: serial, current: b.pin, new: b.newPin) })
        },
        AdminRoute(.post, "/admin/v1/certificates/{serial}/pin/reset", .operator) { call in
            let serial = call.param("serial")
            let b = try call.decode(PINResetBody.self)
            let who = try parseApplicant(b.applicant)
            return windowAnswer(try await call.run { sandbox in
                let record = try sandbox.certificate(serial: serial)
                return try sandbox.window(.pinReset(serial: record.serial, newPIN: b.newPin), applicant: who)
            }, status: .ok)
        },

        // A voluntary agent's second visit
        AdminRoute(.post, "/admin/v1/requests/{id}/complete", .operator) { call in
            let id = try call.id()
            let b = try call.decode(RequestCompleteBody.self)
            return json(try await call.run {
                try $0.completeRequest(id: id, answer: b.answer, secrets: WindowSecrets(signPIN: b.signPin, authPIN: b.authPin, pin: b.pin, newPIN: b.newPin))
            })
        },

        // Notices, audit, CRLs
        AdminRoute(.get, "/admin/v1/notices", .viewer) { call in
            let within = call.query["within"] ?? "3m"
            return json(try await call.run { sandbox in
                let notices = try sandbox.expiryNotices(within: try SandboxDuration(parsing: within))
                return NoticesResource(asOf: try sandbox.now(), within: within, notices: notices)
            })
        },
        AdminRoute(.get, "/admin/v1/audit", .viewer) { call in
            let since = try call.query["since"].map { try ISOTime.parse($0) }
            let resident = try call.queryInt("resident", default: nil, range: 0...Int(Int64.max)).map(Int64.init)
            return json(try await call.run { AuditListResource(try $0.auditEntries(since: since, residentID: resident)) })
        },
        AdminRoute(.get, "/admin/v1/audit/verify", .viewer) { call in
            json(try await call.run { try $0.checkAudit() })
        },
        AdminRoute(.post, "/admin/v1/crls", .operator) { call in
            let b = try call.decode(CRLBody.self)
            return json(try await call.run { CRLListResource(try $0.generateCRLs(partitions: b.partitions ?? true)) }, status: .created)
        },

        // The clock
        AdminRoute(.get, "/admin/v1/clock", .viewer) { call in
            json(try await call.run { ClockResource(now: try $0.now()) })
        },
        AdminRoute(.post, "/admin/v1/clock/set", .admin) { call in
            let b = try call.decode(ClockSetBody.self)
            return json(try await call.run { sandbox in
                ClockResource(now: try sandbox.setClock(to: try ISOTime.parse(b.when)), source: clockSource(sandbox, persisted: true))
            })
        },
        AdminRoute(.post, "/admin/v1/clock/advance", .admin) { call in
            let b = try call.decode(ClockAdvanceBody.self)
            return json(try await call.run { sandbox in
                ClockResource(now: try sandbox.advanceClock(by: b.duration), source: clockSource(sandbox, persisted: true))
            })
        },
        AdminRoute(.post, "/admin/v1/clock/reset", .admin) { call in
            _ = try call.decode(EmptyBody.self)
            return json(try await call.run { sandbox in ClockResource(now: try sandbox.resetClock(), source: clockSource(sandbox, persisted: false)) })
        },

        // Named scenarios (docs/scenarios.md)
        AdminRoute(.get, "/admin/v1/scenarios", .viewer) { call in
            json(try await call.run { try $0.scenarioList() })
        },
        AdminRoute(.post, "/admin/v1/scenarios/{name}", .operator) { call in
            let name = call.param("name")
            let b = try call.decode(ScenarioBody.self)
            if let password = b.password, password.isEmpty { throw SandboxError.invalid("password must not be empty") }
            return json(try await call.run {
                try $0.createScenario(name, options: ScenarioOptions(includeIdentities: b.includeIdentities ?? false, password: b.password))
            }, status: .created)
        },

        // Tokens
        AdminRoute(.get, "/admin/v1/tokens", .admin) { call in
            json(try await call.run { TokenListResource(try $0.tokens()) })
        },
        AdminRoute(.post, "/admin/v1/tokens", .admin) { call in
            let b = try call.decode(TokenBody.self)
            guard let role = TokenRole(rawValue: b.role) else { throw SandboxError.invalid("role must be viewer, operator or admin, not \"\(b.role)\"") }
            return json(try await call.run { CreatedTokenResource(try $0.createToken(name: b.name, role: role)) }, status: .created)
        },
        AdminRoute(.post, "/admin/v1/tokens/{name}/revoke", .admin) { call in
            let name = call.param("name")
            _ = try call.decode(EmptyBody.self)
            return json(try await call.run { TokenResource(try $0.revokeToken(name: name)) })
        },
    ]

    /// A right PIN: 200. A wrong or locked one is an answer with its error code and status (422, 423),
    /// tries left and lock included, as `pin verify --json` prints it.
    static func pinAnswer(_ r: PINResult) -> Response {
        let resource = PINResultResource(r)
        return json(resource, status: resource.error.map { status(for: $0.code) } ?? .ok)
    }

    static func clockSource(_ sandbox: Sandbox, persisted: Bool) -> String {
        sandbox.clockOverride != nil ? "--at" : persisted ? "sandbox clock" : "real time"
    }
}
