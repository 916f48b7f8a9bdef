import Foundation
import Testing

/// Signatures for CI pipelines: made by the simulated card, checked by openssl and by `verify`.
struct SignatureTests {
    struct Fixture {
        let home = TempHome()
        var sign = "", auth = ""
        let doc: URL
        let signRoot: URL

        init() throws {
            try home.initialize(at: "2026-11-21")
            let id = try home.addResident(birth: "1980-05-26")
            let r = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2026-11-21T09:00:00+09:00"])
            #expect(r.status == 0, "\(r.stderr)")
            for c in r.json["certificates"] as? [[String: Any]] ?? [] {
                if c["kind"] as? String == "sign" { sign = c["serial"] as? String ?? "" } else { auth = c["serial"] as? String ?? "" }
            }
            doc = home.file("return.xml")
            try Data("<申告書>e-Tax filing 2026</申告書>\n".utf8).write(to: doc)
            signRoot = home.sandbox.appendingPathComponent("sign-root.pem")
        }

        func cli(_ args: [String], at: String = "2026-12-01T10:00:00+09:00") throws -> Run.Result { try home.cli(args + ["--json", "--at", at]) }

        func signDoc(at: String = "2026-12-01T10:00:00+09:00", pin: String = "ABC123", extra: [String] = []) throws -> (Run.Result, URL) {
            let out = home.file("sig-\(UUID().uuidString).p7s")
            return (try cli(["sign", sign, "--pin", pin, "--in", doc.path, "--out", out.path] + extra, at: at), out)
        }

        func verify(_ sig: URL, content: URL? = nil, at: String, extra: [String] = []) throws -> Run.Result {
            try cli(["verify", "--in", (content ?? doc).path, "--signature", sig.path] + extra, at: at)
        }
    }

    @Test("openssl cms -verify accepts our detached signature; one changed byte makes it fail")
    func opensslAccepts() throws {
        let f = try Fixture()
        let (r, sig) = try f.signDoc()
        #expect(r.status == 0, "\(r.stderr)")
        let ok = try Run.openssl(["cms", "-verify", "-binary", "-content", f.doc.path, "-in", sig.path, "-inform", "DER", "-CAfile", f.signRoot.path,
                                  "-attime", "1796086800", "-out", "/dev/null"])
        #expect(ok.status == 0, "\(ok.stderr)")
        // CAdES-BES: the ESS signing-certificate-v2 attribute is there, and the signing time is the sandbox clock.
        let printed = try Run.openssl(["cms", "-cmsout", "-print", "-in", sig.path, "-inform", "DER"]).stdout
        #expect(printed.contains("id-smime-aa-signingCertificateV2"))
        #expect(printed.contains("UTCTIME:Dec  1 01:00:00 2026 GMT"))
        var bytes = [UInt8](try Data(contentsOf: f.doc))
        bytes[3] ^= 0x01
        let changed = f.home.file("changed.xml")
        try Data(bytes).write(to: changed)
        let bad = try Run.openssl(["cms", "-verify", "-binary", "-content", changed.path, "-in", sig.path, "-inform", "DER", "-CAfile", f.signRoot.path, "-attime", "1796086800", "-out", "/dev/null"])
        #expect(bad.status != 0)
        let ours = try f.verify(sig, content: changed, at: "2026-12-01T10:00:00+09:00")
        #expect(ours.status == 2)
        #expect(ours.json["status"] as? String == "invalid")
    }

