import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import JPKIStore

/// A voluntary agent's first visit records a request instead of acting (002, 003); everyone else acts now.
/// `noticeForm`: the agent brought the form enclosed with the expiry notice, which finishes at once (renewals).
func windowOperation(_ sandbox: Sandbox, applicant: Applicant, noticeForm: Bool = false, operation: String,
                     arguments: [String: String], residentID: Int64, act: (Applicant) throws -> JSON) throws -> JSON {
    guard applicant == .agent, !noticeForm else { return try act(applicant) }
    let r = try sandbox.startAgentRequest(operation: operation, arguments: arguments, residentID: residentID)
    return .object([("request", .object([
        ("id", .int(Int(r.id))), ("operation", .string(r.operation)), ("status", .string("pending")),
        ("residentId", .int(Int(r.residentID))), ("createdAt", View.time(r.createdAt)),
        ("completableFrom", .string(r.completableFrom.description)),
        ("form", .string(r.formFile.path)), ("mailedAnswerCode", .string(r.answerCode)),
        ("next", .string("jpki-sandbox request complete \(r.id) --answer \(r.answerCode)  (on \(r.completableFrom) or later)")),
    ]))])
}

func issuanceJSON(_ r: CertificateIssuance, now: Date) -> JSON {
    .object([("revoked", .optional(r.revoked)), ("certificate", View.certificateSummary(r.certificate, now: now)),
             ("validity", .string("\(r.limit.day) (\(r.limit.limit.rawValue))")), ("fee", .int(r.fee))])
}

func pinJSON(_ r: PINResult) -> JSON {
    .object([("serial", .string(r.serial)), ("ok", .bool(r.ok)), ("triesLeft", .int(r.triesLeft)), ("locked", .bool(r.locked))])
}

extension ResidentCommand {
    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a basic detail (move, marriage, …): every valid signing certificate is revoked (affiliationChanged).",
            discussion: "Authentication certificates stay valid (seeds 000, 002, 004). A new signing certificate can then be applied for with `cert issue --card ID --kind sign`.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var applicant: ApplicantOption
        @Argument(help: "Resident id.") var id: Int64
        @Option(help: "New name.") var name: String?
        @Option(help: "New address.") var address: String?
        @Option(help: "Corrected date of birth, YYYY-MM-DD.") var birth: String?
        @Option(help: "Corrected sex: male, female or unknown.") var sex: String?

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                var args = ["id": String(id)]
                if let name { args["name"] = name }; if let address { args["address"] = address }
                if let birth { args["birth"] = birth }; if let sex { args["sex"] = sex }
                return try windowOperation(sandbox, applicant: try applicant.parsed(), operation: "resident.update", arguments: args, residentID: id) { who in
                    try ResidentCommand.Update.perform(sandbox, args, who)
                }
            }
        }

        static func perform(_ sandbox: Sandbox, _ a: [String: String], _ who: Applicant) throws -> JSON {
            let c = try sandbox.updateResident(id: Int64(a["id"] ?? "") ?? -1, name: a["name"], address: a["address"], birth: a["birth"], sex: a["sex"], applicant: who)
            var fields: [(String, JSON)] = [("id", .int(Int(c.resident.id))), ("changed", .array(c.changed.map(JSON.string))),
                                            ("revoked", .array(c.revoked.map(JSON.string)))]
            if !c.revoked.isEmpty {
                fields.append(("note", .string("the signing certificate was revoked (affiliationChanged); the authentication certificate stays valid. A new signing certificate can be applied for: jpki-sandbox cert issue --card ID --kind sign --pin PIN")))
            }
            fields.append(("resident", View.resident(c.resident)))
            return .object(fields)
        }
    }
}

extension CardCommand {
    struct Renew: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Renew a card from three months before its expiry: a new card and certificates; the old ones are revoked (superseded).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var applicant: ApplicantOption
        @Argument(help: "Card id.") var id: Int64
        @Option(help: SecretInput.help("PIN for the new signing certificate.", option: "sign-pin")) var signPin: String?
        @Option(help: SecretInput.help("PIN for the new authentication certificate (4 digits).", option: "auth-pin")) var authPin: String?
        @Flag(help: "An agent brought the form enclosed with the expiry notice: finishes at once.") var noticeForm = false

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                let card = try sandbox.card(id: id)
                let signPin = try SecretInput.value(self.signPin, option: "sign-pin")
                let authPin = try SecretInput.value(self.authPin, option: "auth-pin")
                return try windowOperation(sandbox, applicant: try applicant.parsed(), noticeForm: noticeForm, operation: "card.renew",
                                           arguments: ["card": String(id)], residentID: card.residentID) { who in
                    guard let authPin else { throw SandboxError.invalid("give --auth-pin (and --sign-pin) for the new card's certificates") }
                    return try CardCommand.Issue.answer(try sandbox.renewCard(id: id, signPIN: signPin, authPIN: authPin, applicant: who), sandbox)
                }
            }
        }
    }
}

