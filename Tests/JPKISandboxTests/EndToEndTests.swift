import Foundation
import Testing

/// The signatures issue against a running `serve`: revocation checked the way relying parties check
/// it (OCSP and CRL by the URLs in the certificate), by our `verify` and by pyHanko.
@Suite(.serialized) struct EndToEndTests {
    struct Fixture {
        let home = TempHome()
        let server: ServerProcess
        var sign = "", auth = ""

        init() throws {
            let port = ServerProcess.freePort()
            let r = try Run.cli(["init", "--config", try home.config(port: port).path, "--json"], home: home.sandbox)
            #expect(r.status == 0, "\(r.stderr)")
            server = try ServerProcess(home: home.sandbox, port: port, folder: home.url)
            let id = try home.addResident(at: ISO8601DateFormatter().string(from: Date()))
            let card = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
            #expect(card.status == 0, "\(card.stderr)")
            for c in card.json["certificates"] as? [[String: Any]] ?? [] {
                if c["kind"] as? String == "sign" { sign = c["serial"] as? String ?? "" } else { auth = c["serial"] as? String ?? "" }
            }
        }
    }

    @Test("verify --revocation ocsp and crl follow the certificate's URLs to the running server: good, then revoked")
    func verifyOnline() throws {
        let f = try Fixture()
        defer { f.server.stop() }
        let doc = f.home.file("doc.txt"), sig = f.home.file("doc.p7s")
        try Data("filing".utf8).write(to: doc)
        #expect(try f.home.cli(["sign", f.sign, "--pin", "ABC123", "--in", doc.path, "--out", sig.path]).status == 0)
        for source in ["ocsp", "crl"] {
            let r = try f.home.cli(["verify", "--in", doc.path, "--signature", sig.path, "--revocation", source, "--json"])
            #expect(r.status == 0, "\(source): \(r.stdout)\(r.stderr)")
            #expect((r.json["revocation"] as? [String: Any])?["source"] as? String == source)
        }
        #expect(try f.home.cli(["cert", "revoke", f.sign, "--reason", "keyCompromise"]).status == 0)
        for source in ["ocsp", "crl"] {
            let r = try f.home.cli(["verify", "--in", doc.path, "--signature", sig.path, "--revocation", source, "--json"])
            #expect(r.status == 4, "\(source): \(r.stdout)\(r.stderr)")
            #expect((r.json["revocation"] as? [String: Any])?["reason"] as? String == "keyCompromise")
        }
        // The server runs on the sandbox clock: after it moves, OCSP answers are still fresh for verify.
        #expect(try f.home.cli(["clock", "advance", "30d"]).status == 0)
        let later = try f.home.cli(["verify", "--in", doc.path, "--signature", sig.path, "--revocation", "ocsp", "--json"])
        #expect(later.status == 4, "\(later.stdout)\(later.stderr)")
        #expect(try f.home.cli(["clock", "reset"]).status == 0)
        // The authentication certificate, suspended, through OCSP.
        let challenge = "C0FFEE"
        let resp = try f.home.cli(["auth", "respond", f.auth, "--pin", "1234", "--challenge", challenge, "--json"])
        let signature = try #require(resp.json["signature"] as? String)
        #expect(try f.home.cli(["card", "suspend", "1"]).status == 0)
        let held = try f.home.cli(["auth", "verify", "--serial", f.auth, "--challenge", challenge, "--signature", signature, "--revocation", "ocsp", "--json"])
        #expect(held.status == 5, "\(held.stdout)\(held.stderr)")
    }

    @Test("pyHanko signs a PDF with an exported identity; its validator, revocation on, says valid, then revoked after cert revoke")
    func pyHanko() throws {
        guard Run.venvPython != nil else {
            #expect(!Run.interopRequired, "\(InteropMissing())")
            return
        }
        let f = try Fixture()
        defer { f.server.stop() }
        let p12 = f.home.file("id.p12"), pdf = f.home.file("signed.pdf")
        #expect(try f.home.cli(["export", f.sign, "--out", p12.path, "--password", "pw"]).status == 0)
        let signed = try Run.interop("pyhanko_check.py", ["sign", "--p12", p12.path, "--password", "pw", "--out", pdf.path])
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        let good = try Run.interop("pyhanko_check.py", ["validate", "--pdf", pdf.path, "--root", f.home.root("sign").path, "--revocation", "hard-fail"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.json["bottom_line"] as? Bool == true)
        #expect(try f.home.cli(["cert", "revoke", f.sign, "--reason", "keyCompromise"]).status == 0)
        let revoked = try Run.interop("pyhanko_check.py", ["validate", "--pdf", pdf.path, "--root", f.home.root("sign").path, "--revocation", "hard-fail"])
        #expect(revoked.status == 1, "\(revoked.stdout)\(revoked.stderr)")
        #expect(revoked.json["revoked"] as? Bool == true)
    }
}
