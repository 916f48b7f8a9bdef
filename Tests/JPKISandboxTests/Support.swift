import Foundation
import Testing

/// Runs programs: our CLI, openssl, and the Python interop checkers.
enum Run {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:]
        }
        /// The `error.message` of a `--json` answer ("" when there is none).
        var errorMessage: String {
            guard let error = json["error"] as? [String: Any], let message = error["message"] as? String else { return "" }
            return message
        }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The built `jpki-sandbox`, next to the test bundle.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["JPKI_SANDBOX_BIN"] { return path }
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(), Bundle.main.bundleURL,
                          Bundle.main.bundleURL.deletingLastPathComponent()]
        candidates.append(repoRoot.appendingPathComponent(".build/debug"))
        for c in candidates {
            let p = c.appendingPathComponent("jpki-sandbox").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return repoRoot.appendingPathComponent(".build/debug/jpki-sandbox").path
    }()

    static func program(_ path: String, _ args: [String], env: [String: String] = [:], cwd: URL? = nil, input: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        p.currentDirectoryURL = cwd ?? repoRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        let stdin = Pipe()
        if input != nil { p.standardInput = stdin }
        try p.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        // Read both pipes while the program runs, so a large output cannot block it.
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box()
        let group = DispatchGroup()
        group.enter()
        let reader = out.fileHandleForReading
        DispatchQueue.global().async { outBox.data = reader.readDataToEndOfFile(); group.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outBox.data, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    static func cli(_ args: [String], home: URL) throws -> Result {
        try program(binary, args + ["--home", home.path])
    }

    static func openssl(_ args: [String], cwd: URL? = nil) throws -> Result {
        try program("/usr/bin/openssl", args, cwd: cwd)
    }

    /// The Python of the venv `scripts/test` makes, or nil when the interop tools are not set up
    /// (then tests that need them are skipped, unless JPKI_REQUIRE_INTEROP=1 makes that a failure).
    static let venvPython: String? = {
        let venv = ProcessInfo.processInfo.environment["JPKI_SANDBOX_VENV"] ?? repoRoot.appendingPathComponent(".venv").path
        let python = venv + "/bin/python"
        return FileManager.default.isExecutableFile(atPath: python) ? python : nil
    }()

    static var interopRequired: Bool { ProcessInfo.processInfo.environment["JPKI_REQUIRE_INTEROP"] == "1" }

    static func interop(_ script: String, _ args: [String]) throws -> Result {
        guard let python = venvPython else {
            throw InteropMissing()
        }
        return try program(python, [repoRoot.appendingPathComponent("scripts/interop/\(script)").path] + args)
    }
}

struct InteropMissing: Error, CustomStringConvertible {
    var description: String { "the Python interop tools are not installed: run scripts/test (it makes .venv)" }
}

/// A fresh sandbox folder per test, removed afterwards.
final class TempHome {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("jpki-test-\(UUID().uuidString)")
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    var sandbox: URL { url.appendingPathComponent("home") }
    func file(_ name: String) -> URL {
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.appendingPathComponent(name)
    }

    /// `init` at a fixed date so that validity is reproducible.
    @discardableResult
    func initialize(at: String = "2026-11-21T10:00:00+09:00") throws -> Run.Result {
        let r = try Run.cli(["init", "--at", at, "--json"], home: sandbox)
        #expect(r.status == 0, "init failed: \(r.stderr)\(r.stdout)")
        return r
    }

    func cli(_ args: [String]) throws -> Run.Result { try Run.cli(args, home: sandbox) }

    /// The CLI with extra environment variables and standard input (secrets given off the command line).
    func cli(_ args: [String], env: [String: String], input: String? = nil) throws -> Run.Result {
        try Run.program(Run.binary, args + ["--home", sandbox.path], env: env, input: input)
    }

    /// `resident add` returning the id.
    func addResident(name: String = "山田 太郎", birth: String = "1980-12-31", sex: String = "male",
                     address: String = "埼玉県川越市元町1丁目3番地1", extra: [String] = [], at: String = "2026-11-21") throws -> Int {
        let r = try cli(["resident", "add", "--name", name, "--birth", birth, "--sex", sex, "--address", address, "--json", "--at", at] + extra)
        #expect(r.status == 0, "resident add failed: \(r.stderr)\(r.stdout)")
        return r.json["id"] as? Int ?? -1
    }

    /// Everything in the database except the audit log, as text, to prove a command changed nothing.
    func snapshot(includingAudit: Bool = true) throws -> String {
        let db = sandbox.appendingPathComponent("sandbox.sqlite").path
        let tables = ["meta", "residents", "cards", "certificates", "requests"] + (includingAudit ? ["audit"] : [])
        let r = try Run.program("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            for t in sys.argv[2:]:
                for row in c.execute(f"SELECT * FROM {t} ORDER BY 1"): print(t, repr(row))
            """, db] + tables)
        #expect(r.status == 0, "snapshot: \(r.stderr)")
        return r.stdout
    }

    /// The audit entries (operation, outcome), oldest first.
    func auditOutcomes() throws -> [(String, String)] {
        let r = try cli(["audit", "--json"])
        return (r.json["entries"] as? [[String: Any]] ?? []).map { ($0["operation"] as? String ?? "", $0["outcome"] as? String ?? "") }
    }

    /// Runs SQL on the sandbox database directly (to simulate tampering).
    func sql(_ statement: String) throws {
        let db = sandbox.appendingPathComponent("sandbox.sqlite").path
        let r = try Run.program("/usr/bin/env", ["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", db, statement])
        #expect(r.status == 0, "sql: \(r.stderr)")
    }
}

/// SplitMix64: a small generator whose sequence is fixed by its seed, so that a fuzz loop or the crash
/// test can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
