import Foundation
import JPKIServer
import Testing

/// A sandbox with `serve` running and three tokens (admin, operator, viewer), for the admin API tests.
final class AdminFixture {
    let home = TempHome()
    var server: ServerProcess!
    var tokens: [String: String] = [:]

    init(serveArguments: [String] = []) throws {
        try home.initialize()
        for role in ["admin", "operator", "viewer"] {
            let r = try home.cli(["token", "create", "--name", "test-\(role)", "--role", role, "--json"])
            #expect(r.status == 0, "token create: \(r.stdout)\(r.stderr)")
            tokens[role] = r.json["token"] as? String ?? ""
        }
        server = try ServerProcess(home: home.sandbox, port: ServerProcess.freePort(), arguments: serveArguments, folder: home.url)
    }

    deinit { server?.stop() }

    struct Answer {
        let status: Int
        let body: Data
        let headers: [String: String]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// One call: `token` is a role name of the fixture, a literal token (`raw:`), or nil for none.
    func call(_ method: String, _ path: String, as role: String? = "operator", rawToken: String? = nil, body: String? = nil,
              contentType: String = "application/json") throws -> Answer {
        var extra: [String] = []
        if let token = rawToken ?? role.flatMap({ tokens[$0] }) { extra += ["-H", "Authorization: Bearer \(token)"] }
        var file: URL?
        if let body {
            file = home.file("body-\(UUID().uuidString).json")
            try body.write(to: file!, atomically: true, encoding: .utf8)
        }
        defer { if let file { try? FileManager.default.removeItem(at: file) } }
        let r = try HTTP.request(server.url + path, method: method, contentType: body == nil ? nil : contentType, body: file, extra: extra, folder: home.url)
        #expect(r.status != 0, "no answer from \(method) \(path): \(r.transportError)")
        return Answer(status: r.status, body: r.body, headers: r.headers)
    }