extension CardCommand.Issue {
    static func answer(_ result: CardIssuance, _ sandbox: Sandbox) throws -> JSON {
        let now = try sandbox.now()
        guard case .object(var fields) = View.card(result.card, certificates: result.certificates, now: now) else { return .null }
        fields.append(("validity", .object(
            [("card", .string("\(result.cardLimit.day) (\(result.cardLimit.limit.rawValue))"))] +
            result.limits.sorted { $0.key.rawValue > $1.key.rawValue }.map { ($0.key.rawValue, .string("\($0.value.day) (\($0.value.limit.rawValue))")) })))
        if !result.notIssued.isEmpty {
            fields.append(("notIssued", .array(result.notIssued.map { .object([("kind", .string($0.key.rawValue)), ("reason", .string($0.value))]) })))
        }
        if !result.revoked.isEmpty { fields.append(("revoked", .array(result.revoked.map(JSON.string)))) }
        fields.append(("fee", .int(result.fee)))
        return .object(fields)
    }
}

extension CertCommand {
    struct Renew: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Renew a certificate (更新): from three months before expiry, a new key pair and certificate to the 6th birthday after issuance.",
            discussion: "The old certificate is revoked as superseded in the same step. Before the window opens the answer names the date it opens (seed 004). After expiry a new certificate (5th birthday) is issued while the card is valid.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var applicant: ApplicantOption
        @Argument(help: "Serial number of the certificate to renew.") var serial: String
        @Option(help: SecretInput.help("A new PIN (default: keep the current one).", option: "pin")) var pin: String?
        @Flag(help: "An agent brought the form enclosed with the expiry notice: finishes at once.") var noticeForm = false

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                let old = try sandbox.certificate(serial: serial)
                let pin = try SecretInput.value(self.pin, option: "pin")
                return try windowOperation(sandbox, applicant: try applicant.parsed(), noticeForm: noticeForm, operation: "cert.renew",
                                           arguments: ["serial": old.serial], residentID: old.residentID) { who in
                    issuanceJSON(try sandbox.renewCertificate(serial: old.serial, newPIN: pin, applicant: who), now: try sandbox.now())
                }
            }
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a new certificate on a valid card (after a move revoked the signing certificate, after expiry or revocation).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var applicant: ApplicantOption
        @Option(help: "Card id.") var card: Int64
        @Option(help: ArgumentHelp("sign or auth.", valueName: "sign|auth")) var kind: String
        @Option(help: SecretInput.help("The new certificate's PIN.", option: "pin")) var pin: String?

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                guard let k = CertificateKind(rawValue: kind) else { throw SandboxError.invalid("--kind must be sign or auth") }
                let c = try sandbox.card(id: card)
                let pin = try SecretInput.value(self.pin, option: "pin")
                return try windowOperation(sandbox, applicant: try applicant.parsed(), operation: "cert.issue",
                                           arguments: ["card": String(card), "kind": k.rawValue], residentID: c.residentID) { who in
                    guard let pin else { throw SandboxError.invalid("give the new certificate's PIN with --pin") }
                    return issuanceJSON(try sandbox.issueCertificate(cardID: card, kind: k, pin: pin, applicant: who), now: try sandbox.now())
                }
            }
        }
    }
}

