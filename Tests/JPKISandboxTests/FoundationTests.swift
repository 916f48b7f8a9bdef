import Foundation
import Testing

/// The foundation issue end to end: the real CLI, checked with tools we did not write.
@Suite(.serialized) struct FoundationCLITests {
    static let issueAt = "2026-11-21T10:00:00+09:00"
    static let issueEpoch = "1795222801"   // 2026-11-21T01:00:01Z, one second after issuance

    /// Issues a card and returns the JSON answer.
    func issue(_ home: TempHome, resident: Int, extra: [String] = ["--sign-pin", "ABC123"]) throws -> Run.Result {
        try home.cli(["card", "issue", "--resident", String(resident), "--auth-pin", "1234", "--json", "--at", Self.issueAt] + extra)
    }

    func certificates(_ r: Run.Result) -> [[String: Any]] { r.json["certificates"] as? [[String: Any]] ?? [] }

    func pem(_ home: TempHome, serial: String) throws -> URL {
        let show = try home.cli(["cert", "show", serial, "--json", "--at", Self.issueAt])
        #expect(show.status == 0, "\(show.stderr)")
        let url = home.file("\(serial).pem")
        try (show.json["pem"] as? String ?? "").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("init makes two roots, keeps keys private and refuses to run twice")
    func initOnce() throws {
        let home = TempHome()
        let first = try home.initialize()
        #expect(first.json["home"] as? String == home.sandbox.path)
        for kind in ["sign", "auth"] {
            let attrs = try FileManager.default.attributesOfItem(atPath: home.sandbox.appendingPathComponent("keys/\(kind)-root.key").path)
            #expect((attrs[.posixPermissions] as? Int) == 0o600)
            let text = try Run.openssl(["x509", "-in", home.sandbox.appendingPathComponent("\(kind)-root.pem").path, "-noout", "-subject", "-ext", "keyUsage,basicConstraints"])
            #expect(text.stdout.contains("O=JPKI-SANDBOX") || text.stdout.contains("O = JPKI-SANDBOX"))
            #expect(text.stdout.contains("Certificate Sign, CRL Sign"))
            #expect(text.stdout.contains("CA:TRUE"))
        }
        for file in ["sandbox.sqlite", "sandbox.sqlite-wal"] where FileManager.default.fileExists(atPath: home.sandbox.appendingPathComponent(file).path) {
            let attrs = try FileManager.default.attributesOfItem(atPath: home.sandbox.appendingPathComponent(file).path)
            #expect((attrs[.posixPermissions] as? Int) == 0o600, "\(file) holds leaf keys: owner only")
        }
        let homeAttrs = try FileManager.default.attributesOfItem(atPath: home.sandbox.path)
        #expect((homeAttrs[.posixPermissions] as? Int) == 0o700)
        let before = try home.snapshot()
        let second = try home.cli(["init", "--json"])
        #expect(second.status != 0)
        #expect(second.errorCode == "exists")
        #expect(try home.snapshot() == before)
    }

    @Test("an adult's card: both certificates, validity by seed 004, chain checked by openssl verify")
    func adultCard() throws {
        let home = TempHome()
        try home.initialize()
        let id = try home.addResident()
        let r = try issue(home, resident: id)
        #expect(r.status == 0, "\(r.stderr)")
        let card = r.json["card"] as? [String: Any]
        #expect(card?["id"] as? Int == 1)
        #expect(card?["notAfter"] as? String == "2035-12-31T23:59:59+09:00")
        let certs = certificates(r)
        #expect(Set(certs.compactMap { $0["kind"] as? String }) == ["sign", "auth"])
        for cert in certs {
            let serial = try #require(cert["serial"] as? String)
            #expect(serial.count == 32 && serial.allSatisfy { "0123456789ABCDEF".contains($0) }, "upper-case hex, 128 bits")
            #expect(Int(String(serial.first!), radix: 16)! < 8, "positive")
            #expect(cert["notBefore"] as? String == Self.issueAt)
            #expect(cert["notAfter"] as? String == "2030-12-31T23:59:59+09:00")
            let kind = try #require(cert["kind"] as? String)
            let other = kind == "sign" ? "auth" : "sign"
            let file = try pem(home, serial: serial)
            let good = try Run.openssl(["verify", "-attime", Self.issueEpoch, "-CAfile", home.sandbox.appendingPathComponent("\(kind)-root.pem").path, file.path])
            #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
            let wrong = try Run.openssl(["verify", "-attime", Self.issueEpoch, "-CAfile", home.sandbox.appendingPathComponent("\(other)-root.pem").path, file.path])
            #expect(wrong.status != 0, "the other root must not verify it")
            let show = try home.cli(["cert", "show", serial, "--json", "--at", Self.issueAt])
            for key in ["serial", "kind", "status", "notBefore", "notAfter", "pem"] { #expect(show.json[key] != nil, "cert show has \(key)") }
            #expect(show.json["status"] as? String == "good")
            // After notAfter the same certificate shows as expired.
            let later = try home.cli(["cert", "show", serial, "--json", "--at", "2031-01-01"])
            #expect(later.json["status"] as? String == "expired")
        }
    }

    @Test("a 14-year-old gets only the authentication certificate, through a legal representative (003, 004)")
    func fourteenYearOld() throws {
        let home = TempHome()
        try home.initialize()
        let id = try home.addResident(name: "鈴木 一郎", birth: "2012-01-10", address: "東京都板橋区板橋2丁目66番1号")
        let before = try home.snapshot(includingAudit: false)
        let selfApplied = try issue(home, resident: id, extra: [])
        #expect(selfApplied.status != 0)
        let refusal = selfApplied.errorMessage
        #expect(refusal.contains("legal representative"), "\(refusal)")
        #expect(try home.snapshot(includingAudit: false) == before)
        #expect(try home.auditOutcomes().last! == ("card.issue", "refused"), "the refusal is audited")

        let r = try issue(home, resident: id, extra: ["--applicant", "legal-representative"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(certificates(r).map { $0["kind"] as? String } == ["auth"])
        let reasons: [String] = (r.json["notIssued"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
        #expect(reasons.contains { $0.contains("under-15") }, "\(reasons)")
        #expect((r.json["card"] as? [String: Any])?["notAfter"] as? String == "2031-01-10T23:59:59+09:00", "a minor's card: 5th birthday")
    }

    @Test("an adult ward gets no signing certificate (digest)")
    func adultWard() throws {
        let home = TempHome()
        try home.initialize()
        let id = try home.addResident(extra: ["--adult-ward"])
        let r = try issue(home, resident: id)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(certificates(r).map { $0["kind"] as? String } == ["auth"])
        let reasons: [String] = (r.json["notIssued"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
        #expect(reasons.contains { $0.contains("adult ward") }, "\(reasons)")
    }

    @Test("a foreign resident's certificates end with the period of stay (000, 002)")
    func foreignResident() throws {
        let home = TempHome()
        try home.initialize()
        let id = try home.addResident(name: "SMITH JOHN", birth: "1985-06-15", address: "東京都町田市森野2丁目2番22号", extra: ["--residence-until", "2028-03-31"])
        let r = try issue(home, resident: id)
        #expect(r.status == 0, "\(r.stderr)")
        #expect((r.json["card"] as? [String: Any])?["notAfter"] as? String == "2028-03-31T23:59:59+09:00")
        for cert in certificates(r) { #expect(cert["notAfter"] as? String == "2028-03-31T23:59:59+09:00") }
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        let label: String
        let args: [String]
        let messageContains: String
        var testDescription: String { label }
    }

    static let badInputs: [BadInput] = [
        .init(label: "malformed date", args: ["resident", "add", "--name", "山田 太郎", "--birth", "1980/12/31", "--sex", "male", "--address", "埼玉県川越市元町1"], messageContains: "YYYY-MM-DD"),
        .init(label: "impossible date", args: ["resident", "add", "--name", "山田 太郎", "--birth", "2023-02-29", "--sex", "male", "--address", "埼玉県川越市元町1"], messageContains: "YYYY-MM-DD"),
        .init(label: "unknown sex", args: ["resident", "add", "--name", "山田 太郎", "--birth", "1980-12-31", "--sex", "m", "--address", "埼玉県川越市元町1"], messageContains: "male, female or unknown"),
        .init(label: "address outside the table", args: ["resident", "add", "--name", "山田 太郎", "--birth", "1980-12-31", "--sex", "male", "--address", "埼玉県どこか村1"], messageContains: "municipalities.json"),
        .init(label: "address without prefecture", args: ["resident", "add", "--name", "山田 太郎", "--birth", "1980-12-31", "--sex", "male", "--address", "川越市元町1"], messageContains: "prefecture"),
        .init(label: "unknown resident", args: ["card", "issue", "--resident", "999", "--sign-pin", "ABC123", "--auth-pin", "1234"], messageContains: "no resident with id 999"),
        .init(label: "signing PIN without digits", args: ["card", "issue", "--resident", "1", "--sign-pin", "ABCDEF", "--auth-pin", "1234"], messageContains: "mix letters and digits"),
        .init(label: "signing PIN in lower case", args: ["card", "issue", "--resident", "1", "--sign-pin", "abc123", "--auth-pin", "1234"], messageContains: "upper-case"),
        .init(label: "authentication PIN of 5 digits", args: ["card", "issue", "--resident", "1", "--sign-pin", "ABC123", "--auth-pin", "12345"], messageContains: "4 digits"),
        .init(label: "missing signing PIN", args: ["card", "issue", "--resident", "1", "--auth-pin", "1234"], messageContains: "--sign-pin"),
        .init(label: "unknown serial", args: ["cert", "show", "ABCDEF"], messageContains: "no certificate with serial ABCDEF"),
        .init(label: "serial that is not hex", args: ["cert", "show", "XYZ"], messageContains: "not a serial"),
        .init(label: "--at in the wrong format", args: ["clock", "show", "--at", "21/11/2026"], messageContains: "ISO 8601"),
    ]

    @Test("bad input: non-zero exit, a clear message, the database unchanged", arguments: badInputs)
    func badInput(_ bad: BadInput) throws {
        let home = TempHome()
        try home.initialize()
        _ = try home.addResident()
        let before = try home.snapshot()
        let text = try home.cli(bad.args)
        #expect(text.status != 0)
        #expect(text.stderr.contains(bad.messageContains), "stderr: \(text.stderr)")
        let json = try home.cli(bad.args + ["--json"])
        #expect(json.status != 0)
        #expect(json.errorCode != nil)
        let message = json.errorMessage
        #expect(message.contains(bad.messageContains), "\(message)")
        #expect(try home.snapshot() == before)
    }

    @Test("no certificate before its root exists: a clock set earlier is refused")
    func clockBeforeRoot() throws {
        let home = TempHome()
        try home.initialize()
        let id = try home.addResident(at: "2026-11-21")
        let r = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2020-01-01"])
        #expect(r.status != 0)
        #expect(r.errorMessage.contains("before the"), "\(r.errorMessage)")
    }

    @Test("no certificate from an expired root: a clock past the root's ten years is refused, nothing changed")
    func clockAfterRoot() throws {
        let home = TempHome()
        try home.initialize()
        let id = try home.addResident(at: "2026-11-21")
        let before = try home.snapshot(includingAudit: false)
        let r = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2036-11-21"])
        #expect(r.status != 0)
        #expect(r.errorMessage.contains("expired"), "\(r.errorMessage)")
        #expect(try home.snapshot(includingAudit: false) == before)
    }

    @Test("a command on a folder with no sandbox says how to make one")
    func noSandbox() throws {
        let home = TempHome()
        let r = try home.cli(["resident", "list"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("jpki-sandbox init"))
        #expect(!FileManager.default.fileExists(atPath: home.sandbox.path), "nothing created")
    }

    @Test("export: PKCS#12 that openssl reads, PEM bundle, and ca export")
    func export() throws {
        let home = TempHome()
        try home.initialize()
        let id = try home.addResident()
        let serial = try #require(certificates(try issue(home, resident: id)).first { $0["kind"] as? String == "sign" }?["serial"] as? String)
        let p12 = home.file("id.p12")
        let r = try home.cli(["export", serial, "--out", p12.path, "--password", "pass123", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let info = try Run.openssl(["pkcs12", "-in", p12.path, "-passin", "pass:pass123", "-nokeys", "-clcerts"])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("BEGIN CERTIFICATE"))
        let wrong = try Run.openssl(["pkcs12", "-in", p12.path, "-passin", "pass:nope", "-nokeys"])
        #expect(wrong.status != 0)
        let bundle = home.file("id.pem")
        #expect(try home.cli(["export", serial, "--out", bundle.path, "--pem"]).status == 0)
        let text = try String(contentsOf: bundle, encoding: .utf8)
        #expect(text.components(separatedBy: "BEGIN CERTIFICATE").count == 3)
        #expect(text.contains("BEGIN PRIVATE KEY"))
        let out = home.file("roots")
        #expect(try home.cli(["ca", "export", "--out", out.path]).status == 0)
        for name in ["sign-root.pem", "auth-root.pem"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path))
        }
    }
}
