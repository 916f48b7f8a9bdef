import Foundation
import Testing

/// The operator console (`serve`, `/console/`, docs/console.md): in headless Chromium driven by Selenium
/// (scripts/interop/console_check.py), and over curl for what a browser hides (headers, access).
@Suite("Operator console", .serialized)
struct ConsoleTests {
    /// Where the tests leave their screenshots: `.build/test-artefacts/console/` (or JPKI_TEST_ARTEFACTS/console).
    static var artefacts: URL {
        let base = ProcessInfo.processInfo.environment["JPKI_TEST_ARTEFACTS"].map { URL(fileURLWithPath: $0) }
            ?? Run.repoRoot.appendingPathComponent(".build/test-artefacts")
        return base.appendingPathComponent("console")
    }

    static var browserAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
    }

    final class Fixture {
        let home = TempHome()
        var server: ServerProcess!
        var tokens: [String: String] = [:]

        init(serveArguments: [String] = []) throws {
            try home.initialize()
            for (name, role) in [("alice", "admin"), ("olga", "operator"), ("victor", "viewer")] {
                let r = try home.cli(["token", "create", "--name", name, "--role", role, "--json"])
                #expect(r.status == 0, "token create: \(r.stdout)\(r.stderr)")
                tokens[role] = r.json["token"] as? String ?? ""
            }
            server = try ServerProcess(home: home.sandbox, port: ServerProcess.freePort(), arguments: serveArguments, folder: home.url)
        }

        deinit { server?.stop() }

        func get(_ path: String, cookie: String? = nil) throws -> HTTP.Reply {
            try HTTP.request(server.url + path, extra: cookie.map { ["-H", "Cookie: jpki_console=\($0)"] } ?? [], folder: home.url)
        }

        func post(_ path: String, form: String, cookie: String? = nil) throws -> HTTP.Reply {
            let file = home.file("form-\(UUID().uuidString)")
            try form.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            return try HTTP.request(server.url + path, method: "POST", contentType: "application/x-www-form-urlencoded", body: file,
                                    extra: cookie.map { ["-H", "Cookie: jpki_console=\($0)"] } ?? [], folder: home.url)
        }

        /// Signs in over HTTP: the session id and the CSRF token of its pages.
        func signIn(_ role: String) throws -> (cookie: String, csrf: String) {
            let r = try post("/console/signin", form: "token=\(tokens[role] ?? "")")
            let setCookie = r.headers["set-cookie"] ?? ""
            let id = setCookie.split(separator: ";").first.map { String($0.dropFirst("jpki_console=".count)) } ?? ""
            let page = String(decoding: try get("/console/", cookie: id).body, as: UTF8.self)
            let csrf = page.range(of: #"name="csrf" value="[0-9a-f]{64}""#, options: .regularExpression)
                .map { String(page[$0].dropFirst(#"name="csrf" value=""#.count).dropLast()) } ?? ""
            return (id, csrf)
        }
    }

    @Test("in Chromium: sign in, register, issue, suspend (OCSP certificateHold), release, revoke as lost, PKCS#12, refusals, viewer, CSRF, XSS, axe-core, screenshots")
    func browser() throws {
        guard let python = Run.venvPython, Self.browserAvailable else {
            if Run.interopRequired { Issue.record(InteropMissing()) }
            return
        }
        let f = try Fixture()
        let started = Date()
        let r = try Run.program(python, [Run.repoRoot.appendingPathComponent("scripts/interop/console_check.py").path,
                                         "--url", f.server.url, "--home", f.home.sandbox.path,
                                         "--admin-token", f.tokens["admin"] ?? "", "--viewer-token", f.tokens["viewer"] ?? "",
                                         "--artefacts", Self.artefacts.path])
        let seconds = Date().timeIntervalSince(started)
        let json = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        let checks = json["checks"] as? [[Any]] ?? []
        for c in checks where (c[1] as? Bool) != true {
            Issue.record("console check failed: \(c[0]) — \(c.count > 2 ? c[2] : "")")
        }
        #expect(r.status == 0 && json["ok"] as? Bool == true, "console_check.py: \(r.stdout.suffix(3000))\n\(r.stderr.suffix(3000))")
        #expect(checks.count >= 60, "only \(checks.count) checks ran")
        let shots = json["screenshots"] as? [String] ?? []
        #expect(shots.count >= 10 && shots.allSatisfy { FileManager.default.fileExists(atPath: $0) }, "screenshots: \(shots)")
        print("console browser check: \(checks.count) checks in \(Int(seconds)) s; screenshots in \(Self.artefacts.path)")
        #expect(seconds < 120, "the browser check took \(seconds) s")
        #expect(!f.server.log.contains("\"level\":\"error\""), "the server logged an error: \(f.server.log.suffix(2000))")
        // Every change the browser made is in the audit log under the token's name, and the chain holds.
        let audit = try f.home.cli(["audit", "--json"]).json["entries"] as? [[String: Any]] ?? []
        for op in ["resident.add", "card.issue", "card.suspend", "card.resume", "cert.revoke", "export", "request.complete", "scenario.create"] {
            #expect(audit.contains { ($0["operation"] as? String ?? "").hasPrefix(op) && $0["actor"] as? String == "alice" },
                    "no \(op) entry by alice: \(audit.map { "\($0["operation"] ?? "") \($0["actor"] ?? "-")" })")
        }
        #expect(try f.home.cli(["audit", "verify", "--json"]).status == 0)
    }

    @Test("cookies and headers: HttpOnly, SameSite=Strict, no Secure over HTTP; CSP; escaped output; role and CSRF refusals change nothing")
    func headersAndRefusals() throws {
        let f = try Fixture()
        let id = try f.home.addResident(name: "<b>太字</b>")
        let signedOut = try f.get("/console/")
        #expect(signedOut.status == 303 && signedOut.headers["location"] == "/console/signin")
        let wrong = try f.post("/console/signin", form: "token=jpkis_nothing")
        #expect(wrong.status == 401 && wrong.headers["set-cookie"] == nil)
        let signin = try f.post("/console/signin", form: "token=\(f.tokens["operator"] ?? "")")
        let cookie = signin.headers["set-cookie"] ?? ""
        #expect(signin.status == 303 && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/console")
                && !cookie.contains("Secure"), "\(cookie)")
        let (session, csrf) = try f.signIn("operator")
        #expect(session.count == 64 && csrf.count == 64)
        let page = try f.get("/console/residents/\(id)", cookie: session)
        let html = String(decoding: page.body, as: UTF8.self)
        // The CA keeps a name as JIS X 0208 (full-width) characters; the page shows what it keeps, escaped.
        #expect(page.status == 200 && html.contains("＜ｂ＞太字＜／ｂ＞") && !html.contains("<b>"), "\(html.prefix(400))")
        let reflected = String(decoding: try f.get("/console/?q=%3Cb%3Ex%22%3C%2Fb%3E", cookie: session).body, as: UTF8.self)
        #expect(reflected.contains(#"value="&lt;b&gt;x&quot;&lt;/b&gt;""#) && !reflected.contains("<b>x"), "\(reflected.prefix(2000))")
        #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true)
        #expect(page.headers["x-frame-options"] == "DENY" && page.headers["cache-control"] == "no-store")
        #expect(html.contains(#"<html lang="en">"#) && html.contains(#"name="viewport""#))

        let viewer = try f.signIn("viewer")
        let before = try f.home.snapshot()
        // The operator may not advance the clock (admin), nor post without or with a wrong CSRF token.
        #expect(try f.post("/console/clock/advance", form: "csrf=\(csrf)&duration=1d", cookie: session).status == 403)
        #expect(try f.post("/console/residents", form: "name=x&birth=1990-01-01&sex=male&address=x", cookie: session).status == 403)
        #expect(try f.post("/console/residents", form: "csrf=\(String(repeating: "0", count: 64))&name=x", cookie: session).status == 403)
        #expect(try f.post("/console/residents", form: "csrf=\(viewer.csrf)&name=x&birth=1990-01-01&sex=male&address=x", cookie: viewer.cookie).status == 403)
        #expect(try f.home.snapshot() == before, "a refused console POST changed the register or the audit log")

        // A revoked token's session ends at once.
        #expect(try f.home.cli(["token", "revoke", "victor"]).status == 0)
        #expect(try f.get("/console/", cookie: viewer.cookie).status == 303)
        // The CA's refusals in its words: an under-15 resident gets no signing certificate.
        let child = try f.home.addResident(name: "山田 次郎", birth: "2016-04-01")
        let issued = try f.post("/console/cards", form: "csrf=\(csrf)&resident=\(child)&signPin=ABC123&authPin=1234&back=/console/residents/\(child)",
                                cookie: session)
        #expect(issued.status == 303)
        let after = String(decoding: try f.get("/console/residents/\(child)", cookie: session).body, as: UTF8.self)
        #expect(after.contains("under-15s"), "\(after.prefix(3000))")
        // What set a last valid day: a foreign resident's period of stay, ahead of the birthday.
        let visitor = try f.home.addResident(name: "SMITH JOHN", birth: "1990-07-01", extra: ["--residence-until", "2028-03-31"])
        #expect(try f.post("/console/cards", form: "csrf=\(csrf)&resident=\(visitor)&signPin=ABC123&authPin=1234", cookie: session).status == 303)
        let stay = String(decoding: try f.get("/console/residents/\(visitor)", cookie: session).body, as: UTF8.self)
        #expect(stay.components(separatedBy: "period of stay").count - 1 >= 3, "card, signing and authentication certificates: \(stay.prefix(4000))")
        #expect(stay.contains("2028-03-31T23:59:59+09:00"))
    }

    @Test("over HTTPS (serve --tls-cert/--tls-key) the session cookie is Secure")
    func secureCookie() throws {
        let home = TempHome()
        try home.initialize()
        let cert = home.file("tls.pem"), key = home.file("tls.key")
        let made = try Run.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-out", cert.path,
                                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        #expect(made.status == 0, "\(made.stderr)")
        let token = try home.cli(["token", "create", "--name", "tls", "--role", "viewer", "--json"]).json["token"] as? String ?? ""
        let server = try ServerProcess(home: home.sandbox, port: ServerProcess.freePort(),
                                       arguments: ["--tls-cert", cert.path, "--tls-key", key.path], folder: home.url)
        defer { server.stop() }
        let form = home.file("signin-form")
        try "token=\(token)".write(to: form, atomically: true, encoding: .utf8)
        let r = try HTTP.request("https://127.0.0.1:\(server.port)/console/signin", method: "POST", contentType: "application/x-www-form-urlencoded",
                                 body: form, extra: ["--cacert", cert.path], folder: home.url)
        let cookie = r.headers["set-cookie"] ?? ""
        #expect(r.status == 303 && cookie.contains("; Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(r.status) \(cookie)")
    }

    @Test("serve --admin-access off: no console (404)")
    func accessOff() throws {
        let f = try Fixture(serveArguments: ["--admin-access", "off"])
        #expect(try f.get("/console/").status == 404)
        #expect(try f.get("/console/signin").status == 404)
    }
}