struct PINCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin", abstract: "PINs (暗証番号): check, change, reset at the window.",
        discussion: "Consecutive wrong PINs lock a certificate after 5 (signing) or 3 (authentication); a lock never clears by itself (seed 004).",
        subcommands: [Verify.self, Change.self, Reset.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a PIN like the card does; always says the tries left. Exit 1 when wrong or locked.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Serial number.") var serial: String
        @Option(help: SecretInput.help("The PIN.", option: "pin")) var pin: String?

        func run() throws {
            try global.run {
                let pin = try SecretInput.required(self.pin, option: "pin")
                let r = try global.openSandbox().verifyPIN(serial: serial, pin: pin)
                return try PINCommand.report(r, global: global)
            }
        }
    }

    struct Change: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a PIN; needs the current one (a wrong one costs a try).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Serial number.") var serial: String
        @Option(help: SecretInput.help("The current PIN.", option: "pin")) var pin: String?
        @Option(help: SecretInput.help("The new PIN.", option: "new-pin")) var newPin: String?

        func run() throws {
            try global.run {
                let pin = try SecretInput.required(self.pin, option: "pin")
                let newPin = try SecretInput.required(self.newPin, option: "new-pin")
                let r = try global.openSandbox().changePIN(serial: serial, current: pin, new: newPin)
                return try PINCommand.report(r, global: global)
            }
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reset a PIN at the window (初期化・再設定): a new PIN and the lock cleared.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var applicant: ApplicantOption
        @Argument(help: "Serial number.") var serial: String
        @Option(help: SecretInput.help("The new PIN.", option: "new-pin")) var newPin: String?

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                let record = try sandbox.certificate(serial: serial)
                let newPin = try SecretInput.value(self.newPin, option: "new-pin")
                return try windowOperation(sandbox, applicant: try applicant.parsed(), operation: "pin.reset",
                                           arguments: ["serial": record.serial], residentID: record.residentID) { who in
                    guard let newPin else { throw SandboxError.invalid("give --new-pin") }
                    return pinJSON(try sandbox.resetPIN(serial: record.serial, new: newPin, applicant: who))
                }
            }
        }
    }

    /// A wrong or locked PIN is an answer, not a crash: the JSON keeps ok/triesLeft/locked and adds an error; exit 1.
    static func report(_ r: PINResult, global: GlobalOptions) throws -> JSON {
        guard !r.ok else { return pinJSON(r) }
        let message = r.locked ? "the PIN is locked; it is reset at the window (`jpki-sandbox pin reset \(r.serial) --new-pin …`)"
                               : "wrong PIN; \(r.triesLeft) tries left before the certificate locks"
        guard case .object(var fields) = pinJSON(r) else { return .null }
        fields.append(("error", .object([("code", .string(r.locked ? "pin-locked" : "wrong-pin")), ("message", .string(message))])))
        if global.json { print(JSON.object(fields).serialized()) } else {
            print(JSON.object(fields.dropLast()).text(), terminator: "")
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        }
        throw ExitCode(1)
    }
}

struct RequestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request", abstract: "A voluntary agent's requests (任意代理人): finish one on a later day with the mailed answer code.",
        subcommands: [Complete.self])

    struct Complete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Finish a pending request with the answer code of the inquiry-and-answer form; no earlier than the next day.",
            discussion: "PINs are never stored with a request: give them here (--sign-pin/--auth-pin for a card, --pin for a certificate, --new-pin for a PIN reset, --pin to resume a card).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Request id.") var id: Int64
        @Option(help: "The answer code printed on the form.") var answer: String
        @Option(help: SecretInput.help("Signing PIN (card issue/renew).", option: "sign-pin")) var signPin: String?
        @Option(help: SecretInput.help("Authentication PIN (card issue/renew).", option: "auth-pin")) var authPin: String?
        @Option(help: SecretInput.help("PIN (cert issue, cert renew, card resume).", option: "pin")) var pin: String?
        @Option(help: SecretInput.help("New PIN (pin reset).", option: "new-pin")) var newPin: String?

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                let signPin = try SecretInput.value(self.signPin, option: "sign-pin")
                let authPin = try SecretInput.value(self.authPin, option: "auth-pin")
                let pin = try SecretInput.value(self.pin, option: "pin")
                let newPin = try SecretInput.value(self.newPin, option: "new-pin")
                let request = try sandbox.openRequest(id: id, answer: answer)
                let a = request.arguments
                func int(_ k: String) throws -> Int64 {
                    guard let v = a[k].flatMap(Int64.init) else { throw SandboxError("corrupt", "request \(id) lacks \(k)") }
                    return v
                }
                let result: JSON
                switch request.operation {
                case "card.issue":
                    guard let authPin else { throw SandboxError.invalid("give --auth-pin (and --sign-pin) for the card's certificates") }
                    result = try CardCommand.Issue.answer(try sandbox.issueCard(residentID: try int("resident"), signPIN: signPin, authPIN: authPin, applicant: .agent), sandbox)
                case "card.renew":
                    guard let authPin else { throw SandboxError.invalid("give --auth-pin (and --sign-pin) for the new card's certificates") }
                    result = try CardCommand.Issue.answer(try sandbox.renewCard(id: try int("card"), signPIN: signPin, authPIN: authPin, applicant: .agent), sandbox)
                case "cert.renew":
                    result = issuanceJSON(try sandbox.renewCertificate(serial: a["serial"] ?? "", newPIN: pin, applicant: .agent), now: try sandbox.now())
                case "cert.issue":
                    guard let pin, let kind = a["kind"].flatMap(CertificateKind.init) else { throw SandboxError.invalid("give --pin for the new certificate") }
                    result = issuanceJSON(try sandbox.issueCertificate(cardID: try int("card"), kind: kind, pin: pin, applicant: .agent), now: try sandbox.now())
                case "cert.revoke":
                    result = CertCommand.Revoke.answer(try sandbox.revokeCertificate(serial: a["serial"] ?? "", request: try RevocationRequest(parsing: a["reason"] ?? ""), applicant: .agent), try sandbox.now())
                case "card.resume":
                    guard let pin else { throw SandboxError.invalid("give --pin (either certificate's PIN) to resume the card") }
                    let (card, certs) = try sandbox.resumeCard(id: try int("card"), pin: pin, applicant: .agent)
                    result = try CardCommand.answer(card, certs, sandbox)
                case "card.revoke":
                    let (card, certs) = try sandbox.revokeCard(id: try int("card"), request: try RevocationRequest(parsing: a["reason"] ?? "cessationOfOperation"), applicant: .agent)
                    result = try CardCommand.answer(card, certs, sandbox)
                case "pin.reset":
                    guard let newPin else { throw SandboxError.invalid("give --new-pin") }
                    result = pinJSON(try sandbox.resetPIN(serial: a["serial"] ?? "", new: newPin, applicant: .agent))
                case "resident.update":
                    result = try ResidentCommand.Update.perform(sandbox, a, .agent)
                default:
                    throw SandboxError("corrupt", "request \(id) names an unknown operation \(request.operation)")
                }
                try sandbox.markRequestCompleted(id: id)
                return .object([("request", .object([("id", .int(Int(id))), ("operation", .string(request.operation)), ("status", .string("completed"))])),
                                ("result", result)])
            }
        }
    }
}

