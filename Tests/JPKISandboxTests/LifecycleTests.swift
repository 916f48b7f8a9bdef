import Foundation
import Testing

/// The municipal window's procedures through the CLI, one test per rule, each naming its seed page.
struct LifecycleTests {
    /// A sandbox with one adult born 26 May (so certificates end on 26 May, seed 004's example),
    /// card issued 2026-11-21: certificates to 2031-05-26, card to 2036-05-26.
    struct Fixture {
        let home = TempHome()
        var sign = "", auth = ""
        let cardID = 1

        init(birth: String = "1980-05-26") throws {
            try home.initialize(at: "2026-11-21")
            let id = try home.addResident(birth: birth)
            let r = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2026-11-21"])
            #expect(r.status == 0, "\(r.stderr)")
            for c in r.json["certificates"] as? [[String: Any]] ?? [] {
                if c["kind"] as? String == "sign" { sign = c["serial"] as? String ?? "" } else { auth = c["serial"] as? String ?? "" }
            }
        }

        func cli(_ args: [String], at: String) throws -> Run.Result { try home.cli(args + ["--json", "--at", at]) }
        func show(_ serial: String, at: String = "2027-01-01") throws -> [String: Any] { try cli(["cert", "show", serial], at: at).json }
    }

    // MARK: Renewal (004)

    @Test("renewal: refused the day before the window opens, naming the day it opens (004: expiry 26 May → from 27 Feb)")
    func renewalDayBefore() throws {
        let f = try Fixture()
        let before = try f.home.snapshot(includingAudit: false)
        let r = try f.cli(["cert", "renew", f.sign], at: "2031-02-26")
        #expect(r.status != 0)
        #expect(r.errorMessage.contains("2031-02-27"), "\(r.errorMessage)")
        #expect(try f.home.snapshot(includingAudit: false) == before, "a refusal changes nothing but the audit log")
        #expect(try f.home.auditOutcomes().last! == ("cert.renew", "refused"))
    }

    @Test("renewal: allowed the day the window opens; old certificate superseded; 6th birthday after issuance (004)")
    func renewalDayItOpens() throws {
        let f = try Fixture()
        let auth = try f.cli(["cert", "renew", f.auth], at: "2031-02-27")
        #expect(auth.status == 0, "\(auth.stderr)")
        #expect(auth.json["revoked"] as? String == f.auth)
        let cert = auth.json["certificate"] as? [String: Any]
        // Issued 2031-02-27: birthdays after it are 2031-05-26 (1st) … 2036-05-26 (6th), also the card's end.
        #expect(cert?["notAfter"] as? String == "2036-05-26T23:59:59+09:00")
        let old = try f.show(f.auth, at: "2031-02-27")
        #expect(old["status"] as? String == "revoked")
        #expect(old["reason"] as? String == "superseded")
        // The signing certificate renewed after it gets the same 6th birthday (and never outlives the new authentication certificate).
        let sign = try f.cli(["cert", "renew", f.sign], at: "2031-02-28")
        #expect(sign.status == 0, "\(sign.stderr)")
        #expect((sign.json["certificate"] as? [String: Any])?["notAfter"] as? String == "2036-05-26T23:59:59+09:00")
    }

