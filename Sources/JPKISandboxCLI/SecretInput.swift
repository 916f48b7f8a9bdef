import ArgumentParser
import Foundation
import JPKICA

/// Where the secrets a command takes come from: every PIN option (`--pin`, `--new-pin`, `--sign-pin`,
/// `--auth-pin`) and the PKCS#12 `--password` go through here, so that none has to appear in the
/// command line, which any user of the machine can read in `/proc/PID/cmdline` while it runs.
///
/// - `--pin -`: one line read from standard input (preferred). When a command takes several secrets
///   as `-`, they are read one line each, in the order the command's help lists them.
/// - the option left out: the environment variable `JPKI_` + the option's name (`JPKI_PIN`,
///   `JPKI_NEW_PIN`, `JPKI_SIGN_PIN`, `JPKI_AUTH_PIN`, `JPKI_PASSWORD`).
/// - `--pin VALUE`: as before, for throwaway sandboxes on a machine of one's own.
enum SecretInput {
    /// The environment variable read when `--option` is not given.
    static func variable(_ option: String) -> String {
        "JPKI_" + option.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The help line of a secret option: what it is, and the other ways to give it.
    static func help(_ what: String, option: String) -> ArgumentHelp {
        ArgumentHelp("\(what) Give - to read it from standard input; when left out, $\(variable(option)) is used.",
                     valueName: "pin")
    }

    /// The value of `--option`: the line read from stdin for `-`, the environment variable when absent, else nil.
    static func value(_ given: String?, option: String) throws -> String? {
        if let given {
            guard given == "-" else { return given }
            guard var line = readLine(strippingNewline: true) else {
                throw SandboxError.invalid("--\(option) -: no line to read on standard input")
            }
            if line.hasSuffix("\r") { line.removeLast() }
            return line
        }
        return ProcessInfo.processInfo.environment[variable(option)]
    }

    /// As `value`, for an option the command cannot do without.
    static func required(_ given: String?, option: String) throws -> String {
        guard let value = try value(given, option: option) else {
            throw SandboxError.invalid("give --\(option) (- to read it from standard input, or set $\(variable(option)))")
        }
        return value
    }
}
