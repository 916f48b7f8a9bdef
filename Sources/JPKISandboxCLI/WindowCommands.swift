import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import JPKIStore

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
                try global.openSandbox().window(.residentUpdate(id: id, name: name, address: address, birth: birth, sex: sex),
                                                applicant: try applicant.parsed())
            }
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
                _ = try sandbox.card(id: id)
                let signPin = try SecretInput.value(self.signPin, option: "sign-pin")
                let authPin = try SecretInput.value(self.authPin, option: "auth-pin")
                return try sandbox.window(.cardRenew(card: id, signPIN: signPin, authPIN: authPin), applicant: try applicant.parsed(), noticeForm: noticeForm)
            }
        }
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
                return try sandbox.window(.certificateRenew(serial: old.serial, pin: pin), applicant: try applicant.parsed(), noticeForm: noticeForm)
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
                _ = try sandbox.card(id: card)
                let pin = try SecretInput.value(self.pin, option: "pin")
                return try sandbox.window(.certificateIssue(card: card, kind: k, pin: pin), applicant: try applicant.parsed())
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
                return try sandbox.window(.pinReset(serial: record.serial, newPIN: newPin), applicant: try applicant.parsed())
            }
        }
    }

    /// A wrong or locked PIN is an answer, not a crash: the JSON keeps ok/triesLeft/locked and adds an error; exit 1.
    static func report(_ r: PINResult, global: GlobalOptions) throws -> PINResultResource {
        let resource = PINResultResource(r)
        guard let error = resource.error else { return resource }
        if global.json { print(try ResourceJSON.string(resource)) } else {
            var shown = resource
            shown.error = nil
            print(TextRendering.render(shown), terminator: "")
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
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
                return try sandbox.completeRequest(id: id, answer: answer,
                                                   secrets: WindowSecrets(signPIN: signPin, authPIN: authPin, pin: pin, newPIN: newPin))
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
            return NoticesResource(asOf: try sandbox.now(), within: within, notices: notices)
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

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                let entries = try sandbox.auditEntries(since: try since.map { try ISOTime.parse($0) }, residentID: resident)
                return AuditListResource(entries)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain; exit 1 and name the first bad entry if anything was edited.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.run {
                try global.openSandbox().checkAudit()
            }
        }
    }
}
