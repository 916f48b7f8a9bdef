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

    public init() {}

    var sandboxHome: SandboxHome { SandboxHome.resolve(home) }

    /// `--at`, parsed and checked against the range the sandbox computes with (`SupportedDates`).
    func atDate() throws -> Date? { try at.map { try SupportedDates.instant(try ISOTime.parse($0), what: "--at") } }

    func openSandbox() throws -> Sandbox { try Sandbox.open(home: sandboxHome, at: try atDate()) }

    /// Runs a command body, printing its result as JSON or text, and any error as the contract says.
    func run(_ body: () throws -> JSON) throws {
        do {
            let result = try body()
            if json { print(result.serialized()) } else { print(result.text(), terminator: "") }
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
            print(JSON.object([("error", .object([("code", .string(e.code)), ("message", .string(e.message))]))]).serialized())
        } else {
            FileHandle.standardError.write(Data("error: \(e.message)\n".utf8))
        }
        throw ExitCode(1)
    }
}

/// A JSON value with object keys kept in the order they were written.
public indirect enum JSON: Equatable, Sendable {
    case string(String), int(Int), bool(Bool), null, array([JSON]), object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.serialized() == b.serialized() }

    static func optional(_ s: String?) -> JSON { s.map(JSON.string) ?? .null }

    public func serialized() -> String {
        switch self {
        case .string(let s): return Self.quote(s)
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let a): return "[" + a.map { $0.serialized() }.joined(separator: ",") + "]"
        case .object(let o): return "{" + o.map { Self.quote($0.0) + ":" + $0.1.serialized() }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String { JSONText.quote(s) }

    /// A readable rendering for people: `key: value` lines, nested objects indented.
    public func text(indent: String = "") -> String {
        switch self {
        case .object(let o):
            return o.map { key, value in
                switch value {
                case .object, .array: "\(indent)\(key):\n" + value.text(indent: indent + "  ")
                default: "\(indent)\(key): \(value.scalarText)\n"
                }
            }.joined()
        case .array(let a):
            if a.isEmpty { return "\(indent)(none)\n" }
            return a.map { item in
                switch item {
                case .object, .array: "\(indent)-\n" + item.text(indent: indent + "  ")
                default: "\(indent)- \(item.scalarText)\n"
                }
            }.joined()
        default:
            return indent + scalarText + "\n"
        }
    }

    var scalarText: String {
        switch self {
        case .string(let s): s.contains("\n") ? "\n" + s : s
        case .int(let i): String(i)
        case .bool(let b): b ? "yes" : "no"
        case .null: "-"
        default: serialized()
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
                print(JSON.object([("error", .object([("code", .string("bad-arguments")), ("message", .string(message))]))]).serialized())
            } else if negative != nil {
                FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            } else {
                exit(withError: error)
            }
            Foundation.exit(status.rawValue)
        }
    }
}
