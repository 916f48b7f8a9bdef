import Foundation
import Testing

/// Issue 8, "How it is checked": kill -9 of the CLI and of `serve` during mixed operations. Bounded: it
/// stops after `targetKills` kills or `budget` seconds, whichever comes first, and then checks:
/// nothing acknowledged is lost (every command that exited 0 has its effect in the database), no serial
/// twice, `audit verify` passes, cRLNumbers never repeat or go down, `PRAGMA integrity_check` is ok.
@Suite(.serialized) struct CrashTests {
    static let targetKills = 100
    static let budget: TimeInterval = 100


    /// A CLI run that may be killed: nil when it was, else its exit status and stdout.
    func runMaybeKilled(_ args: [String], home: URL, killAfter: TimeInterval?, folder: URL) throws -> (status: Int32, stdout: String)? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Run.binary)
        p.arguments = args + ["--home", home.path, "--json"]
        p.currentDirectoryURL = Run.repoRoot
        let out = folder.appendingPathComponent("crash-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        if let killAfter {
            let deadline = Date().addingTimeInterval(killAfter)
            while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                return nil
            }
        }
        p.waitUntilExit()
        if p.terminationReason == .uncaughtSignal { return nil }
        return (p.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
    }

    /// A `serve` started for this test, given `startDeadline` to print its address. One that does not is
    /// killed (SIGKILL, counted) and started again: a start-up is one more moment to be killed in.
    final class Server {
        let process = Process()
        let out: URL
        init(home: URL, port: Int, folder: URL) throws {
            out = folder.appendingPathComponent("serve-\(UUID().uuidString).out")
            FileManager.default.createFile(atPath: out.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: Run.binary)
            process.arguments = ["serve", "--home", home.path, "--port", String(port), "--json"]
            process.currentDirectoryURL = Run.repoRoot
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = FileHandle.nullDevice
            try process.run()
        }
        func waitReady(_ seconds: TimeInterval) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline && process.isRunning {
                if let text = try? String(contentsOf: out, encoding: .utf8), text.contains("\"port\"") { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }
        func kill9() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: out)
        }
        deinit { kill9() }
    }

    static let startDeadline: TimeInterval = 30

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// A query's rows, tab-separated, through Python's sqlite3 (a reader we did not write).
    func query(_ home: TempHome, _ sql: String) throws -> [String] {
        let db = home.sandbox.appendingPathComponent("sandbox.sqlite").path
        let r = try Run.program("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            for row in c.execute(sys.argv[2]): print("\\t".join(str(v) for v in row))
            """, db, sql])
        #expect(r.status == 0, "sqlite: \(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// The cRLNumber of a DER CRL, in decimal, read by openssl.
    func crlNumber(_ der: Data, folder: URL) throws -> Int? {
        let file = folder.appendingPathComponent("crl-\(UUID().uuidString).der")
        try der.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try Run.openssl(["crl", "-inform", "DER", "-in", file.path, "-noout", "-crlnumber"])
        guard r.status == 0, let hex = r.stdout.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        return Int(hex, radix: 16)
    }

    @Test("kill -9 of the CLI and of serve during mixed operations: nothing acknowledged lost, no serial twice, audit and cRLNumbers intact")
    func killNine() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["JPKI_CRASH_SEED"] ?? "") ?? UInt64(Date().timeIntervalSince1970)
        var rng = SeededGenerator(state: seed)
        let home = TempHome()
        let port = ServerProcess.freePort()
        let init_ = try home.cli(["init", "--config", try home.config(port: port).path, "--json"])
        #expect(init_.status == 0, "\(init_.stderr)")
        var residents: [Int] = []
        for i in 0..<3 { residents.append(try home.addResident(name: "山田 太郎\(["一", "二", "三"][i])", at: TokyoDay.today)) }
        var kills = 0, serverKills = 0, stalledStarts = 0
        /// Starts `serve`, killing and restarting a start-up that stalls; nil after `attempts` stalls in a row.
        func startServer(attempts: Int) throws -> Server? {
            for _ in 0..<attempts {
                let s = try Server(home: home.sandbox, port: port, folder: home.url)
                if s.waitReady(Self.startDeadline) { return s }
                s.kill9()
                kills += 1; serverKills += 1; stalledStarts += 1
            }
            return nil
        }
        var server = try startServer(attempts: 3)
        #expect(server != nil, "serve did not start")

        // What was acknowledged (exit 0), in order.
        var ackedSerials: [String] = []          // issued
        var ackedRevoked: [String] = []          // revoked by cert revoke / card revoke
        var ackedResidents: [Int] = []
        var crlObservations: [(kind: String, number: Int, source: String, bytes: Data)] = []
        var goodSerials: [String] = []
        var cards: [Int] = []
        var acknowledged = 0, refused = 0, iterations = 0
        let start = Date()

        while kills < Self.targetKills && Date().timeIntervalSince(start) < Self.budget {
            iterations += 1
            // Every 30th step kills the server during the run, then starts it again.
            if iterations % 30 == 0 {
                if let s = server { s.kill9(); kills += 1; serverKills += 1 }
                server = try startServer(attempts: 1)
            }
            // A third of the commands run to the end (acknowledged or refused); the rest are killed after 0–400 ms.
            let killAfter: TimeInterval? = Int.random(in: 0..<3, using: &rng) == 0 ? nil : Double.random(in: 0...0.4, using: &rng)
            let op = Int.random(in: 0..<8, using: &rng)
            var args: [String]
            switch op {
            case 0, 1:
                args = ["card", "issue", "--resident", String(residents.randomElement(using: &rng)!), "--sign-pin", "ABC123", "--auth-pin", "1234"]
            case 2 where !goodSerials.isEmpty:
                args = ["cert", "revoke", goodSerials.randomElement(using: &rng)!, "--reason", "keyCompromise"]
            case 3 where !cards.isEmpty:
                args = ["card", Bool.random(using: &rng) ? "suspend" : "resume", String(cards.randomElement(using: &rng)!), "--pin", "1234"]
                if args[1] == "suspend" { args.removeLast(2) }
            case 4:
                args = ["crl", "generate", "--out", home.url.appendingPathComponent("crl").path, "--no-partitions"]
            case 5 where !goodSerials.isEmpty:
                args = ["pin", "verify", goodSerials.randomElement(using: &rng)!, "--pin", "000000"]
            case 6:
                args = ["resident", "add", "--name", "佐藤 花子", "--birth", "1990-01-01", "--sex", "female", "--address", "埼玉県川越市元町1丁目3番地1"]
            default:
                // The server is read too: its current CRL and its number.
                if server != nil {
                    let kind = Bool.random(using: &rng) ? "sign" : "auth"
                    let reply = try HTTP.request("http://127.0.0.1:\(port)/crl/\(kind).crl", folder: home.url)
                    if reply.status == 200, let n = try crlNumber(reply.body, folder: home.url) {
                        crlObservations.append((kind, n, "serve", reply.body))
                    }
                }
                continue
            }
            guard let result = try runMaybeKilled(args, home: home.sandbox, killAfter: killAfter, folder: home.url) else {
                kills += 1
                continue
            }
            guard result.status == 0 else { refused += 1; continue }
            acknowledged += 1
            let answer = json(result.stdout)
            switch (args[0], args[1]) {
            case ("card", "issue"):
                let serials = (answer["certificates"] as? [[String: Any]] ?? []).compactMap { $0["serial"] as? String }
                #expect(serials.count == 2, "\(result.stdout)")
                ackedSerials += serials
                goodSerials += serials
                if let card = (answer["card"] as? [String: Any])?["id"] as? Int { cards.append(card) }
            case ("cert", "revoke"):
                ackedRevoked.append(args[2])
                goodSerials.removeAll { $0 == args[2] }
            case ("crl", "generate"):
                for crl in answer["crls"] as? [[String: Any]] ?? [] {
                    if let kind = crl["kind"] as? String, let n = crl["number"] as? Int, let file = crl["file"] as? String {
                        crlObservations.append((kind, n, "crl generate", (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()))
                    }
                }
            case ("resident", "add"):
                if let id = answer["id"] as? Int { ackedResidents.append(id) }
            default: break
            }
        }
        server?.kill9()
        let elapsed = Date().timeIntervalSince(start)
        print("crash test (seed \(seed)): \(iterations) steps, \(kills) kills (\(serverKills) of serve, \(stalledStarts) of them a start-up still silent after \(Int(Self.startDeadline)) s), \(acknowledged) acknowledged, \(refused) refused, \(crlObservations.count) cRLNumbers seen, \(String(format: "%.0f", elapsed)) s")
        #expect(kills >= 20, "too few kills to mean anything: \(kills)")

        // Nothing acknowledged lost.
        let stored = Dictionary(uniqueKeysWithValues: try query(home, "SELECT serial, state FROM certificates").compactMap { line -> (String, String)? in
            let f = line.split(separator: "\t").map(String.init)
            return f.count == 2 ? (f[0], f[1]) : nil
        })
        for serial in ackedSerials { #expect(stored[serial] != nil, "issued serial \(serial) lost") }
        for serial in ackedRevoked { #expect(stored[serial] == "revoked", "revocation of \(serial) lost: \(stored[serial] ?? "missing")") }
        let residentIDs = Set(try query(home, "SELECT id FROM residents").compactMap { Int($0) })
        for id in ackedResidents { #expect(residentIDs.contains(id), "resident \(id) lost") }

        // No serial twice: not among the answers, not in the register (certificates and audit).
        #expect(Set(ackedSerials).count == ackedSerials.count)
        #expect(try query(home, "SELECT serial FROM certificates GROUP BY serial HAVING COUNT(*) > 1").isEmpty)

        // cRLNumbers, per root: the server's only go up (across its restarts too), `crl generate`'s strictly
        // increase, and one number never names two different CRLs (nor a server's and the CLI's).
        for kind in ["sign", "auth"] {
            let seen = crlObservations.filter { $0.kind == kind }
            for source in ["serve", "crl generate"] {
                let numbers = seen.filter { $0.source == source }.map(\.number)
                for (a, b) in zip(numbers, numbers.dropFirst()) {
                    #expect(source == "serve" ? b >= a : b > a, "\(kind) (\(source)): cRLNumber \(a) then \(b)")
                }
            }
            var byNumber: [Int: Data] = [:]
            for o in seen {
                if let earlier = byNumber[o.number] { #expect(earlier == o.bytes, "\(kind): cRLNumber \(o.number) names two different CRLs") }
                byNumber[o.number] = o.bytes
            }
            let reserved = try query(home, "SELECT value FROM meta WHERE key = 'crl.\(kind).number'").first.flatMap { Int($0) } ?? 0
            #expect(reserved >= (seen.map(\.number).max() ?? 0), "\(kind): the database's cRLNumber \(reserved) is behind one published")
        }

        let audit = try home.cli(["audit", "verify", "--json"])
        #expect(audit.status == 0, "audit verify: \(audit.stdout)\(audit.stderr)")
        #expect(try query(home, "PRAGMA integrity_check") == ["ok"])
    }
}
