import Foundation
import JPKICA
import JPKICard
import JPKIDomain
import OpenSSLKit
import Testing

/// Smartphone certificates (スマホ用電子証明書): `phone issue/list/show/revoke/suspend/resume`, through the
/// CLI binary, checked with openssl (OCSP against `serve`, CRLs), pkilint and Python `cryptography`.
/// Each rule's test names its source: seed 001, or the research in ../shared/docs/jpki-domain.md
/// ("Smartphone certificates"), or the issue's own rule (issue 11).
@Suite(.serialized) struct PhoneTests {
    static let signPolicy = "1.2.392.200149.8.5.1.1.40"
    static let authPolicy = "1.2.392.200149.8.5.1.3.40"

    /// A sandbox with one resident (Kawagoe) and a card with PINs ABC123 / 1234.
    struct Fixture {
        let home: TempHome
        let resident: Int
        let card: Int
        /// kind → serial of the card's certificates.
        let cardSerials: [String: String]

        func cli(_ args: [String]) throws -> Run.Result { try home.cli(args + ["--json"]) }

        /// `phone issue`, returning the answer.
        func issuePhone(platform: String = "android", cardPIN: String = "ABC123", sign: String = "PHONE1", auth: String = "5678",
                        card: Int? = nil) throws -> Run.Result {
            try cli(["phone", "issue", "--card", String(card ?? self.card), "--platform", platform,
                     "--card-sign-pin", cardPIN, "--sign-pin", sign, "--auth-pin", auth])
        }

        func certificate(_ serial: String) throws -> [String: Any] { try cli(["cert", "show", serial]).json }
        func status(_ serial: String) throws -> String { try certificate(serial)["status"] as? String ?? "?" }
        func triesLeft(_ serial: String) throws -> Int { try certificate(serial)["pinTriesLeft"] as? Int ?? -1 }
        func phoneCount() throws -> Int { (try cli(["phone", "list"]).json["phones"] as? [Any])?.count ?? -1 }
    }

    static func serials(_ answer: Run.Result) -> [String: String] {
        var out: [String: String] = [:]
        for c in answer.json["certificates"] as? [[String: Any]] ?? [] where c["status"] as? String == "good" {
            out[c["kind"] as! String] = (c["serial"] as! String)
        }
        return out
    }

    static func phoneID(_ answer: Run.Result) -> Int { (answer.json["phone"] as? [String: Any])?["id"] as? Int ?? -1 }

    func fixture(config: URL? = nil, birth: String = "1980-12-31", cardIssue extra: [String] = []) throws -> Fixture {
        let home = TempHome()
        if let config {
            let r = try Run.cli(["init", "--config", config.path, "--json"], home: home.sandbox)
            #expect(r.status == 0, "init: \(r.stderr)\(r.stdout)")
        } else {
            try home.initialize()
        }
        let id = try home.addResident(birth: birth)
        let r = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"] + extra)
        #expect(r.status == 0, "card issue: \(r.stderr)\(r.stdout)")
        let card = (r.json["card"] as? [String: Any])?["id"] as? Int ?? -1
        return Fixture(home: home, resident: id, card: card, cardSerials: Self.serials(r))
    }