    @Test("renewal: allowed on the expiry day itself (004)")
    func renewalExpiryDay() throws {
        let f = try Fixture()
        let r = try f.cli(["cert", "renew", f.auth], at: "2031-05-26T23:00:00+09:00")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.json["revoked"] as? String == f.auth)
    }

    @Test("after expiry: a new certificate (5th birthday) while the card is valid; the expired one is not revoked (002, 004)")
    func renewalDayAfter() throws {
        let f = try Fixture()
        #expect(try f.show(f.auth, at: "2031-05-27")["status"] as? String == "expired")
        let r = try f.cli(["cert", "renew", f.auth], at: "2031-05-27")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.json["revoked"] is NSNull)
        // Issued 2031-05-27: the 5th birthday after it is 2036-05-26, the card's last day too.
        #expect((r.json["certificate"] as? [String: Any])?["notAfter"] as? String == "2036-05-26T23:59:59+09:00")
        #expect(try f.show(f.auth, at: "2031-05-27")["status"] as? String == "expired")
    }

    // MARK: Change of basic details (000, 002, 004)

    @Test("a move revokes only the signing certificate (affiliationChanged); a new one can be applied for (000, 002, 004)")
    func moveRevokesSigningOnly() throws {
        let f = try Fixture()
        let r = try f.cli(["resident", "update", "1", "--address", "東京都板橋区板橋2丁目66番1号"], at: "2027-01-10")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.json["revoked"] as? [String] == [f.sign])
        #expect((r.json["note"] as? String ?? "").contains("new signing certificate"))
        let sign = try f.show(f.sign, at: "2027-01-10")
        #expect(sign["status"] as? String == "revoked")
        #expect(sign["reason"] as? String == "affiliationChanged")
        #expect(try f.show(f.auth, at: "2027-01-10")["status"] as? String == "good")

        let again = try f.cli(["cert", "issue", "--card", "1", "--kind", "sign", "--pin", "NEW123"], at: "2027-01-11")
        #expect(again.status == 0, "\(again.stderr)")
        let serial = try #require((again.json["certificate"] as? [String: Any])?["serial"] as? String)
        let pem = try #require(try f.show(serial, at: "2027-01-11")["pem"] as? String)
        let file = f.home.file("new.pem")
        try pem.write(to: file, atomically: true, encoding: .utf8)
        let text = try Run.openssl(["x509", "-in", file.path, "-noout", "-text", "-nameopt", "utf8"])
        #expect(text.stdout.contains("東京都板橋区板橋２丁目６６番１号"), "the new certificate carries the new address")
        #expect(text.stdout.contains("Itabashi-ku"))
    }

    // MARK: Suspension (002)

    @Test("suspend puts both certificates on hold; release needs a PIN of the card (002)")
    func holdAndRelease() throws {
        let f = try Fixture()
        let s = try f.cli(["card", "suspend", "1"], at: "2027-01-01")
        #expect(s.status == 0, "\(s.stderr)")
        for serial in [f.sign, f.auth] {
            let c = try f.show(serial)
            #expect(c["status"] as? String == "suspended")
            #expect(c["reason"] as? String == "certificateHold")
        }
        let wrong = try f.cli(["card", "resume", "1", "--pin", "9999"], at: "2027-01-02")
        #expect(wrong.status != 0)
        #expect(try f.show(f.auth)["status"] as? String == "suspended", "a wrong PIN releases nothing")
        #expect(try f.show(f.auth)["pinTriesLeft"] as? Int == 2, "and costs a try, as on the card")
        let ok = try f.cli(["card", "resume", "1", "--pin", "1234"], at: "2027-01-02")
        #expect(ok.status == 0, "\(ok.stderr)")
        for serial in [f.sign, f.auth] {
            let c = try f.show(serial)
            #expect(c["status"] as? String == "good")
            #expect(c["reason"] == nil)
        }
    }

    @Test("card revoke revokes both certificates; revoking twice or an unknown serial is an error that changes nothing")
    func revocations() throws {
        let f = try Fixture()
        let r = try f.cli(["cert", "revoke", f.sign, "--reason", "pin-leaked"], at: "2027-01-01")
        #expect(r.status == 0)
        #expect(r.json["reason"] as? String == "keyCompromise")
        let before = try f.home.snapshot(includingAudit: false)
        #expect(try f.cli(["cert", "revoke", f.sign, "--reason", "keyCompromise"], at: "2027-01-02").status != 0)
        #expect(try f.cli(["cert", "revoke", "ABCDEF0123", "--reason", "keyCompromise"], at: "2027-01-02").status != 0)
        #expect(try f.cli(["cert", "revoke", f.auth, "--reason", "because"], at: "2027-01-02").status != 0)
        #expect(try f.home.snapshot(includingAudit: false) == before)
        let card = try f.cli(["card", "revoke", "1", "--reason", "lost"], at: "2027-01-03")
        #expect(card.status == 0)
        #expect(try f.show(f.auth)["status"] as? String == "revoked")
        // A card reissued after a loss costs 800 yen plus 200 for its certificates (002, 004).
        let reissue = try f.cli(["card", "issue", "--resident", "1", "--sign-pin", "ABC123", "--auth-pin", "1234"], at: "2027-01-04")
        #expect(reissue.status == 0, "\(reissue.stderr)")
        #expect(reissue.json["fee"] as? Int == 1000)
    }

    @Test("fees only for a lost or stolen card: a PIN leak costs nothing, and renewal is always free (002, 004)")
    func feesOnlyForLoss() throws {
        let f = try Fixture()
        #expect(try f.cli(["cert", "revoke", f.auth, "--reason", "pin-leaked"], at: "2027-01-01").status == 0)
        let again = try f.cli(["cert", "issue", "--card", "1", "--kind", "auth", "--pin", "4321"], at: "2027-01-02")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.json["fee"] as? Int == 0)
        let renewed = try f.cli(["cert", "renew", f.sign], at: "2031-03-01")
        #expect(renewed.json["fee"] as? Int == 0)
        #expect(try f.cli(["card", "revoke", "1", "--reason", "pin-leaked"], at: "2031-03-02").status == 0)
        let card = try f.cli(["card", "issue", "--resident", "1", "--sign-pin", "ABC123", "--auth-pin", "1234"], at: "2031-03-03")
        #expect(card.json["fee"] as? Int == 0)
        // A certificate reissued on the same card after it was reported lost: 200 yen.
        #expect(try f.cli(["cert", "revoke", (card.json["certificates"] as? [[String: Any]])?.first { $0["kind"] as? String == "auth" }?["serial"] as? String ?? "", "--reason", "lost"], at: "2031-03-04").status == 0)
        let lost = try f.cli(["cert", "issue", "--card", "2", "--kind", "auth", "--pin", "4321"], at: "2031-03-05")
        #expect(lost.json["fee"] as? Int == 200)
    }

    @Test("an agent's revocation and release take two visits too (002, 003)")
    func agentRevocationTwoStep() throws {
        let f = try Fixture()
        let first = try f.cli(["cert", "revoke", f.sign, "--reason", "stop", "--applicant", "agent"], at: "2027-01-01T10:00:00+09:00")
        #expect(first.status == 0, "\(first.stderr)")
        let request = try #require(first.json["request"] as? [String: Any])
        #expect(try f.show(f.sign)["status"] as? String == "good", "nothing revoked on the first visit")
        let done = try f.cli(["request", "complete", String(request["id"] as! Int), "--answer", request["mailedAnswerCode"] as! String], at: "2027-01-02")
        #expect(done.status == 0, "\(done.stderr)")
        let cert = try f.show(f.sign, at: "2027-01-02")
        #expect(cert["status"] as? String == "revoked")
        #expect(cert["reason"] as? String == "cessationOfOperation")
    }

    // MARK: PINs (004)

    @Test("signing PIN locks after exactly 5 failures, with the right tries left each time; reset clears it (004)")
    func signingLock() throws {
        let f = try Fixture()
        for expected in [4, 3, 2, 1] {
            let r = try f.cli(["pin", "verify", f.sign, "--pin", "WRONG1"], at: "2027-01-01")
            #expect(r.status != 0)
            #expect(r.json["triesLeft"] as? Int == expected)
            #expect(r.json["locked"] as? Bool == false)
        }
        let fifth = try f.cli(["pin", "verify", f.sign, "--pin", "WRONG1"], at: "2027-01-01")
        #expect(fifth.json["triesLeft"] as? Int == 0)
        #expect(fifth.json["locked"] as? Bool == true)
        let right = try f.cli(["pin", "verify", f.sign, "--pin", "ABC123"], at: "2027-01-01")
        #expect(right.status != 0, "a lock never clears by itself, not even with the right PIN")
        #expect(right.json["locked"] as? Bool == true)
        #expect(try f.cli(["pin", "reset", f.sign, "--new-pin", "NEW456"], at: "2027-01-02").status == 0)
        let after = try f.cli(["pin", "verify", f.sign, "--pin", "NEW456"], at: "2027-01-02")
        #expect(after.status == 0)
        #expect(after.json["ok"] as? Bool == true)
        #expect(after.json["triesLeft"] as? Int == 5)
    }

    @Test("authentication PIN locks after exactly 3 failures; a success before that resets the count (004)")
    func authenticationLock() throws {
        let f = try Fixture()
        #expect(try f.cli(["pin", "verify", f.auth, "--pin", "0000"], at: "2027-01-01").json["triesLeft"] as? Int == 2)
        #expect(try f.cli(["pin", "verify", f.auth, "--pin", "1234"], at: "2027-01-01").json["triesLeft"] as? Int == 3)
        for expected in [2, 1, 0] {
            #expect(try f.cli(["pin", "verify", f.auth, "--pin", "0000"], at: "2027-01-01").json["triesLeft"] as? Int == expected)
        }
        #expect(try f.show(f.auth)["locked"] as? Bool == true)
    }

    @Test("pin change needs the current PIN and checks the policy")
    func pinChange() throws {
        let f = try Fixture()
        #expect(try f.cli(["pin", "change", f.auth, "--pin", "0000", "--new-pin", "5678"], at: "2027-01-01").status != 0)
        #expect(try f.cli(["pin", "change", f.auth, "--pin", "1234", "--new-pin", "56789"], at: "2027-01-01").status != 0)
        #expect(try f.cli(["pin", "change", f.auth, "--pin", "1234", "--new-pin", "5678"], at: "2027-01-01").status == 0)
        #expect(try f.cli(["pin", "verify", f.auth, "--pin", "5678"], at: "2027-01-01").status == 0)
    }

    // MARK: Applicants (002, 003)

    @Test("a voluntary agent never finishes the same day: request, form, answer code, next day (002, 003)")
    func agentTwoStep() throws {
        let home = TempHome()
        try home.initialize(at: "2026-11-21")
        _ = try home.addResident()
        let first = try home.cli(["card", "issue", "--resident", "1", "--applicant", "agent", "--json", "--at", "2026-11-21T10:00:00+09:00"])
        #expect(first.status == 0, "\(first.stderr)")
        let request = try #require(first.json["request"] as? [String: Any])
        let id = String(try #require(request["id"] as? Int))
        let code = try #require(request["mailedAnswerCode"] as? String)
        #expect(FileManager.default.fileExists(atPath: request["form"] as? String ?? ""), "the inquiry-and-answer form is written")
        #expect(try home.cli(["card", "show", "1"]).status != 0, "no card yet")

        let sameDay = try home.cli(["request", "complete", id, "--answer", code, "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2026-11-21T17:00:00+09:00"])
        #expect(sameDay.status != 0)
        #expect(sameDay.errorMessage.contains("same day"), "\(sameDay.errorMessage)")
        let wrongCode = try home.cli(["request", "complete", id, "--answer", "NOPE", "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2026-11-22"])
        #expect(wrongCode.status != 0)
        let next = try home.cli(["request", "complete", id, "--answer", code, "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2026-11-22"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(((next.json["result"] as? [String: Any])?["certificates"] as? [Any])?.count == 2)
        #expect(try home.cli(["request", "complete", id, "--answer", code, "--auth-pin", "1234", "--json", "--at", "2026-11-23"]).status != 0, "only once")
    }

    @Test("an agent renewing with the form enclosed in the expiry notice finishes at once (002)")
    func agentWithNoticeForm() throws {
        let f = try Fixture()
        let r = try f.cli(["cert", "renew", f.auth, "--applicant", "agent", "--notice-form"], at: "2031-03-01")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.json["revoked"] as? String == f.auth)
        let twoStep = try f.cli(["cert", "renew", f.sign, "--applicant", "agent"], at: "2031-03-01")
        #expect(twoStep.json["request"] != nil, "without the notice form it is a two-step request")
    }

    @Test("an under-15 applying as self or through an agent is refused with the reason; a legal representative may (003, 004)")
    func underFifteenSelf() throws {
        let home = TempHome()
        try home.initialize(at: "2026-11-21")
        let id = try home.addResident(birth: "2013-04-01")
        let r = try home.cli(["card", "issue", "--resident", String(id), "--auth-pin", "1234", "--json", "--at", "2026-11-21"])
        #expect(r.status != 0)
        #expect(r.errorMessage.contains("legal representative"))
        #expect(try home.auditOutcomes().last! == ("card.issue", "refused"))
        // A voluntary agent cannot stand in for a legal representative either.
        let agent = try home.cli(["card", "issue", "--resident", String(id), "--applicant", "agent", "--json", "--at", "2026-11-21"])
        #expect(agent.status != 0)
        #expect(agent.errorMessage.contains("legal representative"))
        let representative = try home.cli(["card", "issue", "--resident", String(id), "--auth-pin", "1234", "--applicant", "legal-representative", "--json", "--at", "2026-11-21"])
        #expect(representative.status == 0, "\(representative.stderr)")
    }

    // MARK: Clock, notices, audit

    @Test("the sandbox clock: set, advance and reset; expiry reached in a second")
    func clock() throws {
        let f = try Fixture()
        #expect(try f.home.cli(["clock", "set", "2031-05-27", "--json"]).status == 0)
        #expect(try f.home.cli(["cert", "show", f.auth, "--json"]).json["status"] as? String == "expired")
        let adv = try f.home.cli(["clock", "advance", "1y", "--json"])
        #expect((adv.json["date"] as? String ?? "").hasPrefix("2032-05-27"))
        #expect(try f.home.cli(["clock", "advance", "soon"]).status != 0)
        #expect(try f.home.cli(["clock", "reset", "--json"]).status == 0)
        #expect(try f.home.cli(["cert", "show", f.auth, "--json"]).json["status"] as? String == "good")
    }

    @Test("expiry notices list what expires within the window, with the date renewal opens and the address (002, 004)")
    func notices() throws {
        let f = try Fixture()
        #expect((try f.cli(["notices"], at: "2031-01-01").json["notices"] as? [Any])?.isEmpty == true)
        let r = try f.cli(["notices", "--within", "3m"], at: "2031-03-01")
        let notices = r.json["notices"] as? [[String: Any]] ?? []
        #expect(Set(notices.compactMap { $0["serial"] as? String }) == [f.sign, f.auth])
        #expect(notices.allSatisfy { $0["renewalOpens"] as? String == "2031-02-27" })
        #expect(notices.allSatisfy { ($0["address"] as? String ?? "").hasPrefix("埼玉県川越市") })
    }

    @Test("audit verify detects an entry edited in the database")
    func auditTamper() throws {
        let f = try Fixture()
        #expect(try f.home.cli(["audit", "verify", "--json"]).json["ok"] as? Bool == true)
        try f.home.sql("UPDATE audit SET detail = 'nothing happened' WHERE operation = 'card.issue'")
        let r = try f.home.cli(["audit", "verify", "--json"])
        #expect(r.status != 0)
        #expect(r.errorMessage.contains("tampered"))
    }
}
