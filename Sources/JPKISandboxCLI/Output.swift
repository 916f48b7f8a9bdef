import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain

/// Options every subcommand takes (docs: ../shared/docs/cli-contract.md).
public struct GlobalOptions: ParsableArguments {
    @Option(help: "The sandbox's data folder. Default: $JPKI_SANDBOX_HOME, else ./.jpki-sandbox.")
    var home: String?

    @Flag(help: "Print one JSON object on stdout (errors too).")
    var json = false

    @Option(help: ArgumentHelp("Act as if the sandbox clock read WHEN: 2027-02-27 (00:00 Asia/Tokyo) or 2027-02-27T10:00:00+09:00.", valueName: "when"))
    var at: String?

    @Option(help: ArgumentHelp("The register in PostgreSQL instead of the home's SQLite (shared by the CLI and any number of serve processes; see docs/postgres.md). Default: what init recorded in the home, from this option or [database] url.", valueName: "postgres://user:password@host:port/database"))
    var database: String?

    public init() {}

    var sandboxHome: SandboxHome { SandboxHome.resolve(home, database: database) }

    /// `--at`, parsed and checked against the range the sandbox computes with (`SupportedDates`).
    func atDate() throws -> Date? { try at.map { try SupportedDates.instant(try ISOTime.parse($0), what: "--at") } }

    func openSandbox() throws -> Sandbox { try Sandbox.open(home: sandboxHome, at: try atDate()) }

    /// Runs a command body, printing its result (a resource of `JPKICA/Resources`) as JSON under
    /// `--json`, else as `key: value` lines, and any error as the contract says.
    func run<T: Encodable>(_ body: () throws -> T) throws {
        do {
            let result = try body()
            if json { print(try ResourceJSON.string(result)) } else { print(TextRendering.render(result), terminator: "") }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            try report(error)
        }
    }

    /// Prints an error as every command does (the JSON error under `--json`, else a line on stderr),
    /// then exits 1. Long-running commands (serve, card insert) call it for errors after their start.
    func report(_ error: any Error) throws -> Never {
        let e = SandboxError.from(error)
        if json {
            print((try? ResourceJSON.string(ErrorResource(e))) ?? #"{"error":{"code":"internal","message":"unprintable error"}}"#)
        } else {
            FileHandle.standardError.write(Data("error: \(e.message)\n".utf8))
        }
        throw ExitCode(1)
    }
}

/// The readable rendering of a resource for people: `key: value` lines in declaration order, nested
/// objects and lists indented, absent values left out. The keys are the JSON keys (the resources use
/// their property names as keys), so the text and `--json` show the same fields.
enum TextRendering {
    static func render(_ value: Any, indent: String = "") -> String {
        let value = unwrap(value)
        let mirror = Mirror(reflecting: value)
        if let s = scalar(value) { return indent + s + "\n" }
        switch mirror.displayStyle {
        case .collection, .set:
            let items = mirror.children.map { unwrap($0.value) }.filter { !isNil($0) }
            if items.isEmpty { return "\(indent)(none)\n" }
            return items.map { item in
                scalar(item).map { "\(indent)- \($0)\n" } ?? "\(indent)-\n" + render(item, indent: indent + "  ")
            }.joined()
        case .dictionary:
            let pairs = mirror.children.compactMap { child -> (String, Any)? in
                let pair = Mirror(reflecting: child.value).children.map(\.value)
                guard pair.count == 2 else { return nil }
                return ("\(pair[0])", pair[1])
            }.sorted { $0.0 < $1.0 }
            return pairs.map { line($0.0, $0.1, indent) }.joined()
        default:
            return allChildren(mirror).compactMap { child in child.label.map { line($0, child.value, indent) } }.joined()
        }
    }

    private static func line(_ key: String, _ value: Any, _ indent: String) -> String {
        let v = unwrap(value)
        if isNil(v) { return "" }
        if let s = scalar(v) { return "\(indent)\(key): \(s)\n" }
        return "\(indent)\(key):\n" + render(v, indent: indent + "  ")
    }

    /// A struct's stored properties, and an enum's payload in place of the enum.
    private static func allChildren(_ mirror: Mirror) -> [Mirror.Child] {
        if mirror.displayStyle == .enum, let payload = mirror.children.first {
            let inner = Mirror(reflecting: unwrap(payload.value))
            // A payload that is a tuple of one labelled value reads as that value.
            return inner.displayStyle == .tuple && inner.children.count == 1
                ? allChildren(Mirror(reflecting: unwrap(inner.children.first!.value))) : allChildren(inner)
        }
        return Array(mirror.children)
    }

    private static func unwrap(_ value: Any) -> Any {
        let m = Mirror(reflecting: value)
        guard m.displayStyle == .optional else { return value }
        return m.children.first.map { unwrap($0.value) } ?? Optional<Any>.none as Any
    }

    private static func isNil(_ value: Any) -> Bool {
        let m = Mirror(reflecting: value)
        return m.displayStyle == .optional && m.children.isEmpty
    }

    private static func scalar(_ value: Any) -> String? {
        switch value {
        case let s as String: s.contains("\n") ? "\n" + s : s
        case let b as Bool: b ? "yes" : "no"
        case let i as Int: String(i)
        case let i as Int64: String(i)
        case let d as Double: String(d)
        default: nil
        }
    }
}

extension JPKISandboxCommand {
    /// Parses the command line, or reports why not as the contract says and exits: under `--json` the
    /// error is one JSON object on stdout (`{"error":{"code":"bad-arguments","message":…}}`), else a
    /// message and the usage on stderr; the exit status is non-zero either way (help and `--version`
    /// print as usual and exit 0).
    public static func parseOrReport(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> any ParsableCommand {
        do {
            return try parseAsRoot(arguments)
        } catch {
            let status = exitCode(for: error)
            guard status != .success else { exit(withError: error) }
            // ArgumentParser reads "-5" as an option and answers "Missing value": say what is wrong instead.
            let negative = arguments.first { $0.count > 1 && $0.hasPrefix("-") && $0.dropFirst().allSatisfy(\.isNumber) }
            let message = negative.map { "\"\($0)\" is not accepted: ids, counts and limits are whole numbers from 0 up" }
                ?? message(for: error)
            if arguments.contains("--json") {
                print((try? ResourceJSON.string(ErrorResource(code: "bad-arguments", message: message))) ?? "")
            } else if negative != nil {
                FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            } else {
                exit(withError: error)
            }
            Foundation.exit(status.rawValue)
        }
    }
}
