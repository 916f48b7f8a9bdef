import Foundation
import Testing

/// The register in PostgreSQL through the real binary: `init --database`, the CLI, and two `serve`
/// processes sharing it (docs/postgres.md).
@Suite("PostgreSQL register: the CLI and two serves on one register", .serialized)
struct PostgresServeTests {
    func crlNumber(_ der: Data, folder: URL) throws -> Int? {
        let file = folder.appendingPathComponent("crl-\(UUID().uuidString).der")
        try der.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try Run.openssl(["crl", "-inform", "DER", "-in", file.path, "-noout", "-crlnumber"])
        guard r.status == 0, let hex = r.stdout.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        return Int(hex.hasPrefix("0x") ? String(hex.dropFirst(2)) : hex, radix: 16)
    }

    func ocsp(_ home: TempHome, _ server: ServerProcess, _ cert: URL) throws -> String {
        let root = home.root("sign").path
        let r = try Run.openssl(["ocsp", "-issuer", root, "-url", server.url + "/ocsp", "-CAfile", root, "-cert", cert.path, "-no_nonce"])
        return r.stdout + r.stderr
    }

    @Test("a revocation through the CLI shows in both servers' next OCSP answers; concurrent issuance and CRLs never repeat a serial or a cRLNumber")
    func twoServes() throws {
        guard let register = try RegisterBackend.postgres.fresh() else { return }
        let home = TempHome()
        let port1 = ServerProcess.freePort(), port2 = ServerProcess.freePort()
        let init_ = try Run.cli(["init", "--config", try home.config(port: port1).path, "--database", register.location,
                                 "--at", "2026-11-21T10:00:00+09:00", "--json"], home: home.sandbox)
        #expect(init_.status == 0, "init: \(init_.stderr)\(init_.stdout)")
        // The home records the register; there is no SQLite file.
        #expect(FileManager.default.fileExists(atPath: home.sandbox.appendingPathComponent("database.url").path))
        #expect(!FileManager.default.fileExists(atPath: home.sandbox.appendingPathComponent("sandbox.sqlite").path))
        // A second init on the same register is refused and changes nothing.
        let other = TempHome()
        let again = try Run.cli(["init", "--database", register.location, "--json"], home: other.sandbox)
        #expect(again.status != 0 && again.errorMessage.contains("already holds a sandbox"), "\(again.stdout)")

        let id = try home.addResident()
        let issued = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
        #expect(issued.status == 0, "card issue: \(issued.stderr)\(issued.stdout)")
        let serials = (issued.json["certificates"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String == "sign" ? $0["serial"] as? String : nil }
        let serial = try #require(serials.first)
        let cert = try home.certificateFile(serial)

        let s1 = try ServerProcess(home: home.sandbox, port: port1, folder: home.url)
        defer { s1.stop() }
        let s2 = try ServerProcess(home: home.sandbox, port: port2, folder: home.url)
        defer { s2.stop() }
        for s in [s1, s2] {
            let out = try ocsp(home, s, cert)
            #expect(out.contains("\(cert.path): good") && out.contains("Response verify OK"), "\(s.port): \(out)")
        }
        // Revoked through the CLI: each server's very next answer says so (both had it cached as good).
        let revoke = try home.cli(["cert", "revoke", serial, "--reason", "keyCompromise", "--json"])
        #expect(revoke.status == 0, "\(revoke.stderr)\(revoke.stdout)")
        for s in [s1, s2] {
            let out = try ocsp(home, s, cert)
            #expect(out.contains("\(cert.path): revoked") && out.contains("Reason: keyCompromise"), "\(s.port): \(out)")
        }

        // Concurrent issuance and CRL generation from two CLI streams while both servers serve CRLs.
        let failures = StoreBackendTests.Box<[String]>([])
        let cliNumbers = StoreBackendTests.Box<[Int]>([])
        let rounds = 3
        let sandbox = home.sandbox, folder = home.url
        StoreBackendTests.concurrently(2) { stream in
            for round in 0..<rounds {
                do {
                    let r = try Run.cli(["resident", "add", "--name", "並行 \(stream)\(round)", "--birth", "1980-01-0\(round + 1)", "--sex", "female",
                                          "--address", "埼玉県川越市元町1丁目3番地1", "--json"], home: sandbox)
                    guard let rid = r.json["id"] as? Int else { failures.update { $0.append("resident: \(r.stdout)\(r.stderr)") }; continue }
                    let c = try Run.cli(["card", "issue", "--resident", String(rid), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"], home: sandbox)
                    if c.status != 0 { failures.update { $0.append("card issue: \(c.stdout)\(c.stderr)") } }
                    let out = folder.appendingPathComponent("crl-\(stream)-\(round)")
                    let g = try Run.cli(["crl", "generate", "--out", out.path, "--no-partitions", "--json"], home: sandbox)
                    if g.status != 0 { failures.update { $0.append("crl generate: \(g.stdout)\(g.stderr)") } }
                    if let der = try? Data(contentsOf: out.appendingPathComponent("sign.crl")), let n = try crlNumber(der, folder: folder) {
                        cliNumbers.update { $0.append(n) }
                    } else {
                        failures.update { $0.append("no CRL in \(out.path)") }
                    }
                } catch { failures.update { $0.append("\(error)") } }
            }
        }
        #expect(failures.value == [])
        #expect(cliNumbers.value.count == 2 * rounds)
        #expect(Set(cliNumbers.value).count == cliNumbers.value.count, "cRLNumbers: \(cliNumbers.value)")
        // The servers' CRLs (each regenerates after the changes) have numbers of their own.
        var serverNumbers: [Set<Int>] = []
        for s in [s1, s2] {
            let reply = try HTTP.request(s.url + "/crl/sign.crl", folder: home.url)
            #expect(reply.status == 200)
            serverNumbers.append(Set([try crlNumber(reply.body, folder: home.url)].compactMap { $0 }))
        }
        #expect(serverNumbers[0].isDisjoint(with: serverNumbers[1]) && serverNumbers[0].isDisjoint(with: cliNumbers.value)
                && serverNumbers[1].isDisjoint(with: cliNumbers.value), "\(serverNumbers) \(cliNumbers.value)")
        // Every certificate issued is there once: 2 of the first card, 2 per concurrent card.
        let list = try home.cli(["cert", "list", "--limit", "1000", "--json"])
        let listed = (list.json["certificates"] as? [[String: Any]] ?? []).compactMap { $0["serial"] as? String }
        #expect(listed.count == 2 + 2 * 2 * rounds, "\(list.stdout.prefix(300))")
        #expect(Set(listed).count == listed.count)
        #expect(try home.cli(["audit", "verify", "--json"]).status == 0)
    }

    @Test("[database] url in the configuration: init records it, later commands use it; a URL that is not postgres:// is refused")
    func configuredURL() throws {
        let home = TempHome()
        var text = try String(contentsOf: try home.config(port: ServerProcess.freePort()), encoding: .utf8)
        let bad = home.file("bad.toml")
        try (text + "\n[database]\nurl = \"mysql://x/y\"\n").write(to: bad, atomically: true, encoding: .utf8)
        let refused = try Run.cli(["init", "--config", bad.path, "--json"], home: home.sandbox)
        #expect(refused.status != 0 && refused.errorCode == "config" && refused.errorMessage.contains("postgres://"), "\(refused.stdout)")
        #expect(!FileManager.default.fileExists(atPath: home.sandbox.path))
        guard let register = try RegisterBackend.postgres.fresh() else { return }
        text += "\n[database]\nurl = \"\(register.location)\"\n"
        let good = home.file("good.toml")
        try text.write(to: good, atomically: true, encoding: .utf8)
        let r = try Run.cli(["init", "--config", good.path, "--json"], home: home.sandbox)
        #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
        let recorded = try String(contentsOf: home.sandbox.appendingPathComponent("database.url"), encoding: .utf8)
        #expect(recorded == register.location)
        let attributes = try FileManager.default.attributesOfItem(atPath: home.sandbox.appendingPathComponent("database.url").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let id = try home.addResident()
        #expect(id == 1)
        let audit = try home.cli(["audit", "--json"])
        #expect((audit.json["entries"] as? [[String: Any]] ?? []).map { $0["operation"] as? String } == ["init", "resident.add"], "\(audit.stdout.prefix(400))")
        // A register that cannot be reached: a clear error naming it.
        let down = try Run.cli(["resident", "list", "--database", "postgres://nobody@127.0.0.1:1/none", "--json"], home: home.sandbox)
        #expect(down.status != 0 && down.errorMessage.contains("cannot connect to the register at postgres://nobody@127.0.0.1:1/none"), "\(down.stdout)")
    }
}
