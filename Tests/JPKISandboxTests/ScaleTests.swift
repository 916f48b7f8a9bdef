import Foundation
import Testing

/// Issue 14: `populate`, the key pool, shared keys and pre-signed OCSP for static serving, checked
/// with openssl, curl, sqlite3 (Python) and nginx.
@Suite(.serialized) struct ScaleTests {
    static let at = "2026-11-21T10:00:00+09:00"

    /// Rows of the register as the same seed must reproduce them (no keys, signatures, salts or real times).
    static func register(_ home: TempHome) throws -> String {
        let db = home.sandbox.appendingPathComponent("sandbox.sqlite").path
        let r = try Run.program("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            for q in ["SELECT id, name, name_flags, birth, sex, address, address_flags, locality, residence_until FROM residents ORDER BY id",
                      "SELECT id, resident_id, issued_at, not_after, status FROM cards ORDER BY id",
                      "SELECT serial, kind, card_id, resident_id, municipality_code, not_before, not_after, state, revoked_at, reason FROM certificates ORDER BY serial",
                      "SELECT sandbox_time, operation, applicant, resident_id, serials, detail FROM audit WHERE operation != 'init' ORDER BY id"]:
                for row in c.execute(q): print(repr(row))
            """, db])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    static func query(_ home: TempHome, _ sql: String) throws -> [String] {
        let db = home.sandbox.appendingPathComponent("sandbox.sqlite").path
        let r = try Run.program("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            for row in c.execute(sys.argv[2]): print("|".join(str(v) for v in row))
            """, db, sql])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    static func count(_ home: TempHome, _ sql: String) throws -> Int { Int(try query(home, sql).first ?? "") ?? -1 }

    @Test("populate 1,000 with a seed: exact shares, audited, CRLs read by openssl, OCSP answers from serve, shared keys refused by sign")
    func populateThousand() throws {
        let home = TempHome()
        let port = ServerProcess.freePort()
        let initialised = try Run.cli(["init", "--config", try home.config(port: port).path, "--at", Self.at, "--json"], home: home.sandbox)
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let r = try home.cli(["populate", "--residents", "1000", "--seed", "42", "--revoked", "5%", "--suspended", "1%", "--moved", "2%",
                              "--minors", "14%", "--foreign", "2.5%", "--shared-keys", "--at", Self.at, "--json"])
        #expect(r.status == 0, "populate: \(r.stderr)\(r.stdout)")
        #expect(r.json["registeredNow"] as? Int == 1000)
        #expect(r.stderr.contains(#""event":"progress""#), "progress events: \(r.stderr)")
        // Exact shares: N × P% rounded half up (2.5% of 1000 = 25).
        #expect(try Self.count(home, "SELECT COUNT(*) FROM residents") == 1000)
        #expect(try Self.count(home, "SELECT COUNT(*) FROM cards WHERE status = 'revoked'") == 50)
        #expect(try Self.count(home, "SELECT COUNT(*) FROM cards WHERE status = 'suspended'") == 10)
        #expect(try Self.count(home, "SELECT COUNT(*) FROM cards WHERE status = 'active'") == 940)
        #expect(try Self.count(home, "SELECT COUNT(*) FROM audit WHERE operation = 'resident.update'") == 20)
        #expect(try Self.count(home, "SELECT COUNT(*) FROM residents WHERE residence_until IS NOT NULL") == 25)
        #expect(try Self.count(home, "SELECT COUNT(*) FROM residents WHERE birth > '2008-11-21'") == 140, "minors: under 18 on 2026-11-21")
        // Under-15s have no signing certificate; everyone has an authentication certificate.
        #expect(try Self.count(home, "SELECT COUNT(*) FROM certificates WHERE kind = 'auth'") == 1000)
        let under15 = try Self.count(home, "SELECT COUNT(*) FROM residents WHERE birth > '2011-11-21'")
        #expect(try Self.count(home, "SELECT COUNT(*) FROM certificates WHERE kind = 'sign'") == 1000 - under15)
        let onHeldCards = try Self.count(home, "SELECT COUNT(*) FROM certificates c JOIN cards d ON d.id = c.card_id WHERE d.status = 'suspended'")
        #expect(try Self.count(home, "SELECT COUNT(*) FROM certificates WHERE state = 'hold'") == onHeldCards)
        #expect(try Self.count(home, "SELECT COUNT(*) FROM certificates WHERE reason = 'affiliationChanged'") > 0)
        // Every card with its audit entry, the chain intact; names outside JIS X 0208 substituted (〓).
        #expect(try Self.count(home, "SELECT COUNT(*) FROM audit WHERE operation = 'card.issue'") == 1000)
        let audit = try home.cli(["audit", "verify", "--json"])
        #expect(audit.status == 0, "audit verify: \(audit.stdout)\(audit.stderr)")
        #expect(try Self.count(home, "SELECT COUNT(*) FROM residents WHERE name LIKE '%〓%'") > 0)
        // A second run of the same command is complete already: nothing is added.
        let again = try home.cli(["populate", "--residents", "1000", "--seed", "42", "--revoked", "5%", "--suspended", "1%", "--moved", "2%",
                                  "--minors", "14%", "--foreign", "2.5%", "--shared-keys", "--at", Self.at, "--json"])
        #expect(again.status == 0 && again.json["registeredNow"] as? Int == 0, "\(again.stdout)")
        #expect(try Self.count(home, "SELECT COUNT(*) FROM residents") == 1000)

        // openssl reads the CRLs, with every revoked or suspended certificate.
        let out = home.file("crls")
        let crl = try home.cli(["crl", "generate", "--out", out.path, "--json"])
        #expect(crl.status == 0, "\(crl.stderr)")
        for kind in ["sign", "auth"] {
            let text = try Run.openssl(["crl", "-inform", "DER", "-in", out.appendingPathComponent("\(kind).crl").path, "-noout", "-text"])
            #expect(text.status == 0, "\(text.stderr)")
            let entries = text.stdout.components(separatedBy: "Serial Number:").count - 1
            let listed = try Self.count(home, "SELECT COUNT(*) FROM certificates WHERE kind = '\(kind)' AND state IN ('revoked', 'hold')")
            #expect(entries == listed, "\(kind).crl")
        }

        // openssl ocsp against serve, for a sample of each state.
        let server = try ServerProcess(home: home.sandbox, port: port, folder: home.url)
        defer { server.stop() }
        let samples = [("good", "SELECT serial, kind FROM certificates WHERE state = 'issued' ORDER BY serial LIMIT 3"),
                       ("revoked", "SELECT serial, kind FROM certificates WHERE state = 'revoked' ORDER BY serial LIMIT 3"),
                       ("revoked", "SELECT serial, kind FROM certificates WHERE state = 'hold' ORDER BY serial LIMIT 2")]
        for (expected, sql) in samples {
            for row in try Self.query(home, sql) {
                let parts = row.split(separator: "|").map(String.init)
                let cert = try home.certificateFile(parts[0])
                let root = home.root(parts[1]).path
                let o = try Run.openssl(["ocsp", "-issuer", root, "-cert", cert.path, "-url", server.url + "/ocsp", "-CAfile", root])
                #expect(o.stdout.contains("\(cert.path): \(expected)"), "\(parts): \(o.stdout)\(o.stderr)")
                #expect((o.stdout + o.stderr).contains("Response verify OK"))
            }
        }

        // A shared-key certificate: `cert show` says so, `sign` refuses it and changes nothing.
        let serial = try Self.query(home, "SELECT serial FROM certificates WHERE kind = 'sign' AND state = 'issued' ORDER BY serial LIMIT 1")[0]
        let show = try home.cli(["cert", "show", serial, "--json"])
        #expect((show.json["sharedKey"] as? String ?? "").contains("shared key"), "\(show.stdout)")
        let doc = home.file("doc.txt")
        try "hello".write(to: doc, atomically: true, encoding: .utf8)
        let signed = try home.cli(["sign", serial, "--pin", "SANDBOX1", "--in", doc.path, "--out", home.file("doc.p7s").path, "--json"])
        #expect(signed.status != 0 && signed.errorCode == "shared-key", "\(signed.stdout)\(signed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home.file("doc.p7s").path))
    }

    @Test("a run killed mid-way (SIGKILL) resumes to the same register as an uninterrupted run with the same seed")
    func killedRunResumes() throws {
        let args = ["populate", "--residents", "300", "--seed", "7", "--batch", "10", "--shared-keys", "--revoked", "10%",
                    "--suspended", "5%", "--moved", "5%", "--json", "--at", Self.at]
        let whole = TempHome()
        try whole.initialize(at: Self.at)
        let full = try whole.cli(args)
        #expect(full.status == 0, "\(full.stderr)\(full.stdout)")

        let killed = TempHome()
        try killed.initialize(at: Self.at)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Run.binary)
        p.arguments = args + ["--home", killed.sandbox.path]
        p.standardOutput = FileHandle.nullDevice
        let err = killed.file("populate.err")
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, p.isRunning {
            let text = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            if text.components(separatedBy: "\"event\":\"progress\"").count - 1 >= 8 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(p.isRunning, "populate ended before it could be killed")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let partial = try Self.count(killed, "SELECT COUNT(*) FROM residents")
        #expect(partial > 0 && partial < 300, "killed after \(partial) residents")
        #expect(partial % 10 == 0, "whole batches only: \(partial)")

        let resumed = try killed.cli(args)
        #expect(resumed.status == 0, "\(resumed.stderr)\(resumed.stdout)")
        #expect(resumed.json["resumedFrom"] as? Int == partial)
        #expect(resumed.json["registeredNow"] as? Int == 300 - partial)
        let a = try Self.register(whole), b = try Self.register(killed)
        #expect(a.split(separator: "\n").count > 900)
        #expect(a == b, "the resumed register differs from the uninterrupted one")

        // Another plan while one is unfinished is refused; a different seed after it is a new run with other serials.
        let other = try killed.cli(["populate", "--residents", "5", "--seed", "8", "--shared-keys", "--json", "--at", Self.at])
        #expect(other.status == 0 && other.json["run"] as? Int == 2, "\(other.stdout)")
        #expect(try Self.count(killed, "SELECT COUNT(*) FROM residents") == 305)
    }

    @Test("keys fill: issuance takes keys from the pool, each once; the pool count drops")
    func keyPool() throws {
        let home = TempHome()
        try home.initialize()
        let fill = try home.cli(["keys", "fill", "--count", "3", "--json"])
        #expect(fill.status == 0 && fill.json["available"] as? Int == 3, "\(fill.stdout)\(fill.stderr)")
        // Keys compared as trimmed PEM bodies: the rows come back in any order.
        func keys(_ text: String) -> [String] {
            text.components(separatedBy: "-----END PRIVATE KEY-----").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }
        let pool = Set(keys(try Self.query(home, "SELECT key_pem FROM key_pool").joined(separator: "\n")))
        #expect(pool.count == 3)
        let id = try home.addResident()
        let issued = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
        #expect(issued.status == 0, "\(issued.stderr)")
        #expect(try home.cli(["keys", "status", "--json"]).json["available"] as? Int == 1)
        let used = keys(try Self.query(home, "SELECT key_pem FROM certificates").joined(separator: "\n"))
        #expect(used.count == 2 && Set(used).count == 2, "two certificates, two different keys")
        for key in used { #expect(pool.contains(key), "the certificate's key came from the pool") }
        let left = try Self.query(home, "SELECT key_pem FROM key_pool").joined(separator: "\n")
        for key in used { #expect(!left.contains(key), "a used key left the pool") }
        // The one key left and a generated one; the pool is then empty and issuance still works.
        let id2 = try home.addResident(name: "鈴木 一郎", birth: "1975-01-01")
        #expect(try home.cli(["card", "issue", "--resident", String(id2), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"]).status == 0)
        #expect(try Self.count(home, "SELECT COUNT(*) FROM key_pool") == 0)
        #expect(try Self.count(home, "SELECT COUNT(DISTINCT key_pem) FROM certificates") == 4)
    }

    @Test("ocsp export: nginx serves the pre-signed answers (GET, plain and percent-encoded), openssl accepts them; revoked after a re-export")
    func staticOCSPWithNginx() throws {
        let nginx = "/usr/sbin/nginx"
        guard FileManager.default.isExecutableFile(atPath: nginx) else {
            #expect(!Run.interopRequired, "nginx is not installed (scripts/test installs it)")
            return
        }
        let home = TempHome()
        try home.initialize()
        let r = try home.cli(["populate", "--residents", "20", "--seed", "3", "--shared-keys", "--revoked", "10%", "--suspended", "10%", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let dir = home.file("static")
        let export = try home.cli(["ocsp", "export", "--out", dir.path, "--json"])
        #expect(export.status == 0, "\(export.stdout)\(export.stderr)")
        let total = try Self.count(home, "SELECT COUNT(*) FROM certificates")
        #expect(export.json["written"] as? Int == total)

        // nginx on a free loopback port, with its own prefix and configuration; stopped by PID. Started as
        // root, its worker runs as nobody: the test folder (0700, made by init) must let it through.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: home.url.path)
        let port = ServerProcess.freePort()
        let prefix = home.file("nginx")
        try FileManager.default.createDirectory(at: prefix.appendingPathComponent("logs"), withIntermediateDirectories: true)
        let conf = prefix.appendingPathComponent("nginx.conf")
        let snippet = try String(contentsOf: Run.repoRoot.appendingPathComponent("docs/static-ocsp.md"), encoding: .utf8)
        #expect(snippet.contains("merge_slashes off"))
        try """
        daemon off;
        worker_processes 1;
        pid \(prefix.path)/nginx.pid;
        error_log \(prefix.path)/logs/error.log;
        events { worker_connections 64; }
        http {
            access_log off;
            client_body_temp_path \(prefix.path)/body; proxy_temp_path \(prefix.path)/proxy;
            fastcgi_temp_path \(prefix.path)/fastcgi; uwsgi_temp_path \(prefix.path)/uwsgi; scgi_temp_path \(prefix.path)/scgi;
            server {
                listen 127.0.0.1:\(port);
                merge_slashes off;
                root \(dir.path);
                location /ocsp/ {
                    default_type application/ocsp-response;
                    add_header Cache-Control "public, max-age=300, no-transform";
                }
            }
        }
        """.write(to: conf, atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: nginx)
        server.arguments = ["-p", prefix.path, "-c", conf.path]
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { kill(server.processIdentifier, SIGTERM); server.waitUntilExit() }
        let url = "http://127.0.0.1:\(port)"
        var up = false
        for _ in 0..<100 where !up {
            up = (try? HTTP.request(url + "/ocsp/none", folder: home.url))?.status == 404
            if !up { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(up, "nginx did not come up: \((try? String(contentsOf: prefix.appendingPathComponent("logs/error.log"), encoding: .utf8)) ?? "")")

        func ask(_ serial: String, _ kind: String, encoded: Bool) throws -> String {
            let cert = try home.certificateFile(serial)
            let root = home.root(kind).path
            let req = home.file("\(serial).req"), resp = home.file("\(serial)-\(encoded).resp")
            // The request openssl itself makes (SHA-1 CertID, no nonce), sent as an RFC 5019 GET.
            let made = try Run.openssl(["ocsp", "-issuer", root, "-cert", cert.path, "-no_nonce", "-reqout", req.path])
            #expect(made.status == 0, "\(made.stderr)")
            var b64 = try Data(contentsOf: req).base64EncodedString()
            if encoded { b64 = b64.replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "=", with: "%3D") }
            let reply = try HTTP.request(url + "/ocsp/" + b64, folder: home.url)
            #expect(reply.status == 200, "GET \(b64): \(reply.status)")
            #expect(reply.headers["content-type"] == "application/ocsp-response")
            try reply.body.write(to: resp)
            let o = try Run.openssl(["ocsp", "-respin", resp.path, "-issuer", root, "-cert", cert.path, "-CAfile", root, "-no_nonce"])
            #expect((o.stdout + o.stderr).contains("Response verify OK"), "\(o.stdout)\(o.stderr)")
            return o.stdout
        }
        let good = try Self.query(home, "SELECT serial, kind FROM certificates WHERE state = 'issued' ORDER BY serial LIMIT 2")
        for (i, row) in good.enumerated() {
            let p = row.split(separator: "|").map(String.init)
            #expect(try ask(p[0], p[1], encoded: i == 1).contains(": good"))
        }
        let held = try Self.query(home, "SELECT serial, kind FROM certificates WHERE state = 'hold' LIMIT 1")[0].split(separator: "|").map(String.init)
        let heldAnswer = try ask(held[0], held[1], encoded: false)
        #expect(heldAnswer.contains(": revoked") && heldAnswer.contains("certificateHold"), "\(heldAnswer)")

        // Revoked, re-exported (only what changed since): the static answer says revoked.
        let target = good[0].split(separator: "|").map(String.init)
        #expect(try home.cli(["cert", "revoke", target[0], "--reason", "keyCompromise", "--json"]).status == 0)
        let again = try home.cli(["ocsp", "export", "--out", dir.path, "--since", "2000-01-01", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let after = try ask(target[0], target[1], encoded: true)
        #expect(after.contains(": revoked") && after.contains("keyCompromise"), "\(after)")
    }
}
