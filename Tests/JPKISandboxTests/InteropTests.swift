import Foundation
import Testing

/// Our certificates through pkilint and Python `cryptography` (scripts/interop), tools we did not write.
@Suite(.serialized) struct InteropTests {
    /// pkilint findings the real JPKI profile forces. None so far: keep this list and the one in
    /// docs/profile.md the same.
    static let allowedPkilintFindings: [String] = []

    /// Builds a sandbox with a signing and an authentication certificate, or skips when the tools are missing.
    func fixture() throws -> (TempHome, sign: URL, auth: URL, signRoot: URL, authRoot: URL)? {
        guard Run.venvPython != nil else {
            #expect(!Run.interopRequired, "JPKI_REQUIRE_INTEROP=1 but \(InteropMissing())")
            return nil
        }
        let home = TempHome()
        try home.initialize()
        let id = try home.addResident(name: "髙橋 花子", birth: "1992-02-29", sex: "female", address: "静岡県沼津市御幸町16番1号")
        let r = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        var files: [String: URL] = [:]
        for cert in r.json["certificates"] as? [[String: Any]] ?? [] {
            let serial = cert["serial"] as! String, kind = cert["kind"] as! String
            let show = try home.cli(["cert", "show", serial, "--json"])
            let url = home.file("\(kind).pem")
            try (show.json["pem"] as! String).write(to: url, atomically: true, encoding: .utf8)
            files[kind] = url
        }
        return (home, try #require(files["sign"]), try #require(files["auth"]),
                home.sandbox.appendingPathComponent("sign-root.pem"), home.sandbox.appendingPathComponent("auth-root.pem"))
    }

    @Test("pkilint: no ERROR or FATAL for either root or either leaf kind")
    func pkilint() throws {
        guard let f = try fixture() else { return }
        let allow = Self.allowedPkilintFindings.flatMap { ["--allow", $0] }
        for (kind, file, issuer) in [("root", f.signRoot, nil), ("root", f.authRoot, nil), ("leaf", f.sign, f.signRoot), ("leaf", f.auth, f.authRoot)] {
            var args = ["--kind", kind, file.path] + allow
            if let issuer { args += ["--issuer", issuer.path] }
            let r = try Run.interop("pkilint_check.py", args)
            #expect(r.status == 0, "pkilint blocking findings for \(file.lastPathComponent): \(r.stdout) \(r.stderr)")
            #expect((r.json["blocking"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("Python cryptography reads back exactly the four details; strict-client rules hold")
    func decodeWithCryptography() throws {
        guard let f = try fixture() else { return }
        let sign = try Run.interop("jpki_decode.py", [f.sign.path, "--root", f.signRoot.path])
        #expect(sign.status == 0, "\(sign.stderr)")
        let details = sign.json["basicDetails"] as? [String: Any]
        #expect(details?["name"] as? String == "〓橋\u{3000}花子")
        #expect(details?["nameFlags"] as? String == "10000")
        #expect(details?["dateOfBirth"] as? String == "419920229")
        #expect(details?["sex"] as? String == "2")
        #expect(details?["address"] as? String == "静岡県沼津市御幸町１６番１号")
        #expect(details?["addressFlags"] as? String == "00000000000000")
        #expect((sign.json["strictClient"] as? [Any])?.isEmpty == true, "strict-client violations: \(sign.json["strictClient"] ?? "?")")
        #expect(sign.json["keyUsageDER"] as? String == "030206c0")
        #expect(sign.json["signatureParamsNull"] as? Bool == true)

        let auth = try Run.interop("jpki_decode.py", [f.auth.path, "--kind", "auth", "--root", f.authRoot.path])
        #expect(auth.status == 0, "\(auth.stderr)")
        #expect((auth.json["strictClient"] as? [Any])?.isEmpty == true, "strict-client violations: \(auth.json["strictClient"] ?? "?")")
        #expect(auth.json["basicDetails"] == nil || auth.json["basicDetails"] is NSNull)

        // The wrong root: the checker must see the broken chain.
        let wrong = try Run.interop("jpki_decode.py", [f.sign.path, "--root", f.authRoot.path])
        #expect((wrong.json["strictClient"] as? [Any])?.isEmpty == false)
    }

    @Test("Python cryptography loads the exported PKCS#12")
    func pkcs12WithCryptography() throws {
        guard let f = try fixture(), let python = Run.venvPython else { return }
        let serial = try #require(try Run.openssl(["x509", "-in", f.sign.path, "-noout", "-serial"]).stdout
            .split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        let p12 = f.0.file("id.p12")
        #expect(try f.0.cli(["export", serial, "--out", p12.path, "--password", "pw"]).status == 0)
        let r = try Run.program(python, ["-c", """
            import sys
            from cryptography.hazmat.primitives.serialization import pkcs12
            key, cert, extra = pkcs12.load_key_and_certificates(open(sys.argv[1], 'rb').read(), b'pw')
            assert key.key_size == 2048 and cert is not None and len(extra) == 1
            print(format(cert.serial_number, '032X'))  # serials are 32 hex digits, leading zero kept
            """, p12.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == serial)
    }
}
