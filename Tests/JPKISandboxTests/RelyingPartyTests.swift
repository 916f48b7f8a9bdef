import Foundation
import Testing

/// What relying-party clients nobody here wrote do with sandbox certificates (issue 11, item 4), each
/// through the snippet that docs/integration.md ("Relying-party clients") shows, from
/// scripts/interop/clients/. Research behind each: ../shared/docs/jpki-domain.md, "Relying-party
/// clients seen against sandbox certificates".
@Suite("relying-party clients")
struct RelyingPartyTests {
    static let clients = Run.repoRoot.appendingPathComponent("scripts/interop/clients")

    /// A sandbox with one adult's card, served on a free port, the certificates' URLs pointing at it.
    /// `options` are the sandbox.toml settings to change (e.g. "include_signer_certificate = true").
    final class Fixture {
        let home = TempHome()
        let server: ServerProcess
        let signSerial: String
        let leaf: URL
        let root: URL

        init(options: [String: String] = [:]) throws {
            let port = ServerProcess.freePort()
            let config = try home.config(port: port)
            var text = try String(contentsOf: config, encoding: .utf8)
            for (from, to) in options { text = text.replacingOccurrences(of: from, with: to) }
            try text.write(to: config, atomically: true, encoding: .utf8)
            let initialised = try home.cli(["init", "--config", config.path, "--json"])
            #expect(initialised.status == 0, "init: \(initialised.stdout)\(initialised.stderr)")
            let resident = try home.addResident(at: TokyoDay.today)
            let card = try home.cli(["card", "issue", "--resident", String(resident), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
            #expect(card.status == 0, "card issue: \(card.stdout)\(card.stderr)")
            let certs = card.json["certificates"] as? [[String: Any]] ?? []
            signSerial = certs.first { $0["kind"] as? String == "sign" }?["serial"] as? String ?? ""
            leaf = try home.certificateFile(signSerial)
            root = home.root("sign")
            server = try ServerProcess(home: home.sandbox, port: port, folder: home.url)
        }

        func revoke() throws {
            let r = try home.cli(["cert", "revoke", signSerial, "--reason", "keyCompromise", "--json"])
            #expect(r.status == 0, "cert revoke: \(r.stdout)\(r.stderr)")
        }

        /// The full signing CRL, fetched from the server.
        func crl() throws -> URL {
            let url = home.file("sign-\(UUID().uuidString).crl")
            let reply = try HTTP.request(server.url + "/crl/sign.crl", folder: home.url)
            #expect(reply.status == 200)
            try reply.body.write(to: url)
            return url
        }

        deinit { server.stop() }
    }

    static func tool(_ path: String) -> Bool {
        if FileManager.default.isExecutableFile(atPath: path) { return true }
        #expect(!Run.interopRequired, "\(path) is missing: scripts/test installs it (gnutls-bin, libnss3-tools, openjdk-17-jdk-headless, golang-go, nodejs)")
        return false
    }

    @Test("the CPS URL every certificate names answers 200, in Japanese and English")
    func cpsPage() throws {
        let f = try Fixture()
        let cps = try Run.openssl(["x509", "-in", f.leaf.path, "-noout", "-ext", "certificatePolicies"]).stdout
        let url = try #require(cps.components(separatedBy: .whitespacesAndNewlines).first { $0.hasPrefix("http") }, "no CPS URL in \(cps)")
        let reply = try HTTP.request(url, folder: f.home.url)
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"]?.hasPrefix("text/html") == true)
        let page = String(decoding: reply.body, as: UTF8.self)
        #expect(page.contains("テスト用") && page.contains("for <strong>testing</strong>") && page.contains("JPKI-SANDBOX"))
    }

    @Test("GnuTLS ocsptool --load-trust root verifies an answer carrying the root ([ocsp] include_signer_certificate), and finds no signer without it")
    func gnutls() throws {
        guard Self.tool("/usr/bin/ocsptool") else { return }
        func ask(_ f: Fixture) throws -> Run.Result {
            try Run.program("/usr/bin/ocsptool", ["--ask", "--load-issuer", f.root.path, "--load-cert", f.leaf.path,
                                                  "--load-trust", f.root.path, "--nonce"])
        }
        let with = try Fixture(options: ["include_signer_certificate = false": "include_signer_certificate = true"])
        let answer = try ask(with)
        #expect(answer.stdout.contains("Verifying OCSP Response: Success"), "\(answer.stdout)\(answer.stderr)")
        #expect(answer.stdout.contains("Certificate Status: good"))
        let without = try Fixture()
        let refused = try ask(without)
        #expect(refused.stdout.contains("Signer cert not found"), "the default (no certificates in the answer) should need --load-signer: \(refused.stdout)")
    }

    @Test("NSS vfychain, revocation by the certificate's CRL distribution point ([crl] distribution_point = full): good, then revoked")
    func nss() throws {
        guard Self.tool("/usr/bin/vfychain"), Self.tool("/usr/bin/certutil") else { return }
        let f = try Fixture(options: ["distribution_point = \"partition\"": "distribution_point = \"full\""])
        let db = f.home.url.appendingPathComponent("nssdb")
        try FileManager.default.createDirectory(at: db, withIntermediateDirectories: true)
        #expect(try Run.program("/usr/bin/certutil", ["-N", "-d", "sql:\(db.path)", "--empty-password"]).status == 0)
        #expect(try Run.program("/usr/bin/certutil", ["-A", "-d", "sql:\(db.path)", "-n", "root", "-t", "C,C,C", "-a", "-i", f.root.path]).status == 0)
        let der = f.home.file("leaf.der")
        #expect(try Run.openssl(["x509", "-in", f.leaf.path, "-outform", "DER", "-out", der.path]).status == 0)
        func check() throws -> Run.Result {
            try Run.program("/usr/bin/vfychain", ["-d", "sql:\(db.path)", "-pp", "-u", "4", "-g", "leaf", "-m", "crl", "-s", "requireInfo", der.path])
        }
        let good = try check()
        #expect(good.status == 0 && (good.stdout + good.stderr).contains("Chain is good!"), "\(good.stdout)\(good.stderr)")
        try f.revoke()
        let revoked = try check()
        #expect(revoked.status != 0 && (revoked.stdout + revoked.stderr).contains("-8180"), "expected SEC_ERROR_REVOKED_CERTIFICATE: \(revoked.stdout)\(revoked.stderr)")
    }

    @Test("Java PKIX: refused with the default policyQualifiersRejected, valid with setPolicyQualifiersRejected(false), revoked by the CRL")
    func java() throws {
        guard Self.tool("/usr/bin/java") else { return }
        let f = try Fixture()
        let source = Self.clients.appendingPathComponent("PathCheck.java").path
        let strict = try Run.program("/usr/bin/java", [source, f.root.path, f.leaf.path, "--default-qualifiers"])
        #expect(strict.status != 0 && strict.stdout.contains("critical policy qualifiers present"), "\(strict.stdout)\(strict.stderr)")
        let valid = try Run.program("/usr/bin/java", [source, f.root.path, f.leaf.path])
        #expect(valid.status == 0 && valid.stdout.contains("VALID"), "\(valid.stdout)\(valid.stderr)")
        try f.revoke()
        let revoked = try Run.program("/usr/bin/java", [source, f.root.path, f.leaf.path, "--crl", try f.crl().path])
        #expect(revoked.status != 0 && revoked.stdout.contains("KEY_COMPROMISE"), "\(revoked.stdout)\(revoked.stderr)")
    }

    @Test("Node: the leaf is issued and signed by the root; the basic details show as <unsupported> otherNames")
    func node() throws {
        guard Self.tool("/usr/bin/node") else { return }
        let f = try Fixture()
        let r = try Run.program("/usr/bin/node", [Self.clients.appendingPathComponent("check.mjs").path, f.root.path, f.leaf.path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let answer = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        #expect(answer["issued"] as? Bool == true)
        #expect((answer["subjectAltName"] as? String)?.components(separatedBy: "othername:<unsupported>").count == 7)
    }

    @Test("Go crypto/x509: the chain verifies (ExtKeyUsageAny); the CRL says good, then revoked")
    func go() throws {
        guard Self.tool("/usr/bin/go") else { return }
        let f = try Fixture()
        let env = ["GOCACHE": f.home.url.appendingPathComponent("gocache").path, "GO111MODULE": "off", "HOME": f.home.url.path]
        let program = Self.clients.appendingPathComponent("verify.go").path
        let good = try Run.program("/usr/bin/go", ["run", program, f.root.path, f.leaf.path, try f.crl().path], env: env)
        #expect(good.status == 0 && good.stdout.contains("GOOD"), "\(good.stdout)\(good.stderr)")
        try f.revoke()
        let revoked = try Run.program("/usr/bin/go", ["run", program, f.root.path, f.leaf.path, try f.crl().path], env: env)
        #expect(revoked.stdout.contains("REVOKED"), "\(revoked.stdout)\(revoked.stderr)")
    }
}

/// Today in Asia/Tokyo, as the CLI's `--at` takes it (for residents registered "now", when the server
/// runs on real time).
enum TokyoDay {
    static var today: String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Tokyo")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date())
    }
}
