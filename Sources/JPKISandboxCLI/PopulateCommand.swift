import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import Logging

/// `populate`: a register of N synthetic residents with their cards, for load fixtures (issue 14).
struct PopulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "populate",
        abstract: "Register N synthetic residents, issue their cards and apply revocations, suspensions and moves (bulk fixtures).",
        discussion: """
        Deterministic: the same options (seed included) give the same residents, cards, serials, states and counts; keys, \
        signatures and PIN salts are random. Shares are exact: N × P% rounded half up. Work is committed in batches \
        (one transaction each, every card with its audit entry) and the run is recorded with each batch: after an \
        interrupt or a kill, run the same command again to continue. A finished run is not repeated.
        Every populated holder has the signing PIN \(Sandbox.populateSignPIN) and the authentication PIN \(Sandbox.populateAuthPIN), \
        hashed with --pin-iterations (cheap by default: fixtures, not people).
        Keys come from the key pool (`keys fill`) when it has some, else are generated (about 6 keys/s per core); \
        --shared-keys uses \(Sandbox.sharedKeyCount) keys for every certificate instead, marked so that they never sign.
        Progress: a bar on a terminal, plain lines otherwise; with --json, JSON lines on stderr and the result on stdout.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "How many residents.") var residents: Int
    @Option(help: "Seed of the synthetic population.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Share whose card is revoked (lost: keyCompromise).", valueName: "P%")) var revoked: String = "5%"
    @Option(help: ArgumentHelp("Share whose card is suspended (certificateHold).", valueName: "P%")) var suspended: String = "1%"
    @Option(help: ArgumentHelp("Share who move after issuance (signing certificate revoked: affiliationChanged).", valueName: "P%")) var moved: String = "2%"
    @Option(help: ArgumentHelp("Share under 18 (under-15s get no signing certificate).", valueName: "P%")) var minors: String = "14%"
    @Option(help: ArgumentHelp("Share of foreign residents (katakana names, a period of stay).", valueName: "P%")) var foreign: String = "2.5%"
    @Option(help: ArgumentHelp("Municipality codes or names, comma-separated (default: the whole table).", valueName: "LIST")) var municipalities: String?
    @Flag(help: "Share a few keys among all certificates (fast; such certificates never sign).") var sharedKeys = false
    @Option(help: "PBKDF2 cost of the synthetic holders' PIN hashes.") var pinIterations: Int = 1000
    @Option(help: "Residents per write transaction.") var batch: Int = 200

    static func percent(_ text: String, _ option: String) throws -> Double {
        let t = text.hasSuffix("%") ? String(text.dropLast()) : text
        guard let v = Double(t), v.isFinite, v >= 0, v <= 100 else {
            throw SandboxError.invalid("--\(option) is a share like 5% (0% to 100%), not \"\(text)\"")
        }
        return v
    }

    func run() throws {
        try global.run {
            guard (1...10_000).contains(batch) else { throw SandboxError.invalid("--batch must be from 1 to 10000") }
            let plan = PopulatePlan(
                residents: residents, seed: seed, revoked: try Self.percent(revoked, "revoked"),
                suspended: try Self.percent(suspended, "suspended"), moved: try Self.percent(moved, "moved"),
                minors: try Self.percent(minors, "minors"), foreign: try Self.percent(foreign, "foreign"),
                municipalities: municipalities.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
                sharedKeys: sharedKeys, pinIterations: pinIterations)
            let sandbox = try global.openSandbox()
            let reporter = ProgressReporter(json: global.json, what: "residents")
            let result = try sandbox.populate(plan, batchSize: batch) { reporter.report($0.done, $0.total, rate: $0.rate, eta: $0.eta) }
            reporter.finish()
            return result
        }
    }
}

/// Progress on stderr: a bar with rate and ETA on a terminal, a plain line every few seconds
/// otherwise, or JSON lines (`{"event":"progress",…}`) under --json.
final class ProgressReporter {
    let json: Bool
    let what: String
    let tty = isatty(STDERR_FILENO) == 1
    var lastLine = Date.distantPast

    init(json: Bool, what: String) { self.json = json; self.what = what }

    func report(_ done: Int, _ total: Int, rate: Double, eta: Double?) {
        let now = Date()
        let last = done >= total
        if json {
            let line = #"{"event":"progress","done":\#(done),"total":\#(total),"rate":\#(String(format: "%.1f", rate)),"eta":\#(eta.map { String(format: "%.0f", $0) } ?? "null")}"#
            FileHandle.standardError.write(Data((line + "\n").utf8))
            return
        }
        let etaText = eta.map { Self.duration($0) } ?? "?"
        if tty {
            guard last || now.timeIntervalSince(lastLine) >= 0.2 else { return }
            let width = 30
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let text = String(format: "\r%@ %3d%% %d/%d %@ %.0f/s ETA %@ ", bar, total > 0 ? 100 * done / total : 100, done, total, what, rate, etaText)
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            guard last || now.timeIntervalSince(lastLine) >= 5 else { return }
            FileHandle.standardError.write(Data(String(format: "%d/%d %@, %.0f/s, ETA %@\n", done, total, what, rate, etaText).utf8))
        }
        lastLine = now
    }

    func finish() { if tty && !json { FileHandle.standardError.write(Data("\n".utf8)) } }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }
}

/// `keys fill --count N`: RSA key pairs made in advance for issuance.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "The pool of key pairs made in advance: issuance takes from it instead of waiting for key generation.",
        subcommands: [Fill.self, Status.self])

    struct Fill: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make N RSA-2048 key pairs on every core and add them to the pool.",
            discussion: "Keys are stored like the certificates' keys (PEM in the owner-only database); each is used by one certificate, once. `serve` also tops the pool up while idle (--key-pool-target).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "How many keys.") var count: Int
        @Option(help: "Threads (default: every core).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

        func run() throws {
            try global.run {
                guard threads >= 1, threads <= 256 else { throw SandboxError.invalid("--threads must be from 1 to 256") }
                let sandbox = try global.openSandbox()
                let reporter = ProgressReporter(json: global.json, what: "keys")
                let started = Date()
                let result = try sandbox.fillKeyPool(count: count, threads: threads) { done in
                    let s = Date().timeIntervalSince(started)
                    let rate = Double(done) / max(s, 0.001)
                    reporter.report(done, count, rate: rate, eta: rate > 0 ? Double(count - done) / rate : nil)
                }
                reporter.finish()
                return result
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How many keys the pool holds.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                return try sandbox.keyPoolStatus()
            }
        }
    }
}

/// `serve --key-pool-target N`: a thread at the lowest priority (nice 19) that makes a few keys at a
/// time while the pool holds fewer than N, and sleeps otherwise; it never holds a write lock while
/// generating (keys are made first, then stored in one short transaction).
enum KeyPoolFiller {
    static func start(sandbox: Sandbox, target: Int, logger: Logger) {
        let thread = Thread {
            // On Linux the nice value is per thread: PRIO_PROCESS with 0 is the calling thread.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            while true {
                let added: Int
                do { added = try sandbox.topUpKeyPool(target: target) } catch {
                    logger.warning("key pool top-up failed", metadata: ["error": "\(error)"])
                    added = 0
                }
                Thread.sleep(forTimeInterval: added > 0 ? 0.05 : 5)
            }
        }
        thread.name = "key-pool-filler"
        thread.start()
    }
}
