import ArgumentParser
import Foundation

/// `jpki-sandbox`: the administration CLI of the JPKI sandbox CA.
public struct JPKISandboxCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "jpki-sandbox",
        abstract: "A simulated certificate authority for JPKI (公的個人認証サービス), the two certificates on every My Number Card.",
        discussion: """
        Test identities whose certificates parse like real ones: signing certificates carrying the four basic \
        details (name, date of birth, sex, address) and authentication certificates without them.

        Start with `jpki-sandbox demo`, or: init → resident add → card issue → cert show.
        Every command takes --home DIR (default $JPKI_SANDBOX_HOME, else ./.jpki-sandbox), --json and --at WHEN.
        """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, ResidentCommand.self, CardCommand.self, CertCommand.self,
            PINCommand.self, SignCommand.self, VerifyCommand.self, AuthCommand.self,
            RequestCommand.self, NoticesCommand.self, AuditCommand.self,
            ExportCommand.self, CACommand.self, ClockCommand.self, DemoCommand.self,
            CRLCommand.self, ServeCommand.self, EFilingCommand.self,
            ScenarioCommand.self, PhoneCommand.self, TokenCommand.self,
            PopulateCommand.self, KeysCommand.self, OCSPCommand.self,
        ]
    )

    public init() {}
}

/// A command whose work is async (the server, the demo that starts it). `main.swift` awaits
/// `runAsync()` directly: ArgumentParser's `AsyncParsableCommand.run()` is shadowed by the
/// synchronous `run()` when called through an existential from another module, and blocking the
/// main thread on a semaphore instead can starve Swift's cooperative pool on a 2-core machine.
public protocol AsyncCommand: ParsableCommand {
    func runAsync() async throws
}
