import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import JPKIStore

/// `token create|list|revoke`: bearer tokens of the admin API (`serve`, /admin/v1/…).
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Bearer tokens of the admin API (/admin/v1/…): create, list, revoke.",
        discussion: """
        Roles: viewer reads; operator also changes the register, makes scenarios, generates CRLs and exports test \
        identities; admin also manages tokens and the sandbox clock. A token is printed once: only its SHA-256 is stored.
        Use it as: curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/admin/v1/residents
        """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it once (only its hash is kept).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A name for the token (1–64 of A–Z a–z 0–9 . _ -); the audit log names it.") var name: String
        @Option(help: ArgumentHelp("viewer, operator or admin.", valueName: "viewer|operator|admin")) var role: String

        func run() throws {
            try global.run {
                guard let r = TokenRole(rawValue: role) else { throw SandboxError.invalid("--role must be viewer, operator or admin, not \"\(role)\"") }
                return CreatedTokenResource(try global.openSandbox().createToken(name: name, role: r))
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (names, roles, status; never the tokens themselves).")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.run {
                TokenListResource(try global.openSandbox().tokens())
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: the server refuses it (401) from the next call on.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The token's name.") var name: String

        func run() throws {
            try global.run { TokenResource(try global.openSandbox().revokeToken(name: name)) }
        }
    }
}