    @Test("verify accepts openssl cms -sign with an exported PKCS#12, and rejects a key from another root as untrusted")
    func verifyForeignSignatures() throws {
        let f = try Fixture()
        let p12 = f.home.file("id.p12")
        #expect(try f.home.cli(["export", f.sign, "--out", p12.path, "--password", "pw"]).status == 0)
        let pem = f.home.file("id.pem")
        #expect(try Run.openssl(["pkcs12", "-in", p12.path, "-passin", "pass:pw", "-nodes", "-clcerts", "-out", pem.path]).status == 0)
        let sig = f.home.file("openssl.p7s")
        let s = try Run.openssl(["cms", "-sign", "-binary", "-md", "sha256", "-signer", pem.path, "-in", f.doc.path, "-outform", "DER", "-out", sig.path])
        #expect(s.status == 0, "\(s.stderr)")
        let v = try f.verify(sig, at: "2026-12-01")
        #expect(v.status == 0, "\(v.stdout)")
        #expect((v.json["signer"] as? [String: Any])?["name"] as? String == "山田\u{3000}太郎")

        let key = f.home.file("other.key"), cert = f.home.file("other.pem")
        #expect(try Run.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-out", cert.path, "-subj", "/C=JP/O=JPKI-SANDBOX/CN=impostor", "-days", "3650"]).status == 0)
        let other = f.home.file("other.p7s")
        #expect(try Run.openssl(["cms", "-sign", "-binary", "-md", "sha256", "-signer", cert.path, "-inkey", key.path, "-in", f.doc.path, "-outform", "DER", "-out", other.path]).status == 0)
        let u = try f.verify(other, at: "2026-12-01")
        #expect(u.status == 3)
        #expect(u.json["status"] as? String == "untrusted")
        // Trusting that root explicitly makes it verify.
        let trust = f.home.file("trust")
        try FileManager.default.createDirectory(at: trust, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: cert, to: trust.appendingPathComponent("other.pem"))
        #expect(try f.verify(other, at: "2026-12-01", extra: ["--trust", trust.path, "--revocation", "none"]).status == 0)
    }

    @Test("CI without a sandbox: verify with only --trust (revocation none), and a clear error for local revocation")
    func verifyWithoutSandbox() throws {
        let f = try Fixture()
        let (_, sig) = try f.signDoc()
        let roots = f.home.file("roots")
        #expect(try f.home.cli(["ca", "export", "--out", roots.path]).status == 0)
        let nowhere = f.home.file("no-sandbox").path
        let ok = try Run.program(Run.binary, ["verify", "--in", f.doc.path, "--signature", sig.path, "--trust", roots.path,
                                              "--revocation", "none", "--home", nowhere, "--json", "--at", "2026-12-02"])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect((ok.json["signer"] as? [String: Any])?["kind"] as? String == "sign")
        let local = try Run.program(Run.binary, ["verify", "--in", f.doc.path, "--signature", sig.path, "--trust", roots.path, "--home", nowhere, "--json"])
        #expect(local.status == 1)
        #expect(local.errorMessage.contains("needs a sandbox"))
        #expect(!FileManager.default.fileExists(atPath: nowhere), "nothing created")
    }

    @Test("a signature made before a revocation is valid before it and revoked after it (--at)")
    func revocationInTime() throws {
        let f = try Fixture()
        let (r, sig) = try f.signDoc(at: "2026-12-01T10:00:00+09:00")
        #expect(r.status == 0)
        #expect(try f.cli(["cert", "revoke", f.sign, "--reason", "keyCompromise"], at: "2027-01-15T12:00:00+09:00").status == 0)
        let before = try f.verify(sig, at: "2027-01-10")
        #expect(before.status == 0, "\(before.stdout)")
        #expect(before.json["status"] as? String == "valid")
        let after = try f.verify(sig, at: "2027-01-20")
        #expect(after.status == 4)
        #expect(after.json["status"] as? String == "revoked")
        #expect((after.json["revocation"] as? [String: Any])?["reason"] as? String == "keyCompromise")
    }

    @Test("a suspended certificate's signature reports suspended, and valid again on release (002)")
    func suspension() throws {
        let f = try Fixture()
        let (_, sig) = try f.signDoc()
        #expect(try f.cli(["card", "suspend", "1"], at: "2026-12-02").status == 0)
        let held = try f.verify(sig, at: "2026-12-03")
        #expect(held.status == 5)
        #expect(held.json["status"] as? String == "suspended")
        let refused = try f.signDoc(at: "2026-12-03").0
        #expect(refused.status != 0)
        #expect(refused.errorMessage.contains("suspended"))
        #expect(try f.cli(["card", "resume", "1", "--pin", "1234"], at: "2026-12-04").status == 0)
        #expect(try f.verify(sig, at: "2026-12-05").status == 0)
    }

    @Test("an expired certificate refuses to sign, and its old signatures verify as expired later")
    func expiry() throws {
        let f = try Fixture()
        let (_, sig) = try f.signDoc()
        let late = try f.signDoc(at: "2031-05-27").0
        #expect(late.status != 0)
        #expect(late.errorMessage.contains("expired"))
        #expect(try f.verify(sig, at: "2031-06-01").status == 6)
    }