struct NoticesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notices",
        abstract: "Expiry notices (有効期限通知書): cards and certificates expiring within a window of the sandbox clock.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "How far ahead: 3m (default), 90d, 1y, P2M…") var within = "3m"

    func run() throws {
        try global.run {
            let sandbox = try global.openSandbox()
            let notices = try sandbox.expiryNotices(within: try SandboxDuration(parsing: within))
            return .object([("asOf", View.time(try sandbox.now())), ("within", .string(within)), ("notices", .array(notices.map { n in
                .object([
                    ("subject", .string(n.subject)), ("cardId", .int(Int(n.cardID))), ("serial", .optional(n.serial)),
                    ("kind", .optional(n.kind?.rawValue)), ("notAfter", View.time(n.notAfter)),
                    ("renewalOpens", .string(n.renewalOpens.description)),
                    ("residentId", .int(Int(n.resident.id))), ("name", .string(n.resident.name.value)), ("address", .string(n.resident.address.value)),
                ])
            }))])
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The append-only audit log of every state change, hash-chained.",
        subcommands: [List.self, Verify.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit entries.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only entries at or after this sandbox time (2027-02-27 or a date-time).") var since: String?
        @Option(help: "Only this resident's.") var resident: Int64?

        /// Stored UTC times, printed in Asia/Tokyo like every other time.
        static func display(_ stored: String) -> String { (try? ISOTime.parse(stored)).map(ISOTime.display) ?? stored }

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                let entries = try sandbox.auditEntries(since: try since.map { try ISOTime.parse($0) }, residentID: resident)
                return .object([("entries", .array(entries.map { e in
                    .object([("id", .int(Int(e.id ?? 0))), ("sandboxTime", .string(Self.display(e.sandboxTime))), ("realTime", .string(Self.display(e.realTime))),
                             ("operation", .string(e.operation)), ("applicant", .optional(e.applicant)),
                             ("residentId", e.residentID.map { .int(Int($0)) } ?? .null), ("serials", .array(e.serials.map(JSON.string))),
                             ("fee", .int(e.fee)), ("outcome", .string(e.outcome)), ("detail", .string(e.detail)), ("hash", .string(e.hash))])
                }))])
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain; exit 1 and name the first bad entry if anything was edited.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.run {
                let (count, broken) = try global.openSandbox().verifyAudit()
                if let broken {
                    throw SandboxError("audit-broken", "the audit log was tampered with at entry \(broken.id): \(broken.problem)")
                }
                return .object([("ok", .bool(true)), ("entries", .int(count))])
            }
        }
    }
}
