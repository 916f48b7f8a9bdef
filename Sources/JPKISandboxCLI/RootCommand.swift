import ArgumentParser
import Foundation

/// `jpki-sandbox`: the administration CLI of the JPKI sandbox CA.
public struct JPKISandboxCommand: AsyncParsableCommand {
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
            CRLCommand.self, ServeCommand.self,
        ]
    )

    public init() {}
}
