import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import JPKIStore

/// `--applicant`, shared by every window operation.
struct ApplicantOption: ParsableArguments {
    @Option(help: ArgumentHelp("Who applies at the window: self, legal-representative or agent (任意代理人, two visits).", valueName: "self|legal-representative|agent"))
    var applicant: String = "self"

    func parsed() throws -> Applicant {
        guard let a = Applicant(rawValue: applicant) else {
            throw SandboxError.invalid("--applicant must be self, legal-representative or agent, not \"\(applicant)\"")
        }
        return a
    }
}

extension CertCommand {
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a certificate (失効).",
            discussion: """
            REASON is an RFC 5280 name (unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation) \
            or a window event: lost, stolen, pin-leaked, misuse → keyCompromise; stop, damaged → cessationOfOperation; \
            moved, death → affiliationChanged. Suspension (certificateHold) is `card suspend`. Revoking twice is an error.
            """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var applicant: ApplicantOption
        @Argument(help: "Serial number.") var serial: String
        @Option(help: "Why.") var reason: String

        func run() throws {
            try global.run {
                try global.openSandbox().window(.certificateRevoke(serial: serial, reason: reason), applicant: try applicant.parsed())
            }
        }
    }
}

extension CardCommand {
    struct Suspend: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suspend a card (一時停止, e.g. reported lost by phone): its certificates go on hold (certificateHold).",
            discussion: "Acts at once whoever reports it, as the suspension by phone does; releasing it (`card resume`) is done at the window.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var applicant: ApplicantOption
        @Argument(help: "Card id.") var id: Int64

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                let (card, certs) = try sandbox.suspendCard(id: id, applicant: try applicant.parsed())
                return CardDetailResource(card, certificates: certs, now: try sandbox.now())
            }
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a suspended card (一時停止解除) at the window; needs the signing or the authentication PIN (002).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var applicant: ApplicantOption
        @Argument(help: "Card id.") var id: Int64
        @Option(help: SecretInput.help("The PIN of either certificate on the card (an agent gives it when completing the request).", option: "pin")) var pin: String?

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                _ = try sandbox.card(id: id)
                let pin = try SecretInput.value(self.pin, option: "pin")
                return try sandbox.window(.cardResume(card: id, pin: pin), applicant: try applicant.parsed())
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give up a card (廃止): both certificates are revoked and the card can no longer be used.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var applicant: ApplicantOption
        @Argument(help: "Card id.") var id: Int64
        @Option(help: "Why (RFC 5280 name or window event, e.g. lost). Default: cessationOfOperation.") var reason: String = "cessationOfOperation"

        func run() throws {
            try global.run {
                try global.openSandbox().window(.cardRevoke(card: id, reason: reason), applicant: try applicant.parsed())
            }
        }
    }
}

extension ClockCommand {
    static func answer(_ sandbox: Sandbox, _ now: Date, persisted: Bool) -> ClockResource {
        ClockResource(now: now, source: sandbox.clockOverride != nil ? "--at" : persisted ? "sandbox clock" : "real time")
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the sandbox clock; it runs on from there. Every command and the server read it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "2027-02-27 (00:00 Asia/Tokyo) or 2027-02-27T10:00:00+09:00.") var when: String

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                return ClockCommand.answer(sandbox, try sandbox.setClock(to: try ISOTime.parse(when)), persisted: true)
            }
        }
    }

    struct Advance: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move the sandbox clock forward: 90d, 3m (months), 1y, 2w, 12h, 30min or P1Y2M.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "How far.") var duration: String

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                return ClockCommand.answer(sandbox, try sandbox.advanceClock(by: duration), persisted: true)
            }
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put the sandbox clock back to real time.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                return ClockCommand.answer(sandbox, try sandbox.resetClock(), persisted: false)
            }
        }
    }
}