    /// The CLI's `--json` answer as a dictionary.
    func cli(_ args: [String]) throws -> [String: Any] {
        let r = try home.cli(args + ["--json"])
        return r.json
    }
}

/// Compares two JSON values as data (key order and number formatting aside).
func sameJSON(_ a: Any, _ b: Any) -> Bool {
    NSDictionary(dictionary: ["v": a]).isEqual(to: ["v": b])
}

@Suite("Admin API: contract, auth, CLI parity, bad input", .serialized)
struct AdminAPITests {
    static var document: [String: Any] {
        let data = (try? Data(contentsOf: Run.repoRoot.appendingPathComponent("docs/openapi.json"))) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// "GET /admin/v1/…" for every operation of the document, with its x-role ("" when public).
    static var documented: [String: String] {
        var out: [String: String] = [:]
        for (path, item) in document["paths"] as? [String: [String: Any]] ?? [:] {
            for (method, op) in item {
                out["\(method.uppercased()) \(path)"] = (op as? [String: Any])?["x-role"] as? String ?? ""
            }
        }
        return out
    }

    @Test("the routes the server has are exactly the document's paths and methods, with the same roles")
    func routesMatchDocument() throws {
        let documented = Self.documented
        #expect(documented.count > 30)
        let served = Dictionary(uniqueKeysWithValues: AdminAPI.routeTable.map { ($0.signature, $0.role ?? "") })
        #expect(Set(served.keys) == Set(documented.keys),
                "only served: \(Set(served.keys).subtracting(documented.keys).sorted()); only documented: \(Set(documented.keys).subtracting(served.keys).sorted())")
        for (signature, role) in served { #expect(documented[signature] == role, "\(signature): served role \(role), documented \(documented[signature] ?? "-")") }
    }

    @Test("the served document is docs/openapi.json byte for byte, needs no token, and validates (openapi-spec-validator)")
    func documentServedAndValid() throws {
        let f = try AdminFixture()
        let r = try f.call("GET", "/admin/v1/openapi.json", as: nil)
        #expect(r.status == 200)
        let file = try Data(contentsOf: Run.repoRoot.appendingPathComponent("docs/openapi.json"))
        #expect(r.body == file, "run scripts/sync-openapi after editing docs/openapi.json")
        guard let python = Run.venvPython else {
            if Run.interopRequired { Issue.record(InteropMissing()) }
            return
        }
        let check = try Run.program(python, ["-c", "import json,sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')",
                                             Run.repoRoot.appendingPathComponent("docs/openapi.json").path])
        #expect(check.status == 0 && check.stdout.contains("valid"), "openapi-spec-validator: \(check.stderr)")
    }

    @Test("no token, a wrong one, a revoked one: 401; a viewer changing the register: 403; nothing changed; tokens stored hashed; the audit names the token")
    func authentication() throws {
        let f = try AdminFixture()
        let add = #"{"name": "山田 太郎", "birth": "1980-12-31", "sex": "male", "address": "埼玉県川越市元町1丁目3番地1"}"#
        let before = try f.home.snapshot(includingAudit: false)
        #expect(try f.call("POST", "/admin/v1/residents", as: nil, body: add).status == 401)
        let wrong = try f.call("POST", "/admin/v1/residents", rawToken: "jpkis_" + String(repeating: "A", count: 43), body: add)
        #expect(wrong.status == 401 && wrong.errorCode == "unauthorized")
        #expect(wrong.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        #expect(try f.call("GET", "/admin/v1/residents", rawToken: "not a token").status == 401)
        let viewer = try f.call("POST", "/admin/v1/residents", as: "viewer", body: add)
        #expect(viewer.status == 403 && viewer.errorCode == "forbidden", "\(viewer.text)")
        #expect(try f.call("POST", "/admin/v1/tokens", as: "operator", body: #"{"name": "x", "role": "admin"}"#).status == 403)
        #expect(try f.call("POST", "/admin/v1/clock/advance", as: "operator", body: #"{"duration": "1d"}"#).status == 403)
        // A revoked token stops at once, on the running server.
        let extra = try f.home.cli(["token", "create", "--name", "soon-revoked", "--role", "operator", "--json"])
        let secret = extra.json["token"] as? String ?? ""
        #expect(try f.call("GET", "/admin/v1/residents", rawToken: secret).status == 200)
        #expect(try f.home.cli(["token", "revoke", "soon-revoked", "--json"]).status == 0)
        #expect(try f.call("POST", "/admin/v1/residents", rawToken: secret, body: add).status == 401)
        #expect(try f.home.snapshot(includingAudit: false) == before, "a refused call changed the register")

        // The tokens table holds SHA-256 hashes, never the tokens.
        let db = f.home.sandbox.appendingPathComponent("sandbox.sqlite").path
        let rows = try Run.program("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys, hashlib
            c = sqlite3.connect(sys.argv[1])
            rows = c.execute("SELECT name, role, hash, revoked_at FROM tokens ORDER BY name").fetchall()
            dump = "\\n".join(repr(r) for r in c.iterdump())
            for secret in sys.argv[2:]:
                assert secret not in dump, "a token is stored in clear"
                assert hashlib.sha256(secret.encode()).hexdigest() in [r[2] for r in rows], "no hash of a token"
            print(len(rows))
            """, db] + Array(f.tokens.values) + [secret])
        #expect(rows.status == 0 && rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "4", "\(rows.stderr)")

        // The audit names the token: the call, and the change it made.
        let created = try f.call("POST", "/admin/v1/residents", as: "operator", body: add)
        #expect(created.status == 201, "\(created.text)")
        let audit = try f.call("GET", "/admin/v1/audit", as: "viewer").json["entries"] as? [[String: Any]] ?? []
        #expect(audit.contains { $0["operation"] as? String == "resident.add" && $0["actor"] as? String == "test-operator" })
        #expect(audit.contains { $0["operation"] as? String == "api.call" && $0["actor"] as? String == "test-viewer" && ($0["detail"] as? String ?? "").contains("403") })
        let cliAudit = try f.cli(["audit", "verify"])
        #expect(cliAudit["ok"] as? Bool == true, "the chain with actors verifies: \(cliAudit)")
    }

    @Test("every operation over HTTP gives what the CLI gives for the same state, and a change on one face shows on the other")
    func parityWithCLI() throws {
        let f = try AdminFixture()
        // Residents: add over HTTP, show on both.
        let added = try f.call("POST", "/admin/v1/residents", body: #"{"name": "山田 太郎", "birth": "1980-12-31", "sex": "male", "address": "埼玉県川越市元町1丁目3番地1"}"#)
        #expect(added.status == 201, "\(added.text)")
        let rid = added.json["id"] as? Int ?? -1
        #expect(sameJSON(try f.call("GET", "/admin/v1/residents/\(rid)").json, try f.cli(["resident", "show", "\(rid)"])))
        #expect(sameJSON(try f.call("GET", "/admin/v1/residents", as: "viewer").json, try f.cli(["resident", "list"])))
        // Cards: issue with the CLI, show over HTTP.
        let issued = try f.cli(["card", "issue", "--resident", "\(rid)", "--sign-pin", "ABC123", "--auth-pin", "1234"])
        let cardID = (issued["card"] as? [String: Any])?["id"] as? Int ?? -1
        let certs = issued["certificates"] as? [[String: Any]] ?? []
        let sign = certs.first { $0["kind"] as? String == "sign" }?["serial"] as? String ?? ""
        let auth = certs.first { $0["kind"] as? String == "auth" }?["serial"] as? String ?? ""
        #expect(sameJSON(try f.call("GET", "/admin/v1/cards/\(cardID)").json, try f.cli(["card", "show", "\(cardID)"])))
        #expect(sameJSON(try f.call("GET", "/admin/v1/certificates/\(sign)").json, try f.cli(["cert", "show", sign])))
        #expect(sameJSON(try f.call("GET", "/admin/v1/certificates?resident=\(rid)").json, try f.cli(["cert", "list", "--resident", "\(rid)"])))
        // PINs over HTTP: a wrong one shows in the CLI's tries left.
        let wrong = try f.call("POST", "/admin/v1/certificates/\(sign)/pin/verify", body: #"{"pin": "WRONG1"}"#)
        #expect(wrong.status == 422 && wrong.errorCode == "wrong-pin" && wrong.json["triesLeft"] as? Int == 4, "\(wrong.text)")
        #expect(try f.cli(["cert", "show", sign])["pinTriesLeft"] as? Int == 4)
        #expect(try f.call("POST", "/admin/v1/certificates/\(sign)/pin/verify", body: #"{"pin": "ABC123"}"#).json["ok"] as? Bool == true)
        #expect(try f.call("POST", "/admin/v1/certificates/\(auth)/pin/change", body: #"{"pin": "1234", "newPin": "5678"}"#).status == 200)
        #expect(try f.home.cli(["pin", "verify", auth, "--pin", "5678", "--json"]).status == 0)
        #expect(try f.call("POST", "/admin/v1/certificates/\(auth)/pin/reset", body: #"{"newPin": "1234"}"#).json["ok"] as? Bool == true)
        // Suspend with the CLI, resume over HTTP; revoke over HTTP, seen by the CLI.
        #expect(try f.home.cli(["card", "suspend", "\(cardID)", "--json"]).status == 0)
        #expect(try f.call("GET", "/admin/v1/certificates/\(sign)").json["status"] as? String == "suspended")
        let resumed = try f.call("POST", "/admin/v1/cards/\(cardID)/resume", body: #"{"pin": "1234"}"#)
        let shown = try f.cli(["card", "show", "\(cardID)"])
        #expect(resumed.status == 200 && sameJSON(resumed.json, shown), "\(resumed.text)")
        #expect(try f.call("POST", "/admin/v1/cards/\(cardID)/suspend").status == 200)
        #expect(try f.cli(["card", "show", "\(cardID)"])["card"].flatMap { ($0 as? [String: Any])?["status"] as? String } == "suspended")
        _ = try f.home.cli(["card", "resume", "\(cardID)", "--pin", "1234", "--json"])
        // Update the resident over HTTP (a move): the signing certificate is revoked, as the CLI says.
        let moved = try f.call("PATCH", "/admin/v1/residents/\(rid)", body: #"{"address": "埼玉県川越市元町2丁目1番地"}"#)
        #expect(moved.status == 200 && (moved.json["revoked"] as? [String]) == [sign], "\(moved.text)")
        #expect(try f.cli(["cert", "show", sign])["reason"] as? String == "affiliationChanged")
        // A new signing certificate over HTTP, revoke it, renew the authentication one (refused: window not open).
        let newSign = try f.call("POST", "/admin/v1/certificates", body: #"{"card": \#(cardID), "kind": "sign", "pin": "ABC456"}"#)
        #expect(newSign.status == 201, "\(newSign.text)")
        let sign2 = (newSign.json["certificate"] as? [String: Any])?["serial"] as? String ?? ""
        let revoked = try f.call("POST", "/admin/v1/certificates/\(sign2)/revoke", body: #"{"reason": "lost"}"#)
        #expect(revoked.status == 200 && revoked.json["reason"] as? String == "keyCompromise")
        #expect(try f.cli(["cert", "show", sign2])["status"] as? String == "revoked")
        let early = try f.call("POST", "/admin/v1/certificates/\(auth)/renew", body: "{}")
        let cliEarly = try f.home.cli(["cert", "renew", auth, "--json"])
        #expect(early.status == 409 && early.errorCode == cliEarly.errorCode && early.errorCode == "refused", "\(early.text)")
        // An agent's request: 202 over HTTP, completed a day later with the mailed code.
        let agent = try f.call("POST", "/admin/v1/cards/\(cardID)/revoke", body: #"{"reason": "stop", "applicant": "agent"}"#)
        #expect(agent.status == 202, "\(agent.text)")
        let request = agent.json["request"] as? [String: Any] ?? [:]
        #expect(try f.call("POST", "/admin/v1/clock/advance", as: "admin", body: #"{"duration": "1d"}"#).json["source"] as? String == "sandbox clock")
        #expect(sameJSON(try f.call("GET", "/admin/v1/clock", as: "viewer").json["date"] as Any, try f.cli(["clock", "show"])["date"] as Any))
        let done = try f.call("POST", "/admin/v1/requests/\(request["id"] as? Int ?? -1)/complete", body: #"{"answer": "\#(request["mailedAnswerCode"] as? String ?? "")"}"#)
        #expect(done.status == 200 && (done.json["request"] as? [String: Any])?["status"] as? String == "completed", "\(done.text)")
        #expect(try f.cli(["card", "show", "\(cardID)"])["card"].flatMap { ($0 as? [String: Any])?["status"] as? String } == "revoked")
        // Notices, audit, CRLs, export, clock set.
        #expect(sameJSON(try f.call("GET", "/admin/v1/notices?within=10y").json["notices"] as Any, try f.cli(["notices", "--within", "10y"])["notices"] as Any))
        let verify = try f.call("GET", "/admin/v1/audit/verify", as: "viewer")
        #expect(verify.status == 200 && verify.json["ok"] as? Bool == true)
        let crls = try f.call("POST", "/admin/v1/crls", body: #"{"partitions": false}"#)
        #expect(crls.status == 201 && (crls.json["crls"] as? [[String: Any]])?.count == 2, "\(crls.text)")
        let p12 = try f.call("POST", "/admin/v1/certificates/\(auth)/export", body: #"{"format": "pkcs12", "password": "pw-test"}"#)
        #expect(p12.status == 200 && p12.headers["content-type"] == "application/x-pkcs12")
        let p12File = f.home.file("id.p12")
        try p12.body.write(to: p12File)
        let info = try Run.openssl(["pkcs12", "-in", p12File.path, "-passin", "pass:pw-test", "-nokeys", "-clcerts"])
        #expect(info.status == 0 && info.stdout.contains("BEGIN CERTIFICATE"), "openssl pkcs12: \(info.stderr)")
        #expect(try f.call("POST", "/admin/v1/certificates/\(auth)/export", as: "viewer", body: #"{"format": "pem"}"#).status == 403)
        #expect(try f.call("POST", "/admin/v1/certificates/\(auth)/export", body: #"{"format": "pem"}"#).text.contains("PRIVATE KEY"))
        let exports = try f.cli(["audit"])["entries"] as? [[String: Any]] ?? []
        #expect(exports.filter { $0["operation"] as? String == "export" && $0["actor"] as? String == "test-operator" }.count == 2)
        let set = try f.call("POST", "/admin/v1/clock/set", as: "admin", body: #"{"when": "2027-01-01"}"#)
        #expect(set.status == 200 && set.json["date"] as? String == "2027-01-01")
        #expect(try f.cli(["clock", "show"])["date"] as? String == "2027-01-01")
        #expect(try f.call("POST", "/admin/v1/clock/reset", as: "admin").status == 200)
        // Tokens over HTTP (admin).
        let token = try f.call("POST", "/admin/v1/tokens", as: "admin", body: #"{"name": "made-by-api", "role": "viewer"}"#)
        #expect(token.status == 201 && (token.json["token"] as? String ?? "").hasPrefix("jpkis_"))
        #expect(sameJSON(try f.call("GET", "/admin/v1/tokens", as: "admin").json, try f.cli(["token", "list"])))
        #expect(try f.call("POST", "/admin/v1/tokens/made-by-api/revoke", as: "admin").json["status"] as? String == "revoked")
    }

    @Test("scenarios over HTTP: the catalogue as the CLI lists it; each certificate's PKCS#12 opens, and openssl ocsp against serve gives the expected answer")
    func scenariosOverHTTP() throws {
        let f = try AdminFixture()
        let list = try f.call("GET", "/admin/v1/scenarios", as: "viewer")
        let cliList = try f.cli(["scenario", "list"])
        #expect(sameJSON(list.json["scenarios"] as Any, cliList["scenarios"] as Any), "\(list.text.prefix(300))")
        #expect(try f.call("POST", "/admin/v1/scenarios/good-adult", as: "viewer").status == 403)
        for name in ["good-adult", "revoked-key-compromise", "suspended"] {
            let r = try f.call("POST", "/admin/v1/scenarios/\(name)", body: #"{"includeIdentities": true, "password": "pw-api-1"}"#)
            #expect(r.status == 201 && r.json["scenario"] as? String == name, "\(name): \(r.text.prefix(400))")
            for c in r.json["certificates"] as? [[String: Any]] ?? [] {
                let cert = c["certificate"] as? [String: Any] ?? [:]
                let expected = c["expected"] as? [String: Any] ?? [:]
                let kind = cert["kind"] as? String ?? ""
                let p12 = f.home.file("\(name)-\(kind).p12"), pem = f.home.file("\(name)-\(kind).pem")
                try Data(base64Encoded: (c["identity"] as? [String: Any])?["pkcs12"] as? String ?? "")?.write(to: p12)
                let opened = try Run.openssl(["pkcs12", "-in", p12.path, "-passin", "pass:pw-api-1", "-nokeys", "-clcerts", "-out", pem.path])
                #expect(opened.status == 0, "\(name) \(kind): \(opened.stderr)")
                let root = f.home.sandbox.appendingPathComponent("\(kind)-root.pem").path
                let ocsp = try Run.openssl(["ocsp", "-issuer", root, "-cert", pem.path, "-url", f.server.url + "/ocsp", "-CAfile", root])
                let want = expected["ocsp"] as? String ?? "?"
                #expect(ocsp.stdout.contains("\(pem.lastPathComponent): \(want)"), "\(name) \(kind): expected \(want), openssl said \(ocsp.stdout)\(ocsp.stderr)")
                if let reason = expected["ocspReason"] as? String { #expect(ocsp.stdout.contains("Reason: \(reason)"), "\(ocsp.stdout)") }
            }
        }
        let audit = try f.cli(["audit"])["entries"] as? [[String: Any]] ?? []
        #expect(audit.filter { $0["operation"] as? String == "scenario.create" && $0["actor"] as? String == "test-operator" }.count == 3)
    }

    @Test("bad input over HTTP: 4xx with the error body, the register unchanged")
    func badInput() throws {
        let f = try AdminFixture()
        _ = try f.home.addResident()
        let before = try f.home.snapshot(includingAudit: false)
        let huge = "{\"name\": \"" + String(repeating: "あ", count: 40_000) + "\"}"
        let cases: [(String, String, String?, Int, String)] = [
            ("POST", "/admin/v1/residents", "not json", 400, "bad-arguments"),
            ("POST", "/admin/v1/residents", "[1, 2]", 400, "bad-arguments"),
            ("POST", "/admin/v1/residents", #"{"name": 5, "birth": "1980-12-31", "sex": "male", "address": "埼玉県川越市元町1丁目3番地1"}"#, 400, "bad-arguments"),
            ("POST", "/admin/v1/residents", #"{"name": "山田 太郎", "birth": "1980-12-31", "sex": "male", "address": "埼玉県川越市元町1丁目3番地1", "admin": true}"#, 400, "bad-arguments"),
            ("POST", "/admin/v1/residents", #"{"name": "山田 太郎", "birth": "31/12/1980", "sex": "male", "address": "埼玉県川越市元町1丁目3番地1"}"#, 400, "invalid-input"),
            ("POST", "/admin/v1/residents", #"{"name": "山田 太郎"}"#, 400, "bad-arguments"),
            ("POST", "/admin/v1/residents", huge, 413, "too-large"),
            ("PATCH", "/admin/v1/residents/1", #"{"sex": true}"#, 400, "bad-arguments"),
            ("PATCH", "/admin/v1/residents/1", #"{"birth": "2099-99-99"}"#, 400, "invalid-input"),
            ("POST", "/admin/v1/cards", #"{"resident": "1", "authPin": "1234"}"#, 400, "bad-arguments"),
            ("POST", "/admin/v1/cards", #"{"resident": 99, "authPin": "1234"}"#, 404, "not-found"),
            ("POST", "/admin/v1/cards", #"{"resident": 1, "authPin": "12"}"#, 400, "invalid-input"),
            ("GET", "/admin/v1/residents/abc", nil, 400, "invalid-input"),
            ("GET", "/admin/v1/residents?limit=-1", nil, 400, "invalid-input"),
            ("GET", "/admin/v1/certificates/zz", nil, 400, "invalid-input"),
            ("GET", "/admin/v1/nothing-here", nil, 404, "not-found"),
            ("DELETE", "/admin/v1/residents", nil, 405, "method-not-allowed"),
            ("POST", "/admin/v1/clock/set", #"{"when": "next tuesday"}"#, 403, "forbidden"),
        ]
        for (method, path, body, status, code) in cases {
            let r = try f.call(method, path, body: body)
            #expect(r.status == status && r.errorCode == code, "\(method) \(path) \(body?.prefix(80) ?? ""): \(r.status) \(r.text.prefix(300))")
            #expect(r.headers["content-type"]?.hasPrefix("application/json") == true)
        }
        let textBody = try f.call("POST", "/admin/v1/residents", body: "name=x", contentType: "text/plain")
        #expect(textBody.status == 415 && textBody.errorCode == "unsupported-media-type")
        let badDate = try f.call("POST", "/admin/v1/clock/set", as: "admin", body: #"{"when": "2027-02-30"}"#)
        #expect(badDate.status == 400, "\(badDate.text)")
        let unknownScenario = try f.call("POST", "/admin/v1/scenarios/no-such-thing")
        #expect(unknownScenario.status == 404 && unknownScenario.errorCode == "not-found", "\(unknownScenario.text)")
        #expect(try f.home.snapshot(includingAudit: false) == before, "bad input changed the register")
    }

    @Test("schemathesis: generated requests against a live serve with an operator token find no 5xx and no answer outside the document")
    func schemathesis() throws {
        guard let python = Run.venvPython else {
            if Run.interopRequired { Issue.record(InteropMissing()) }
            return
        }
        let f = try AdminFixture()
        _ = try f.home.addResident()
        let st = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("schemathesis").path
        let started = Date()
        let r = try Run.program(st, ["run", f.server.url + "/admin/v1/openapi.json", "--url", f.server.url,
                                     "-H", "Authorization: Bearer \(f.tokens["operator"] ?? "")",
                                     "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                                     "--max-examples", "6", "--phases", "examples,coverage,fuzzing", "--workers", "1",
                                     "--request-timeout", "30", "--generation-deterministic", "--no-color"],
                                env: ["SCHEMATHESIS_HOOKS": ""], cwd: f.home.url)
        let seconds = Date().timeIntervalSince(started)
        #expect(r.status == 0, "schemathesis found problems:\n\(r.stdout.suffix(6000))\n\(r.stderr.suffix(2000))")
        #expect(seconds < 300, "schemathesis took \(seconds) s")
        #expect(!f.server.log.contains("\"level\":\"error\""), "the server logged an error: \(f.server.log.suffix(2000))")
    }

    @Test("every `jpki-sandbox …` command that README.md and README.ja.md show exists (its --help works)")
    func readmeCommandsExist() throws {
        var commands: Set<[String]> = []
        for name in ["README.md", "README.ja.md"] {
            let text = try String(contentsOf: Run.repoRoot.appendingPathComponent(name), encoding: .utf8)
            var found = 0
            for line in text.components(separatedBy: "\n") {
                var rest = Substring(line)
                while let range = rest.range(of: "jpki-sandbox ") {
                    let words = rest[range.upperBound...].split(separator: " ", omittingEmptySubsequences: true)
                    let path = words.prefix { $0.range(of: "^[a-z][a-z-]*$", options: .regularExpression) != nil }.prefix(2).map(String.init)
                    if !path.isEmpty { commands.insert(path); found += 1 }
                    rest = rest[range.upperBound...]
                }
            }
            #expect(found >= 10, "\(name) shows only \(found) commands")
        }
        for path in commands.sorted(by: { $0.joined(separator: " ") < $1.joined(separator: " ") }) {
            let r = try Run.program(Run.binary, path + ["--help"])
            #expect(r.status == 0 && r.stdout.contains("USAGE: jpki-sandbox \(path.joined(separator: " "))"),
                    "jpki-sandbox \(path.joined(separator: " ")) --help: \(r.status) \(r.stderr.prefix(300))")
        }
    }
}

@Suite("Admin API: HTTPS and access", .serialized)
struct AdminAccessTests {
    @Test("serve --tls-cert/--tls-key answers over HTTPS (OCSP routes and admin API alike); --admin-access off hides the API")
    func tlsAndAccess() throws {
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
        let https = "https://127.0.0.1:\(server.port)"
        let residents = try HTTP.request(https + "/admin/v1/residents", extra: ["--cacert", cert.path, "-H", "Authorization: Bearer \(token)"], folder: home.url)
        #expect(residents.status == 200, "\(residents.transportError) \(String(decoding: residents.body, as: UTF8.self))")
        let root = try HTTP.request(https + "/ca/sign-root.pem", extra: ["--cacert", cert.path], folder: home.url)
        #expect(root.status == 200 && String(decoding: root.body, as: UTF8.self).contains("BEGIN CERTIFICATE"))
        let plain = try HTTP.request(server.url + "/healthz", folder: home.url)
        #expect(plain.status != 200, "plain HTTP must not be answered on a TLS port")
        #expect((try String(contentsOf: server.out, encoding: .utf8)).contains("https://"))

        let off = try ServerProcess(home: home.sandbox, port: ServerProcess.freePort(), arguments: ["--admin-access", "off"], folder: home.url)
        defer { off.stop() }
        let hidden = try HTTP.request(off.url + "/admin/v1/residents", extra: ["-H", "Authorization: Bearer \(token)"], folder: home.url)
        #expect(hidden.status == 404)
        #expect(try HTTP.request(off.url + "/ca/sign-root.pem", folder: home.url).status == 200)
        let bad = try home.cli(["serve", "--tls-cert", cert.path, "--json"])
        #expect(bad.status != 0 && bad.errorCode == "bad-arguments", "\(bad.stdout)")
    }
}