    /// ca-config/sandbox.toml with `[phone]` settings replaced (and URLs on `port` when given).
    func config(_ home: TempHome, port: Int? = nil, replacing: [String: String] = [:]) throws -> URL {
        let url = try home.config(port: port ?? 8080)
        var text = try String(contentsOf: url, encoding: .utf8)
        for (from, to) in replacing {
            #expect(text.contains(from), "sandbox.toml has no \(from)")
            text = text.replacingOccurrences(of: from, with: to)
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    // MARK: Issuance

    @Test("Issuance needs a good card signing certificate and its PIN; a wrong PIN costs a card try (jpki-domain.md research)")
    func issuanceNeedsTheCardSigningCertificate() throws {
        let f = try fixture()
        let cardSign = try #require(f.cardSerials["sign"])
        let before = try f.home.snapshot(includingAudit: false)

        // Wrong card signing PIN: refused, one try gone from the card's own counter, nothing issued.
        let wrong = try f.issuePhone(cardPIN: "WRONG1")
        #expect(wrong.status != 0)
        #expect(wrong.errorMessage.contains("wrong card signing PIN"), "\(wrong.stdout)")
        #expect(try f.triesLeft(cardSign) == 4)
        #expect(try f.phoneCount() == 0)
        // Only the counter moved.
        try f.home.sql("UPDATE certificates SET pin_failures = 0 WHERE serial = '\(cardSign)'")
        #expect(try f.home.snapshot(includingAudit: false) == before)

        // Phone PINs outside the card's rules (PINPolicy): refused before any PIN is checked, nothing changed.
        for (sign, auth) in [("phone1", "5678"), ("PHONE", "5678"), ("PHONE1", "12345"), ("PHONE1", "12a4")] {
            let bad = try f.issuePhone(sign: sign, auth: auth)
            #expect(bad.status != 0 && bad.errorCode == "invalid-input", "\(sign)/\(auth): \(bad.stdout)")
        }
        #expect(try f.triesLeft(cardSign) == 5)
        #expect(try f.home.snapshot(includingAudit: false) == before)

        // A suspended card: refused.
        #expect(try f.cli(["card", "suspend", String(f.card)]).status == 0)
        let suspended = try f.issuePhone()
        #expect(suspended.status != 0 && suspended.errorMessage.contains("suspended"), "\(suspended.stdout)")
        #expect(try f.cli(["card", "resume", String(f.card), "--pin", "1234"]).status == 0)

        // A revoked card signing certificate: refused.
        #expect(try f.cli(["cert", "revoke", cardSign, "--reason", "pin-leaked"]).status == 0)
        let revoked = try f.issuePhone()
        #expect(revoked.status != 0 && revoked.errorMessage.contains("signing certificate is revoked"), "\(revoked.stdout)")
        #expect(try f.phoneCount() == 0)

        // A card with no signing certificate at all (a 14-year-old: seeds 003, 004).
        let minor = try fixture(birth: "2012-06-01", cardIssue: ["--applicant", "legal-representative"])
        #expect(minor.cardSerials["sign"] == nil)
        let none = try minor.issuePhone()
        #expect(none.status != 0 && none.errorMessage.contains("no signing certificate"), "\(none.stdout)")

        // Refusals are audited.
        #expect(try f.home.auditOutcomes().filter { $0 == ("phone.issue", "refused") }.count == 3)
    }

    @Test("The phone certificates: same roots, phone policy OIDs, card's end dates, form android|iphone (jpki-domain.md research)")
    func issuedCertificates() throws {
        let f = try fixture()
        let r = try f.issuePhone(platform: "iphone")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let phone = Self.serials(r)
        for kind in ["sign", "auth"] {
            let serial = try #require(phone[kind])
            let show = try f.certificate(serial)
            let card = try f.certificate(try #require(f.cardSerials[kind]))
            #expect(show["form"] as? String == "iphone")
            #expect(card["form"] as? String == "card")
            #expect(show["notAfter"] as? String == card["notAfter"] as? String, "validity: the card's corresponding certificate's end")
            #expect(show["issuer"] as? String == card["issuer"] as? String)
            let file = try f.home.certificateFile(serial)
            let verify = try Run.openssl(["verify", "-CAfile", f.home.root(kind).path, file.path])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            let text = try Run.openssl(["x509", "-in", file.path, "-noout", "-text"]).stdout
            #expect(text.contains(kind == "sign" ? Self.signPolicy : Self.authPolicy), "\(text)")
        }
        // The card's certificates are not the phone's: the card view lists only its own.
        let cardView = try f.cli(["card", "show", String(f.card)])
        #expect((cardView.json["certificates"] as? [[String: Any]])?.allSatisfy { $0["form"] as? String == "card" } == true, "\(cardView.stdout)")
        // phone show / list, and the audit.
        let show = try f.cli(["phone", "show", String(Self.phoneID(r))])
        #expect((show.json["phone"] as? [String: Any])?["platform"] as? String == "iphone")
        #expect((show.json["certificates"] as? [Any])?.count == 2)
        #expect(try f.home.auditOutcomes().contains { $0 == ("phone.issue", "ok") })
        #expect(try f.cli(["audit", "verify"]).status == 0)
        // `cert revoke` works on a phone certificate; a phone whose certificates are all revoked is revoked.
        let hold = try f.cli(["cert", "revoke", phone["sign"]!, "--reason", "certificateHold"])
        #expect(hold.status != 0 && hold.errorMessage.contains("phone suspend"), "\(hold.stdout)")
        #expect(try f.cli(["cert", "revoke", phone["sign"]!, "--reason", "stop"]).status == 0)
        #expect((try f.cli(["phone", "show", String(Self.phoneID(r))]).json["phone"] as? [String: Any])?["status"] as? String == "active")
        #expect(try f.cli(["cert", "revoke", phone["auth"]!, "--reason", "stop"]).status == 0)
        let settled = try f.cli(["phone", "show", String(Self.phoneID(r))]).json["phone"] as? [String: Any]
        #expect(settled?["status"] as? String == "revoked" && settled?["reason"] as? String == "cessationOfOperation")
    }

    // MARK: One phone per person, OCSP and CRLs

    @Test("A second phone supersedes the first: openssl ocsp against serve says revoked, superseded (jpki-domain.md research: 機種変更)")
    func secondPhoneSupersedesTheFirst() throws {
        let home = TempHome()
        let port = ServerProcess.freePort()
        let r = try Run.cli(["init", "--config", try home.config(port: port).path, "--json"], home: home.sandbox)
        #expect(r.status == 0, "init: \(r.stderr)\(r.stdout)")
        let id = try home.addResident()
        let card = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
        let f = Fixture(home: home, resident: id, card: (card.json["card"] as? [String: Any])?["id"] as? Int ?? -1, cardSerials: Self.serials(card))

        let first = try f.issuePhone(platform: "android")
        #expect(first.status == 0, "\(first.stdout)")
        let second = try f.issuePhone(platform: "iphone", sign: "PHONE2", auth: "9876")
        #expect(second.status == 0, "\(second.stdout)")
        let old = Self.serials(first), new = Self.serials(second)
        #expect((second.json["supersededPhones"] as? [Int]) == [Self.phoneID(first)])
        #expect(Set(second.json["revoked"] as? [String] ?? []) == Set(old.values))
        let firstPhone = try f.cli(["phone", "show", String(Self.phoneID(first))]).json["phone"] as? [String: Any]
        #expect(firstPhone?["status"] as? String == "revoked")
        #expect(firstPhone?["reason"] as? String == "superseded")

        let server = try ServerProcess(home: home.sandbox, port: port, folder: home.url)
        defer { server.stop() }
        for kind in ["sign", "auth"] {
            let root = home.root(kind).path
            func ocsp(_ serial: String) throws -> String {
                let out = try Run.openssl(["ocsp", "-issuer", root, "-cert", try home.certificateFile(serial).path, "-url", server.url + "/ocsp",
                                           "-CAfile", root])
                return out.stdout + out.stderr
            }
            let revoked = try ocsp(try #require(old[kind]))
            #expect(revoked.contains(": revoked") && revoked.contains("Reason: superseded"), "\(revoked)")
            #expect(revoked.contains("Response verify OK"), "\(revoked)")
            let good = try ocsp(try #require(new[kind]))
            #expect(good.contains(": good"), "\(good)")
            // The card's own certificate is untouched.
            #expect(try ocsp(try #require(f.cardSerials[kind])).contains(": good"))

            // The CRL of the kind lists the superseded phone certificate with its reason.
            let crl = home.file("\(kind).crl")
            try HTTP.request(server.url + "/crl/\(kind).crl", folder: home.url).body.write(to: crl)
            let text = try Run.openssl(["crl", "-inform", "DER", "-in", crl.path, "-noout", "-text"]).stdout
            #expect(text.contains("Serial Number: \(old[kind]!)") && text.contains("Superseded"), "\(text)")
            #expect(!text.contains(new[kind]!))
        }
    }

    // MARK: What the card's and the resident's changes do

    @Test("A change of basic details revokes the phone signing certificate, not the authentication one (seed 001)")
    func basicDetailsChangeRevokesPhoneSigning() throws {
        // Seed 001: 氏名、生年月日、住所、性別のうちいずれか1つでも変更があった場合には、署名用電子証明書は失効します。
        let f = try fixture()
        let phone = Self.serials(try f.issuePhone())
        let r = try f.cli(["resident", "update", String(f.resident), "--address", "埼玉県川越市元町2丁目1番地1"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let sign = try f.certificate(try #require(phone["sign"]))
        #expect(sign["status"] as? String == "revoked")
        #expect(sign["reason"] as? String == "affiliationChanged")
        #expect(try f.status(try #require(phone["auth"])) == "good")
        #expect(try f.status(try #require(f.cardSerials["auth"])) == "good")
    }

    @Test("card revoke (廃止) revokes both phone certificates (issue 11 rule; jpki-domain.md: no public source)")
    func cardRevocationRevokesThePhone() throws {
        let f = try fixture()
        let issued = try f.issuePhone()
        let phone = Self.serials(issued)
        #expect(phone.count == 2)
        let r = try f.cli(["card", "revoke", String(f.card), "--reason", "lost"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        for serial in phone.values {
            let c = try f.certificate(serial)
            #expect(c["status"] as? String == "revoked")
            #expect(c["reason"] as? String == "keyCompromise")
        }
        let p = try f.cli(["phone", "show", String(Self.phoneID(issued))]).json["phone"] as? [String: Any]
        #expect(p?["status"] as? String == "revoked")
        // A phone cannot be issued from a given-up card.
        #expect(try f.issuePhone().status != 0)
    }

    @Test("Card suspension: the phone is kept by default, held with the card under on_card_suspend = \"hold\" (sandbox's choice)")
    func cardSuspensionChoice() throws {
        // No source says what a card suspension does to the phone (jpki-domain.md); the sandbox chooses.
        let keep = try fixture()
        let kept = Self.serials(try keep.issuePhone())
        #expect(try keep.cli(["card", "suspend", String(keep.card)]).status == 0)
        #expect(try kept.values.allSatisfy { try keep.status($0) == "good" })

        let scratch = TempHome()
        let held = try fixture(config: try config(scratch, replacing: ["on_card_suspend = \"keep\"": "on_card_suspend = \"hold\""]))
        let issued = try held.issuePhone()
        let phone = Self.serials(issued)
        #expect(try held.cli(["card", "suspend", String(held.card)]).status == 0)
        #expect(try phone.values.allSatisfy { try held.status($0) == "suspended" })
        let p = try held.cli(["phone", "show", String(Self.phoneID(issued))]).json["phone"] as? [String: Any]
        #expect(p?["status"] as? String == "held-with-card")
        #expect(try held.cli(["card", "resume", String(held.card), "--pin", "1234"]).status == 0)
        #expect(try phone.values.allSatisfy { try held.status($0) == "good" })
    }

    @Test("Card certificate renewal revokes the phone certificate of that kind by default; keep under on_card_renewal = \"keep\" (sandbox's choice)")
    func cardRenewalChoice() throws {
        // Digest [medium]: after the card's renewal the phone certificate is applied for again.
        let at = ["--at", "2030-11-01T10:00:00+09:00"]   // the signing certificate ends 2030-12-31: its window is open
        let revoke = try fixture()
        let phone = Self.serials(try revoke.issuePhone())
        let r = try revoke.home.cli(["cert", "renew", try #require(revoke.cardSerials["sign"]), "--json"] + at)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let sign = try revoke.certificate(try #require(phone["sign"]))
        #expect(sign["status"] as? String == "revoked" && sign["reason"] as? String == "superseded")
        #expect(try revoke.status(try #require(phone["auth"])) == "good")
        // A phone certificate is not renewed at the window.
        let direct = try revoke.home.cli(["cert", "renew", try #require(phone["auth"]), "--json"] + at)
        #expect(direct.status != 0 && direct.errorMessage.contains("smartphone certificate"), "\(direct.stdout)")

        let scratch = TempHome()
        let keep = try fixture(config: try config(scratch, replacing: ["on_card_renewal = \"revoke\"": "on_card_renewal = \"keep\""]))
        let kept = Self.serials(try keep.issuePhone())
        #expect(try keep.home.cli(["cert", "renew", try #require(keep.cardSerials["sign"]), "--json"] + at).status == 0)
        #expect(try keep.status(try #require(kept["sign"])) == "good")
    }

    @Test("[phone] settings: bad values are refused by init with the setting named; OIDs are configurable (sandbox's choice)")
    func phoneSettings() throws {
        let scratch = TempHome()
        for (from, to, named) in [("on_card_suspend = \"keep\"", "on_card_suspend = \"maybe\"", "phone.on_card_suspend"),
                                  ("on_card_renewal = \"revoke\"", "on_card_renewal = \"never\"", "phone.on_card_renewal"),
                                  ("sign_policy_oid = \"1.2.392.200149.8.5.1.1.40\"", "sign_policy_oid = \"phone\"", "phone.sign_policy_oid")] {
            let home = TempHome()
            let r = try Run.cli(["init", "--config", try config(scratch, replacing: [from: to]).path, "--json"], home: home.sandbox)
            #expect(r.status != 0 && r.errorMessage.contains(named), "\(r.stdout)")
            #expect(!FileManager.default.fileExists(atPath: home.sandbox.appendingPathComponent("sandbox.sqlite").path))
        }
        // A J-LIS test-style OID instead: the phone signing certificate carries it.
        let f = try fixture(config: try config(scratch, replacing: ["sign_policy_oid = \"1.2.392.200149.8.5.1.1.40\"": "sign_policy_oid = \"1.2.392.200149.8.5.1.0.40\""]))
        let phone = Self.serials(try f.issuePhone())
        let text = try Run.openssl(["x509", "-in", try f.home.certificateFile(try #require(phone["sign"])).path, "-noout", "-text"]).stdout
        #expect(text.contains("1.2.392.200149.8.5.1.0.40") && !text.contains("1.2.392.200149.8.5.1.1.40"), "\(text)")
    }

    // MARK: PINs

    @Test("Phone PINs lock after 5 (signing) and 3 (authentication) wrong tries, independently of the card's (jpki-domain.md research)")
    func phonePINsLockIndependently() throws {
        let f = try fixture()
        let issued = try f.issuePhone()
        let phone = Self.serials(issued)
        let phoneSign = try #require(phone["sign"]), phoneAuth = try #require(phone["auth"])
        let cardSign = try #require(f.cardSerials["sign"]), cardAuth = try #require(f.cardSerials["auth"])

        for (serial, max, wrong) in [(phoneSign, 5, "WRONG9"), (phoneAuth, 3, "0000")] {
            for i in 1...max {
                let r = try f.cli(["pin", "verify", serial, "--pin", wrong])
                #expect(r.status != 0)
                #expect(r.json["triesLeft"] as? Int == max - i, "\(r.stdout)")
            }
            let locked = try f.cli(["pin", "verify", serial, "--pin", serial == phoneSign ? "PHONE1" : "5678"])
            #expect(locked.json["locked"] as? Bool == true && locked.json["ok"] as? Bool != true, "the right PIN after the lock: \(locked.stdout)")
        }
        // The card's PINs are untouched and still work.
        #expect(try f.triesLeft(cardSign) == 5)
        #expect(try f.triesLeft(cardAuth) == 3)
        #expect(try f.cli(["pin", "verify", cardSign, "--pin", "ABC123"]).status == 0)
        #expect(try f.cli(["pin", "verify", cardAuth, "--pin", "1234"]).status == 0)
        // A locked phone PIN is reset with the card and its signing PIN (jpki-domain.md research [high]), not at the window.
        let window = try f.cli(["pin", "reset", phoneSign, "--new-pin", "PHONE9"])
        #expect(window.status != 0 && window.errorMessage.contains("phone reset-pin"), "\(window.stdout)")
        let id = String(Self.phoneID(issued))
        let wrongCard = try f.cli(["phone", "reset-pin", id, "--kind", "sign", "--card-sign-pin", "WRONG1", "--new-pin", "PHONE9"])
        #expect(wrongCard.status != 0)
        #expect(try f.triesLeft(cardSign) == 4, "a wrong card PIN costs a card try")
        #expect(try f.triesLeft(phoneSign) == 0, "and resets nothing")
        let reset = try f.cli(["phone", "reset-pin", id, "--kind", "sign", "--card-sign-pin", "ABC123", "--new-pin", "PHONE9"])
        #expect(reset.status == 0, "\(reset.stdout)")
        #expect(try f.cli(["pin", "verify", phoneSign, "--pin", "PHONE9"]).status == 0)
        #expect(try f.cli(["pin", "verify", phoneSign, "--pin", "PHONE1"]).json["triesLeft"] as? Int == 4, "the old PIN is gone")
        // And the card's wrong PINs do not touch a phone's counter.
        let other = try fixture()
        let otherPhone = Self.serials(try other.issuePhone())
        for _ in 1...2 { _ = try other.cli(["pin", "verify", try #require(other.cardSerials["auth"]), "--pin", "0000"]) }
        #expect(try other.triesLeft(try #require(otherPhone["auth"])) == 3)
        // The phone PINs are stored as salted hashes, never in clear.
        let dump = try other.home.snapshot()
        #expect(!dump.contains("PHONE1") && !dump.contains("'5678'"))
    }

    // MARK: Lost phone

    @Test("phone suspend holds both; phone resume releases authentication and reissues signing (jpki-domain.md research: J-LIS lost-phone page)")
    func suspendAndResume() throws {
        let f = try fixture()
        let issued = try f.issuePhone()
        let id = String(Self.phoneID(issued))
        let phone = Self.serials(issued)
        let s = try f.cli(["phone", "suspend", id])
        #expect(s.status == 0, "\(s.stdout)")
        #expect(try phone.values.allSatisfy { try f.status($0) == "suspended" })
        // A held phone certificate cannot sign.
        let doc = f.home.file("doc.txt")
        try Data("hello".utf8).write(to: doc)
        let sig = f.home.file("doc.p7s")
        let refused = try f.cli(["sign", phone["sign"]!, "--pin", "PHONE1", "--in", doc.path, "--out", sig.path])
        #expect(refused.status != 0 && refused.errorMessage.contains("phone resume"), "\(refused.stdout)")

        // Resume with a wrong card PIN: refused, one card try gone, still suspended.
        let wrong = try f.cli(["phone", "resume", id, "--card-sign-pin", "WRONG1"])
        #expect(wrong.status != 0)
        #expect(try f.triesLeft(try #require(f.cardSerials["sign"])) == 4)
        #expect(try phone.values.allSatisfy { try f.status($0) == "suspended" })

        let r = try f.cli(["phone", "resume", id, "--card-sign-pin", "ABC123", "--sign-pin", "PHONE7"])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(try f.status(phone["auth"]!) == "good")
        let oldSign = try f.certificate(phone["sign"]!)
        #expect(oldSign["status"] as? String == "revoked" && oldSign["reason"] as? String == "superseded")
        let newSign = try #require((r.json["issued"] as? [String])?.first)
        #expect(newSign != phone["sign"])
        let n = try f.certificate(newSign)
        #expect(n["status"] as? String == "good" && n["form"] as? String == "android" && n["kind"] as? String == "sign")
        // The new signing certificate signs with its new PIN; `verify` says valid.
        let signed = try f.cli(["sign", newSign, "--pin", "PHONE7", "--in", doc.path, "--out", sig.path])
        #expect(signed.status == 0, "\(signed.stdout)")
        let v = try f.cli(["verify", "--in", doc.path, "--signature", sig.path])
        #expect(v.json["status"] as? String == "valid", "\(v.stdout)")
        // Revoking the phone: verify then says revoked.
        #expect(try f.cli(["phone", "revoke", id, "--reason", "lost"]).status == 0)
        let after = try f.cli(["verify", "--in", doc.path, "--signature", sig.path])
        #expect(after.json["status"] as? String == "revoked", "\(after.stdout)")
        #expect(try f.cli(["phone", "revoke", id]).status != 0, "revoking twice is refused")
        let ops = try f.home.auditOutcomes().map(\.0)
        for op in ["phone.issue", "phone.suspend", "phone.resume", "phone.revoke"] { #expect(ops.contains(op), "\(op) audited") }
    }

    @Test("Expiry notices list the phone certificates with the card's (jpki-domain.md research: same validity)")
    func notices() throws {
        let f = try fixture()
        let phone = Self.serials(try f.issuePhone())
        let r = try f.home.cli(["notices", "--within", "3m", "--json", "--at", "2030-11-01T10:00:00+09:00"])
        let serials = (r.json["notices"] as? [[String: Any]] ?? []).compactMap { $0["serial"] as? String }
        let phoneSign = try #require(phone["sign"]), cardSign = try #require(f.cardSerials["sign"])
        #expect(serials.contains(phoneSign) && serials.contains(cardSign), "\(r.stdout)")
    }

    // MARK: Outside tools

    @Test("pkilint and Python cryptography read the phone certificates (jpki-domain.md research: the card profile)")
    func outsideToolsReadPhoneCertificates() throws {
        guard Run.venvPython != nil else {
            #expect(!Run.interopRequired, "JPKI_REQUIRE_INTEROP=1 but \(InteropMissing())")
            return
        }
        let f = try fixture()
        let phone = Self.serials(try f.issuePhone())
        for kind in ["sign", "auth"] {
            let file = try f.home.certificateFile(try #require(phone[kind]))
            let root = f.home.root(kind)
            let lint = try Run.interop("pkilint_check.py", ["--kind", "leaf", file.path, "--issuer", root.path]
                                       + InteropTests.allowedPkilintFindings.flatMap { ["--allow", $0] })
            #expect(lint.status == 0, "pkilint on the phone \(kind) certificate: \(lint.stdout) \(lint.stderr)")
            #expect((lint.json["blocking"] as? [Any])?.isEmpty == true)
            let policy = kind == "sign" ? Self.signPolicy : Self.authPolicy
            let decoded = try Run.interop("jpki_decode.py", [file.path, "--kind", kind, "--root", root.path, "--policy", policy])
            #expect(decoded.status == 0, "\(decoded.stderr)")
            #expect((decoded.json["strictClient"] as? [Any])?.isEmpty == true, "strict-client violations: \(decoded.json["strictClient"] ?? "?")")
            if kind == "sign" {
                let details = decoded.json["basicDetails"] as? [String: Any]
                #expect(details?["name"] as? String == "山田\u{3000}太郎")
                #expect(details?["dateOfBirth"] as? String == "319801231")
            }
            // With the card's policy the strict client must object: the checker sees the difference.
            let cardPolicy = kind == "sign" ? "1.2.392.200149.8.5.1.1.20" : "1.2.392.200149.8.5.1.3.30"
            let strict = try Run.interop("jpki_decode.py", [file.path, "--kind", kind, "--root", root.path, "--policy", cardPolicy])
            #expect((strict.json["strictClient"] as? [Any])?.isEmpty == false)
        }
    }

    // MARK: The phone as a virtual card

    @Test("A phone's JPKI applet answers JPKIAPGPSETOKEN with the phone's certificates and PIN counters (jpki-domain.md research [high])")
    func phoneApplet() throws {
        let f = try fixture()
        let issued = try f.issuePhone(platform: "iphone")
        let phone = Self.serials(issued)
        let phoneSign = try #require(phone["sign"]), phoneAuth = try #require(phone["auth"])
        let sandbox = try Sandbox.open(home: SandboxHome(f.home.sandbox))
        var applet = JPKIApplet(services: try SandboxCardServices(sandbox: sandbox, phoneID: Int64(Self.phoneID(issued))))
        typealias A = CardAppletTests
        #expect(applet.process(A.selectAP).status == .ok)
        #expect(applet.process(A.selectEF(0x0006)).status == .ok)
        let token = applet.process(A.read(0, 0x20))
        #expect(token.status == .ok && token.data == Array("JPKIAPGPSETOKEN".utf8) + [UInt8](repeating: 0x20, count: 17))
        // The authentication certificate read off the applet is the phone's, not the card's.
        #expect(applet.process(A.selectEF(0x000A)).status == .ok)
        let head = applet.process(A.read(0, 0x40))
        let phoneAuthDER = try sandbox.certificate(serial: phoneAuth).der
        #expect(head.status == .ok && head.data == Array(phoneAuthDER.prefix(0x40)))
        // A wrong PIN counts on the phone's counter only.
        #expect(applet.process(A.selectEF(0x0018)).status == .ok)
        #expect(applet.process(A.verify("0000")).status == .triesLeft(2))
        let cardAuth = try #require(f.cardSerials["auth"])
        #expect(try f.triesLeft(phoneAuth) == 2)
        #expect(try f.triesLeft(cardAuth) == 3)
        // The phone's signing key signs after the phone's signing PIN; OpenSSL verifies with the phone certificate.
        #expect(applet.process(A.selectEF(0x001B)).status == .ok)
        #expect(applet.process(A.verify("PHONE1")).status == .ok)
        #expect(applet.process(A.selectEF(0x001A)).status == .ok)
        let message = Array("a filing".utf8)
        let sig = applet.process(A.sign(A.digestInfo(message)))
        #expect(sig.status == .ok)
        let signKey = try Certificate(der: try sandbox.certificate(serial: phoneSign).der).publicKey()
        #expect(try signKey.verifySHA256(signature: sig.data, message: message))
        // A suspended phone refuses to sign (69 85), as a suspended card does.
        #expect(try f.cli(["phone", "suspend", String(Self.phoneID(issued))]).status == 0)
        #expect(applet.process(A.sign(A.digestInfo(message))).status != .ok)
    }

    @Test("phone insert serves the phone's applet over the vpcd link (token JPKIAPGPSETOKEN); phone eject ends it (jpki-domain.md research [high])")
    func phoneInsertOverVPCD() throws {
        // No pcscd needed: scripts/interop/vpcd_peer.py plays the vpcd side.
        let f = try fixture()
        let issued = try f.issuePhone()
        let id = String(Self.phoneID(issued))
        let port = ServerProcess.freePort()
        let peer = Process()
        peer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let selectAP = "00A4040C0A" + CardAppletTests.aid.map { String(format: "%02X", $0) }.joined()
        peer.arguments = ["python3", Run.repoRoot.appendingPathComponent("scripts/interop/vpcd_peer.py").path, String(port),
                          "ctl:04", "apdu:" + selectAP, "apdu:00A4020C020006", "apdu:00B0000020"]
        let out = Pipe()
        peer.standardOutput = out
        try peer.run()
        Thread.sleep(forTimeInterval: 0.5)
        let log = f.home.file("phone-insert.out")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let insert = Process()
        insert.executableURL = URL(fileURLWithPath: Run.binary)
        insert.arguments = ["phone", "insert", id, "--home", f.home.sandbox.path, "--reader", "127.0.0.1:\(port)", "--json"]
        insert.standardOutput = try FileHandle(forWritingTo: log)
        insert.standardError = FileHandle.nullDevice
        try insert.run()
        defer { if insert.isRunning { kill(insert.processIdentifier, SIGKILL); insert.waitUntilExit() } }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        peer.waitUntilExit()
        let replies = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["replies"] as? [Any] ?? []
        let token = Array("JPKIAPGPSETOKEN".utf8).map { String(format: "%02X", $0) }.joined() + String(repeating: "20", count: 17) + "9000"
        #expect(replies.map { $0 as? String ?? "none" } == ["3BE000FF8131FE4514", "9000", "9000", token])
        // Inserted twice is refused; eject ends it.
        let twice = try f.cli(["phone", "insert", id, "--reader", "127.0.0.1:\(port)"])
        #expect(twice.status != 0 && twice.errorMessage.contains("already inserted"), "\(twice.stdout)")
        let eject = try f.cli(["phone", "eject", id])
        #expect(eject.status == 0, "\(eject.stdout)")
        insert.waitUntilExit()
        let said = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(said.contains("\"phone\":\(id)") && said.contains("removed"), "\(said)")
        // A revoked phone cannot be inserted.
        #expect(try f.cli(["phone", "revoke", id]).status == 0)
        #expect(try f.cli(["phone", "insert", id, "--reader", "127.0.0.1:\(port)"]).status != 0)
    }
}