    @Test("five wrong PINs lock signing; the right PIN no longer signs (004)")
    func pinLock() throws {
        let f = try Fixture()
        for expected in [4, 3, 2, 1, 0] {
            let r = try f.signDoc(pin: "WRONG9").0
            #expect(r.status != 0)
            #expect(r.errorMessage.contains(expected == 0 ? "locked" : "\(expected) tries left"), "\(r.errorMessage)")
        }
        let locked = try f.signDoc(pin: "ABC123").0
        #expect(locked.status != 0)
        #expect(locked.errorMessage.contains("locked"))
    }

    @Test("auth respond: PKCS#1 v1.5 SHA-256 over the challenge, checked by openssl and by auth verify")
    func authRespond() throws {
        let f = try Fixture()
        let r = try f.cli(["auth", "respond", f.auth, "--pin", "1234", "--challenge", "00FF10203040"])
        #expect(r.status == 0, "\(r.stderr)")
        let hex = try #require(r.json["signature"] as? String)
        let show = try f.cli(["cert", "show", f.auth])
        let certFile = f.home.file("auth.pem"), pub = f.home.file("auth.pub"), sig = f.home.file("sig.bin"), challenge = f.home.file("challenge.bin")
        try (show.json["pem"] as! String).write(to: certFile, atomically: true, encoding: .utf8)
        #expect(try Run.openssl(["x509", "-in", certFile.path, "-pubkey", "-noout", "-out", pub.path]).status == 0)
        var raw = [UInt8]()
        var chars = Array(hex)
        while chars.count >= 2 { raw.append(UInt8(String(chars.prefix(2)), radix: 16)!); chars.removeFirst(2) }
        try Data(raw).write(to: sig)
        try Data([0x00, 0xFF, 0x10, 0x20, 0x30, 0x40]).write(to: challenge)
        let ok = try Run.openssl(["dgst", "-sha256", "-verify", pub.path, "-signature", sig.path, challenge.path])
        #expect(ok.stdout.contains("Verified OK"), "\(ok.stdout)\(ok.stderr)")
        #expect(try f.cli(["auth", "verify", "--serial", f.auth, "--challenge", "00FF10203040", "--signature", hex]).status == 0)
        #expect(try f.cli(["auth", "verify", "--cert", certFile.path, "--challenge", "00FF10203041", "--signature", hex]).status == 2)
        // Each key does only its own job.
        #expect(try f.cli(["auth", "respond", f.sign, "--pin", "ABC123", "--challenge", "00"]).status != 0)
        let authSigns = try f.cli(["sign", f.auth, "--pin", "1234", "--in", f.doc.path, "--out", f.home.file("x.p7s").path])
        #expect(authSigns.status != 0)
        #expect(authSigns.errorMessage.contains("signs only challenges"))
    }

    struct BadSignature: Sendable, CustomTestStringConvertible {
        let label: String
        let bytes: @Sendable ([UInt8]) -> [UInt8]
        var testDescription: String { label }
    }

    static let badSignatures: [BadSignature] = [
        .init(label: "empty file") { _ in [] },
        .init(label: "not CMS") { _ in Array("this is not a signature".utf8) },
        .init(label: "truncated") { Array($0.prefix($0.count / 2)) },
        .init(label: "random bytes") { _ in (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) } },
        .init(label: "one flipped byte in the signature value") { var b = $0; b[b.count - 10] ^= 0xFF; return b },
    ]

    @Test("bad signature files: exit 2 with a clear message, never a crash", arguments: badSignatures)
    func badInput(_ bad: BadSignature) throws {
        let f = try Fixture()
        let (_, sig) = try f.signDoc()
        let broken = f.home.file("broken.p7s")
        try Data(bad.bytes([UInt8](try Data(contentsOf: sig)))).write(to: broken)
        let r = try f.verify(broken, at: "2026-12-01")
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.json["status"] as? String == "invalid")
        #expect(!(r.json["message"] as? String ?? "").isEmpty)
    }

    @Test("a missing file is an error (exit 1), and a signature over other content is invalid (exit 2)")
    func missingAndOther() throws {
        let f = try Fixture()
        let (_, sig) = try f.signDoc()
        #expect(try f.verify(f.home.file("nope.p7s"), at: "2026-12-01").status == 1)
        let other = f.home.file("other.txt")
        try Data("something else".utf8).write(to: other)
        #expect(try f.verify(sig, content: other, at: "2026-12-01").status == 2)
    }
}
