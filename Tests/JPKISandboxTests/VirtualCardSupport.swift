import Foundation
import Testing

/// pcscd with vsmartcard's vpcd reader, for the virtual-card tests. Started once per test process by
/// `scripts/pcsc start` (unless one is already running, which is then left alone) and stopped by
/// `scripts/pcsc stop` when the process exits.
enum PCSC {
    static let module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
    static let systemPython = "/usr/bin/python3"

    /// Whether the Debian packages are installed (scripts/pcsc installs them when missing).
    static var installed: Bool {
        ["/usr/sbin/pcscd", "/usr/bin/opensc-tool", "/usr/bin/pkcs15-tool", "/usr/bin/pkcs11-tool", module]
            .allSatisfy { FileManager.default.fileExists(atPath: $0) }
            && FileManager.default.fileExists(atPath: "/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
    }

    /// True once pcscd runs. Under JPKI_REQUIRE_INTEROP=1 a missing pcscd is a failure (the caller
    /// records it); otherwise the tests that need it skip.
    static let running: Bool = {
        if script("status") == 0 { return true }
        guard installed || Run.interopRequired else { return false }
        guard script("start") == 0 else { return false }
        atexit { _ = PCSC.script("stop") }
        return true
    }()

    /// Runs `scripts/pcsc COMMAND` and returns its exit status. Its output goes to a file, not a pipe:
    /// `start` leaves pcscd running, and a pipe read to its end is the wrong way to wait for that.
    static func script(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = Run.repoRoot.appendingPathComponent("scripts/pcsc")
        p.arguments = [command]
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("jpki-pcsc-\(command)-\(getpid()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        guard let handle = try? FileHandle(forWritingTo: log) else { return -1 }
        defer { try? handle.close(); try? FileManager.default.removeItem(at: log) }
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// For a test that needs pcscd: true to go on; false to skip (recorded as a failure when interop is required).
    static func ready() -> Bool {
        if running { return true }
        #expect(!Run.interopRequired, "JPKI_REQUIRE_INTEROP=1 but pcscd with vpcd could not be started (scripts/pcsc start)")
        return false
    }

    static func opensc(_ tool: String, _ args: [String]) throws -> Run.Result {
        try Run.program("/usr/bin/\(tool)", args)
    }

    static func pkcs11(_ args: [String]) throws -> Run.Result {
        try Run.program("/usr/bin/pkcs11-tool", ["--module", module] + args)
    }

    /// Raw APDUs through PC/SC in one session (scripts/interop/apdu_replay.py, pyscard).
    static func replay(reader: Int = 0, _ apdus: [String]) throws -> [[String: String]] {
        let r = try Run.program(systemPython, [Run.repoRoot.appendingPathComponent("scripts/interop/apdu_replay.py").path,
                                               "Virtual PCD 00 0\(reader)"] + apdus)
        #expect(r.status == 0, "apdu_replay: \(r.stderr)")
        return (r.json["answers"] as? [[String: String]]) ?? []
    }
}

/// A `jpki-sandbox card insert` subprocess. Ready when it printed "inserted" and PC/SC sees the card;
/// always stopped (SIGTERM, then SIGKILL) by `stop()` or `deinit`.
final class CardProcess {
    let process = Process()
    let out: URL
    let err: URL
    let slot: Int

    init(home: URL, card: Int64, slot: Int = 0, reader: String? = nil, folder: URL, waitForPCSC: Bool = true,
         environment: [String: String] = [:]) throws {
        self.slot = slot
        if waitForPCSC {
            // The slot must be empty, or pcscd would keep talking to the card already in it.
            var empty = false
            for _ in 0..<50 where !empty {
                empty = !((try? PCSC.opensc("opensc-tool", ["--reader", String(slot), "--atr"]))?.status == 0)
                if !empty { Thread.sleep(forTimeInterval: 0.2) }
            }
            guard empty else { throw CardFailed(log: "reader slot \(slot) already holds a card (another `card insert`?)") }
        }
        out = folder.appendingPathComponent("card-\(card)-\(slot)-\(UUID().uuidString.prefix(8)).out")
        err = out.deletingPathExtension().appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Run.binary)
        process.arguments = ["card", "insert", String(card), "--home", home.path, "--slot", String(slot)] + (reader.map { ["--reader", $0] } ?? [])
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if output.contains("inserted") { break }
            if !process.isRunning { throw CardFailed(log: log) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard output.contains("inserted") else { stop(); throw CardFailed(log: log) }
        guard waitForPCSC else { return }
        // pcscd polls the reader about every 400 ms: wait until it reports the card.
        while Date() < deadline {
            let atr = try PCSC.opensc("opensc-tool", ["--reader", String(slot), "--atr"])
            if atr.stdout.lowercased().contains("3b:e0:00:ff:81:31:fe:45:14") { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        stop()
        throw CardFailed(log: "pcscd never saw the card in slot \(slot). " + log)
    }

    var output: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
    var log: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    /// Waits for the process to end by itself (e.g. its card was revoked).
    func waitForExit(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return !process.isRunning
    }

    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            if !waitForExit(timeout: 10) { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        // Let pcscd notice the removal before the next card goes into the same slot.
        Thread.sleep(forTimeInterval: 0.5)
        return process.terminationStatus
    }

    deinit { if process.isRunning { stop() } }

    struct CardFailed: Error, CustomStringConvertible {
        let log: String
        var description: String { "card insert did not come up: \(log)" }
    }
}

/// A sandbox with one adult's card (signing PIN ABC123, authentication PIN 1234), made through the CLI.
struct CardFixture {
    let home = TempHome()
    var cardID: Int64 = 0
    var sign = "", auth = ""

    /// `ocspPort`: the sandbox's OCSP and CRL URLs point at a `serve` on that port.
    init(name: String = "山田 太郎", ocspPort: Int? = nil) throws {
        if let ocspPort {
            let r = try Run.cli(["init", "--config", try home.config(port: ocspPort).path, "--json"], home: home.sandbox)
            #expect(r.status == 0, "\(r.stderr)")
        } else {
            try home.initialize()
        }
        let resident = try home.addResident(name: name, at: ISO8601DateFormatter().string(from: Date()))
        try issue(resident: resident)
    }

    mutating func issue(resident: Int) throws {
        let card = try home.cli(["card", "issue", "--resident", String(resident), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
        #expect(card.status == 0, "\(card.stderr)")
        cardID = Int64((card.json["card"] as? [String: Any])?["id"] as? Int ?? 0)
        for c in card.json["certificates"] as? [[String: Any]] ?? [] {
            if c["kind"] as? String == "sign" { sign = c["serial"] as? String ?? "" } else { auth = c["serial"] as? String ?? "" }
        }
    }

    /// The certificate as DER, from `cert show`.
    func certificateDER(_ serial: String) throws -> [UInt8] {
        let pem = try home.cli(["cert", "show", serial, "--json"]).json["pem"] as? String ?? ""
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return [UInt8](Data(base64Encoded: body) ?? Data())
    }

    func insert(slot: Int = 0, environment: [String: String] = [:]) throws -> CardProcess {
        try CardProcess(home: home.sandbox, card: cardID, slot: slot, folder: home.url, environment: environment)
    }
}
