import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain

/// `scenario list`, `scenario create NAME [--out DIR]`, `scenario create --all --out DIR` (docs/scenarios.md).
/// The work is `Sandbox.createScenario`; this face parses, calls and prints.
struct ScenarioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Named scenarios: whole test identities in known states (good, revoked, suspended, expired, PIN locked, …) in one call.",
        discussion: """
        Each scenario registers a fresh resident and brings them into its state through the same services as the window \
        commands. The answer gives the resident, card, certificates (serial, PEM, status, reason), the PINs, and the \
        verdict a relying party must reach for each certificate now. expired, renewed and expiring act five years in the \
        past through the sandbox clock: they need a sandbox initialised before then (see `scenario list`).
        """,
        subcommands: [List.self, Create.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the scenarios, and whether this sandbox is old enough for each.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try ScenarioCommand.output(global) {
                let list = try global.openSandbox().scenarioList()
                var text = "as of \(list.asOf)\n"
                for s in list.scenarios {
                    text += "\(s.name.padding(toLength: 24, withPad: " ", startingAt: 0))\(s.description)\n"
                    text += String(repeating: " ", count: 24) + s.descriptionJa + "\n"
                    if let earliest = s.earliestStep {
                        text += String(repeating: " ", count: 24) + "acts from \(earliest)" + (s.available ? "" : " — NOT AVAILABLE: the sandbox is younger") + "\n"
                    }
                }
                return (try ResourceJSON.string(list), text)
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a scenario (or --all of them): a fresh resident, card and certificates in the named state.",
            discussion: """
            With --out DIR, each certificate is written as DIR/NAME/LABEL.pem (certificate), LABEL.p12 (PKCS#12 with the \
            password in the answer) and LABEL.bundle.pem (certificate, key, root), and the roots as DIR/roots/*.pem. \
            --all --out DIR makes every scenario and writes DIR/manifest.json with the expected verdicts (docs/scenarios.md).
            Examples:
              jpki-sandbox scenario create suspended --json
              jpki-sandbox scenario create --all --out fixtures
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The scenario's name (`scenario list`).") var name: String?
        @Flag(help: "Make every scenario (needs --out).") var all = false
        @Option(help: "Write the identities (PEM, PKCS#12) into this folder.") var out: String?
        @Option(help: SecretInput.help("PKCS#12 password for the files (default: a random one, printed in the answer).", option: "password"))
        var password: String?
        @Flag(help: "Also put each identity (PKCS#12 as base64, PEM bundle) in the answer.") var identities = false

        func validate() throws {
            if all && name != nil { throw ValidationError("give a scenario NAME or --all, not both") }
            if !all && name == nil { throw ValidationError("give a scenario NAME (see `jpki-sandbox scenario list`) or --all") }
            if all && out == nil { throw ValidationError("--all needs --out DIR for the fixture folder") }
        }

        func run() throws {
            try ScenarioCommand.output(global) {
                let sandbox = try global.openSandbox()
                let password = try SecretInput.value(self.password, option: "password")
                let folder = out.map { URL(fileURLWithPath: $0) }
                if all, let folder {
                    let manifest = try sandbox.createAllScenarios(out: folder, password: password)
                    var text = "wrote \(folder.appendingPathComponent("manifest.json").path) (\(manifest.scenarios.count) scenarios, PKCS#12 password \(manifest.password))\n"
                    for s in manifest.scenarios { text += ScenarioCommand.text(s, folder: folder) }
                    return (try ResourceJSON.string(manifest), text)
                }
                let result = try sandbox.createScenario(name ?? "", options: ScenarioOptions(out: folder, includeIdentities: identities, password: password))
                return (try ResourceJSON.string(result), ScenarioCommand.text(result, folder: folder))
            }
        }
    }

    /// Prints the JSON (under --json) or the text; errors as every command reports them.
    static func output(_ global: GlobalOptions, _ body: () throws -> (json: String, text: String)) throws {
        do {
            let (json, text) = try body()
            if global.json { print(json) } else { print(text, terminator: "") }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            try global.report(error)
        }
    }

    /// A readable summary of one scenario.
    static func text(_ s: ScenarioResult, folder: URL?) -> String {
        var t = "\(s.scenario): \(s.description)\n"
        t += "  resident \(s.resident.id): \(s.resident.name), born \(s.resident.dateOfBirth), \(s.resident.address)\n"
        if let card = s.card { t += "  card \(card.id): \(card.status), valid until \(card.notAfter)\n" }
        t += "  PINs: " + [s.pins.sign.map { "signing \($0)" }, s.pins.auth.map { "authentication \($0)" }].compactMap { $0 }.joined(separator: ", ") + "\n"
        for c in s.certificates {
            let reason = c.expected.reason.map { " (\($0))" } ?? ""
            t += "  \(c.label) \(c.certificate.serial): \(c.certificate.status), until \(c.certificate.notAfter) → a relying party must say \(c.expected.verdict)\(reason)\n"
            if let files = c.files, let folder {
                t += "    files: " + [files.certificate, files.pkcs12, files.pem].map { folder.appendingPathComponent($0).path }.joined(separator: ", ") + "\n"
            }
        }
        if let r = s.request {
            let pins = [s.pins.sign.map { "--sign-pin \($0)" }, s.pins.auth.map { "--auth-pin \($0)" }].compactMap { $0 }.joined(separator: " ")
            t += "  request \(r.id) (\(r.operation)) pending; second visit on \(r.completableFrom) or later:\n"
            t += "    jpki-sandbox request complete \(r.id) --answer \(r.mailedAnswerCode) \(pins)\n"
        }
        for n in s.notices ?? [] { t += "  expiry notice: " + (n.serial.map { "certificate \($0)" } ?? "card \(n.cardId)") + " ends \(n.notAfter); renewal from \(n.renewalOpens)\n" }
        if let p = s.password { t += "  PKCS#12 password: \(p)\n" }
        return t
    }
}
