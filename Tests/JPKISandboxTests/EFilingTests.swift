import Foundation
import Testing

/// The e-filing shapes (issue 10): e-Tax and e-Gov XMLDSig, PDF signatures and the raw primitive,
/// made by the simulated card and checked by outside verifiers nobody here wrote (xmlsec1, the JDK's
/// javax.xml.crypto, pyHanko, poppler's pdfsig, openssl), and by our `verify`.
@Suite(.serialized) struct EFilingTests {
    static let signedAt = "2026-12-01T10:00:00+09:00"

    struct Fixture {
        let home = TempHome()
        var sign = ""
        var cardID = 0

        init(serverPort: Int? = nil) throws {
            if let port = serverPort {
                let r = try Run.cli(["init", "--config", try home.config(port: port).path, "--json"], home: home.sandbox)
                #expect(r.status == 0, "\(r.stderr)")
            } else {
                try home.initialize(at: "2026-11-21")
            }
            let at = serverPort == nil ? "2026-11-21T09:00:00+09:00" : ISO8601DateFormatter().string(from: Date())
            let id = try home.addResident(birth: "1980-05-26", at: String(at.prefix(10)))
            let r = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", at])
            #expect(r.status == 0, "\(r.stderr)")
            cardID = (r.json["card"] as? [String: Any])?["id"] as? Int ?? 0
            sign = (r.json["certificates"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "sign" }?["serial"] as? String ?? ""
        }

        var root: URL { home.sandbox.appendingPathComponent("sign-root.pem") }

        func cli(_ args: [String], at: String? = EFilingTests.signedAt) throws -> Run.Result {
            try home.cli(args + ["--json"] + (at.map { ["--at", $0] } ?? []))
        }

        func signFiling(_ format: String, _ input: URL, _ out: URL, extra: [String] = [], at: String? = EFilingTests.signedAt, pin: String = "ABC123") throws -> Run.Result {
            try cli(["sign", sign, "--pin", pin, "--format", format, "--in", input.path, "--out", out.path] + extra, at: at)
        }

        func verify(_ input: URL, at: String? = EFilingTests.signedAt, extra: [String] = []) throws -> Run.Result {
            try cli(["verify", "--in", input.path] + extra, at: at)
        }

        /// e-Tax data: DATA (with namespaces the signature must inherit) and the procedure element.
        func etaxFile() throws -> URL {
            let url = home.file("return-\(UUID().uuidString).xtx")
            try Data(EFilingTests.etax.utf8).write(to: url)
            return url
        }

        /// An e-Gov package: kousei.xml and two application files (one with a Japanese name).
        func egovPackage() throws -> URL {
            let dir = home.url.appendingPathComponent("pkg-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data(EFilingTests.kousei.utf8).write(to: dir.appendingPathComponent("kousei.xml"))
            try Data("<?xml version=\"1.0\"?><申請書><氏名>山田太郎</氏名></申請書>\n".utf8).write(to: dir.appendingPathComponent("900A010200001000(01).xml"))
            try Data([0x25, 0x50, 0x44, 0x46, 0x00, 0xFF, 0x10]).write(to: dir.appendingPathComponent("添付書類.pdf"))
            return dir
        }

        func blankPDF() throws -> URL {
            let url = home.file("blank-\(UUID().uuidString).pdf")
            let r = try cli(["efiling", "blank-pdf", "--out", url.path], at: nil)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            return url
        }
    }

    static let etax = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DATA xmlns="http://xml.e-tax.nta.go.jp/XSD/kyotsu" xmlns:gen="http://xml.e-tax.nta.go.jp/XSD/general" id="DATA"><PTE0010 VR="1.0" id="PTE0010"><CATALOG id="CATALOG"><gen:SOFUSHO>所得税申告</gen:SOFUSHO></CATALOG><CONTENTS id="CONTENTS"><gen:KINGAKU>1200000</gen:KINGAKU></CONTENTS></PTE0010></DATA>

        """
    static let kousei = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DataRoot><構成情報 ID="構成情報"><申請書属性情報><申請書様式ID>900A01020000001001</申請書様式ID></申請書属性情報></構成情報><署名情報/><その他/></DataRoot>

        """

    /// Whether an outside program is installed; a missing one is a failure under scripts/test.
    static func tool(_ path: String) -> Bool {
        if FileManager.default.isExecutableFile(atPath: path) { return true }
        #expect(!Run.interopRequired, "\(path) is missing: scripts/test installs it (xmlsec1, poppler-utils, libnss3-tools, openjdk-17-jdk-headless)")
        return false
    }

    /// scripts/interop/XMLDSigCheck.java, compiled once per run.
    static let javaClasses: URL? = {
        guard tool("/usr/bin/javac") else { return nil }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("jpki-xmldsig-\(UUID().uuidString)")
        let r = try? Run.program("/usr/bin/javac", ["-d", out.path, Run.repoRoot.appendingPathComponent("scripts/interop/XMLDSigCheck.java").path])
        #expect(r?.status == 0, "javac: \(r?.stderr ?? "did not run")")
        return r?.status == 0 ? out : nil
    }()

    static func java(_ args: [String]) throws -> Run.Result? {
        guard let classes = javaClasses else { return nil }
        return try Run.program("/usr/bin/java", ["-cp", classes.path, "XMLDSigCheck"] + args)
    }

    static func xmlsec1(_ args: [String], cwd: URL? = nil) throws -> Run.Result? {
        guard tool("/usr/bin/xmlsec1") else { return nil }
        return try Run.program("/usr/bin/xmlsec1", args, cwd: cwd)
    }

    /// poppler's pdfsig with the sandbox root in a fresh NSS database.
    static func pdfsig(_ pdf: URL, root: URL, folder: URL, ocsp: Bool) throws -> Run.Result? {
        guard tool("/usr/bin/pdfsig"), tool("/usr/bin/certutil") else { return nil }
        let nss = folder.appendingPathComponent("nss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: nss, withIntermediateDirectories: true)
        #expect(try Run.program("/usr/bin/certutil", ["-N", "-d", "sql:\(nss.path)", "--empty-password"]).status == 0)
        #expect(try Run.program("/usr/bin/certutil", ["-A", "-d", "sql:\(nss.path)", "-n", "sandbox-sign-root", "-t", "CT,C,C", "-i", root.path]).status == 0)
        return try Run.program("/usr/bin/pdfsig", (ocsp ? [] : ["-no-ocsp"]) + ["-nssdir", "sql:\(nss.path)", pdf.path])
    }

    static let etaxID = ["--id-attr:id", "http://xml.e-tax.nta.go.jp/XSD/kyotsu:PTE0010"]

    // MARK: e-Tax

    @Test("e-Tax: xmlsec1 and the JDK accept our signature; one changed byte in the procedure element fails both and our verify")
    func etaxOutsideVerifiers() throws {
        let f = try Fixture()
        let input = try f.etaxFile(), signed = f.home.file("signed.xtx")
        let r = try f.signFiling("etax", input, signed)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let text = try String(contentsOf: signed, encoding: .utf8)
        // The signature is the next child of DATA, after the procedure element, and references it.
        #expect(text.contains("</PTE0010><dsig:Signature xmlns:dsig=\"http://www.w3.org/2000/09/xmldsig#\">"))
        #expect(text.contains("<dsig:Reference URI=\"#PTE0010\">"))
        #expect(text.contains("REC-xml-c14n-20010315") && text.contains("xmldsig-more#rsa-sha256") && text.contains("xmlenc#sha256"))

        let v = try f.verify(signed)
        #expect(v.status == 0, "\(v.stdout)")
        #expect(v.json["format"] as? String == "etax")
        #expect((v.json["signer"] as? [String: Any])?["name"] as? String == "山田\u{3000}太郎")
        #expect((v.json["signer"] as? [String: Any])?["serial"] as? String == f.sign)

        if let x = try Self.xmlsec1(["--verify", "--trusted-pem", f.root.path] + Self.etaxID + [signed.path]) {
            #expect(x.status == 0, "xmlsec1: \(x.stderr)")
        }
        if let j = try Self.java(["etax", signed.path, "--root", f.root.path]) {
            #expect(j.status == 0, "java: \(j.stdout)\(j.stderr)")
        }

        let changed = f.home.file("changed.xtx")
        try Data(text.replacingOccurrences(of: "1200000", with: "1200001").utf8).write(to: changed)
        if let x = try Self.xmlsec1(["--verify", "--trusted-pem", f.root.path] + Self.etaxID + [changed.path]) {
            #expect(x.status != 0)
        }
        if let j = try Self.java(["etax", changed.path]) { #expect(j.status == 1, "\(j.stdout)") }
        let bad = try f.verify(changed)
        #expect(bad.status == 2)
        #expect((bad.json["message"] as? String ?? "").contains("#PTE0010"))
    }

    @Test("e-Tax: our verify accepts xmlsec1 --sign with an exported identity, and calls a signer under another root untrusted")
    func etaxFromXmlsec() throws {
        let f = try Fixture()
        let p12 = f.home.file("id.p12"), pem = f.home.file("id.pem")
        #expect(try f.home.cli(["export", f.sign, "--out", p12.path, "--password", "pw"]).status == 0)
        #expect(try Run.openssl(["pkcs12", "-in", p12.path, "-passin", "pass:pw", "-nodes", "-clcerts", "-out", pem.path]).status == 0)
        let template = f.home.file("template.xtx")
        let signatureTemplate = """
            <dsig:Signature xmlns:dsig="http://www.w3.org/2000/09/xmldsig#"><dsig:SignedInfo><dsig:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/><dsig:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><dsig:Reference URI="#PTE0010"><dsig:Transforms><dsig:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/></dsig:Transforms><dsig:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><dsig:DigestValue/></dsig:Reference></dsig:SignedInfo><dsig:SignatureValue/><dsig:KeyInfo><dsig:X509Data><dsig:X509Certificate/></dsig:X509Data></dsig:KeyInfo></dsig:Signature>
            """
        try Data(Self.etax.replacingOccurrences(of: "</PTE0010>", with: "</PTE0010>" + signatureTemplate).utf8).write(to: template)
        let signed = f.home.file("xmlsec.xtx")
        guard let s = try Self.xmlsec1(["--sign", "--privkey-pem", "\(pem.path),\(pem.path)"] + Self.etaxID + ["--output", signed.path, template.path]) else { return }
        #expect(s.status == 0, "xmlsec1 --sign: \(s.stderr)")
        let v = try f.verify(signed, at: nil)
        #expect(v.status == 0, "\(v.stdout)")

        // The same with a self-made identity under no sandbox root: untrusted (3).
        let key = f.home.file("other.key"), cert = f.home.file("other.pem")
        #expect(try Run.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-out", cert.path, "-subj", "/C=JP/CN=impostor", "-days", "3650"]).status == 0)
        let foreign = f.home.file("foreign.xtx")
        let s2 = try Self.xmlsec1(["--sign", "--privkey-pem", "\(key.path),\(cert.path)"] + Self.etaxID + ["--output", foreign.path, template.path])
        #expect(s2?.status == 0)
        let u = try f.verify(foreign, at: nil)
        #expect(u.status == 3, "\(u.stdout)")
        #expect(u.json["status"] as? String == "untrusted")

        // A signature whose KeyInfo carries the sandbox certificate but which another key made: invalid (2).
        let mixed = f.home.file("mixed.xtx")
        let ours = try String(contentsOf: signed, encoding: .utf8), theirs = try String(contentsOf: foreign, encoding: .utf8)
        func between(_ s: String, _ a: String, _ b: String) -> String { String(s[s.range(of: a)!.upperBound..<s.range(of: b)!.lowerBound]) }
        let swapped = theirs.replacingOccurrences(of: between(theirs, "<dsig:X509Certificate>", "</dsig:X509Certificate>"),
                                                  with: between(ours, "<dsig:X509Certificate>", "</dsig:X509Certificate>"))
        try Data(swapped.utf8).write(to: mixed)
        let w = try f.verify(mixed, at: nil)
        #expect(w.status == 2, "\(w.stdout)")
        #expect((w.json["message"] as? String ?? "").contains("SignatureValue"))
    }

    // MARK: e-Gov

    @Test("e-Gov: the shape, a cosigner, the JDK with a URI dereferencer accepts; a changed or missing file is invalid, naming the reference")
    func egov() throws {
        let f = try Fixture()
        let package = try f.egovPackage(), signed = f.home.url.appendingPathComponent("signed-pkg")
        let r = try f.signFiling("egov", package, signed)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let kousei = try String(contentsOf: signed.appendingPathComponent("kousei.xml"), encoding: .utf8)
        #expect(kousei.contains("<署名情報><Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\" Id=\"20261201100000\">"))
        #expect(kousei.contains("<Reference URI=\"#%E6%A7%8B%E6%88%90%E6%83%85%E5%A0%B1\">"))
        #expect(kousei.contains("<Reference URI=\"900A010200001000(01).xml\">") && kousei.contains("<Reference URI=\"添付書類.pdf\">"))
        #expect(kousei.contains("</署名情報><その他/>"))

        // Signing again without --cosign is refused; with it, a second <Signature> joins the first.
        let again = try f.signFiling("egov", signed, f.home.url.appendingPathComponent("again"))
        #expect(again.status == 1 && (again.errorMessage.contains("--cosign")))
        let cosigned = f.home.url.appendingPathComponent("cosigned")
        let c = try f.signFiling("egov", signed, cosigned, extra: ["--cosign"], at: "2026-12-01T11:00:00+09:00")
        #expect(c.status == 0, "\(c.stdout)\(c.stderr)")
        let v = try f.verify(cosigned)
        #expect(v.status == 0, "\(v.stdout)")
        #expect((v.json["signatures"] as? [[String: Any]])?.map { $0["label"] as? String ?? "" } == ["20261201100000", "20261201110000"])

        if let j = try Self.java(["egov", cosigned.path, "--root", f.root.path]) {
            #expect(j.status == 0, "java: \(j.stdout)")
            #expect(j.stdout.contains("[true, true, true]"))
        }

        let changed = f.home.url.appendingPathComponent("changed")
        try FileManager.default.copyItem(at: cosigned, to: changed)
        try Data([0x25, 0x50, 0x44, 0x46, 0x00, 0xFF, 0x11]).write(to: changed.appendingPathComponent("添付書類.pdf"))
        if let j = try Self.java(["egov", changed.path]) { #expect(j.status == 1, "java: \(j.stdout)") }
        let bad = try f.verify(changed)
        #expect(bad.status == 2)
        #expect((bad.json["message"] as? String ?? "").contains("添付書類.pdf"))

        let missing = f.home.url.appendingPathComponent("missing")
        try FileManager.default.copyItem(at: cosigned, to: missing)
        try FileManager.default.removeItem(at: missing.appendingPathComponent("900A010200001000(01).xml"))
        let m = try f.verify(missing)
        #expect(m.status == 2)
        #expect((m.json["message"] as? String ?? "").contains("900A010200001000(01).xml"))
    }

    @Test("e-Gov: xmlsec1 accepts a package signed with the unescaped fragment (run from the package folder)")
    func egovXmlsec() throws {
        let f = try Fixture()
        let signed = f.home.url.appendingPathComponent("raw-fragment")
        let r = try f.signFiling("egov", try f.egovPackage(), signed, extra: ["--debug-unescaped-fragment"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(try String(contentsOf: signed.appendingPathComponent("kousei.xml"), encoding: .utf8).contains("URI=\"#構成情報\""))
        if let x = try Self.xmlsec1(["--verify", "--trusted-pem", f.root.path, "--id-attr:ID", "構成情報", "kousei.xml"], cwd: signed) {
            #expect(x.status == 0, "xmlsec1: \(x.stderr)")
        }
        #expect(try f.verify(signed).status == 0)
    }

    @Test("e-Gov: a zipped package (deflated by zip) is signed into a zip that verifies, and the JDK accepts it unzipped; a truncated zip is invalid")
    func egovZip() throws {
        guard Self.tool("/usr/bin/zip"), Self.tool("/usr/bin/unzip") else { return }
        let f = try Fixture()
        let package = try f.egovPackage(), zipped = f.home.file("package.zip"), signed = f.home.file("signed.zip")
        let z = try Run.program("/usr/bin/zip", ["-q", "-r", "-9", zipped.path, "."], cwd: package)
        #expect(z.status == 0, "zip: \(z.stderr)")
        let r = try f.signFiling("egov", zipped, signed)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let v = try f.verify(signed)
        #expect(v.status == 0 && v.json["format"] as? String == "egov", "\(v.stdout)")
        let out = f.home.url.appendingPathComponent("unzipped")
        #expect(try Run.program("/usr/bin/unzip", ["-q", signed.path, "-d", out.path]).status == 0)
        if let j = try Self.java(["egov", out.path, "--root", f.root.path]) { #expect(j.status == 0, "java: \(j.stdout)") }
        let cut = f.home.file("cut.zip")
        try Data(try Data(contentsOf: signed).prefix(200)).write(to: cut)
        let t = try f.verify(cut)
        #expect(t.status == 2, "\(t.stdout)")
    }

    // MARK: PDF

    @Test("PDF: adbe.pkcs7.detached, MOJSignDoc and PAdES; two signers stay valid for pyHanko, pdfsig and our verify; a changed byte is invalid")
    func pdf() throws {
        let f = try Fixture()
        let blank = try f.blankPDF()
        let one = f.home.file("one.pdf"), two = f.home.file("two.pdf"), pades = f.home.file("pades.pdf")
        #expect(try f.signFiling("pdf", blank, one).status == 0)
        let r2 = try f.signFiling("pdf", one, two, extra: ["--filter", "MOJSignDoc"], at: "2026-12-01T10:05:00+09:00")
        #expect(r2.status == 0, "\(r2.stdout)\(r2.stderr)")
        #expect(r2.json["field"] as? String == "Signature2")
        #expect(try f.signFiling("pdf", blank, pades, extra: ["--pades"]).status == 0)
        let twoBytes = try Data(contentsOf: two)
        #expect(twoBytes.prefix(try Data(contentsOf: one).count) == (try Data(contentsOf: one)))  // an incremental update
        let text = String(decoding: twoBytes, as: UTF8.self)
        #expect(text.contains("/Filter /MOJSignDoc /SubFilter /adbe.pkcs7.detached"))
        #expect(String(decoding: try Data(contentsOf: pades), as: UTF8.self).contains("/SubFilter /ETSI.CAdES.detached"))

        let v = try f.verify(two, at: "2026-12-02")
        #expect(v.status == 0, "\(v.stdout)")
        #expect((v.json["signatures"] as? [[String: Any]])?.count == 2)
        #expect(try f.verify(pades, at: "2026-12-02").status == 0)

        if Run.venvPython != nil {
            for (file, index) in [(two, "0"), (two, "1"), (pades, "0")] {
                let p = try Run.interop("pyhanko_check.py", ["validate", "--pdf", file.path, "--root", f.root.path, "--revocation", "none", "--index", index])
                #expect(p.status == 0 && p.json["bottom_line"] as? Bool == true, "pyHanko \(file.lastPathComponent) #\(index): \(p.stdout)")
            }
        } else { #expect(!Run.interopRequired, "\(InteropMissing())") }

        // pdfsig checks both signatures' cryptography here. Its certificate check needs revocation
        // data: without a server (-no-ocsp) poppler 22.12 reports "Unknown issue" for most signatures,
        // pyHanko-signed ones too; the trusted-certificate check runs against `serve` in pdfRevocationOnline.
        if let p = try Self.pdfsig(two, root: f.root, folder: f.home.url, ocsp: false) {
            #expect(p.stdout.components(separatedBy: "Signature Validation: Signature is Valid.").count == 3, "pdfsig: \(p.stdout)")
            #expect(p.stdout.contains("Signature Type: adbe.pkcs7.detached") && p.stdout.contains("Signature Field Name: Signature2"))
        }

        // One changed byte inside the second signature's byte range.
        var bytes = [UInt8](twoBytes)
        let at = try #require(text.range(of: "JPKI Sandbox")).lowerBound.utf16Offset(in: text)
        bytes[at] ^= 0x01
        let changed = f.home.file("changed.pdf")
        try Data(bytes).write(to: changed)
        let bad = try f.verify(changed, at: "2026-12-02")
        #expect(bad.status == 2)
        #expect((bad.json["message"] as? String ?? "").contains("byte range"))
    }

    @Test("PDF: pyHanko (revocation hard-fail against serve) says valid, then revoked; our verify agrees; pyHanko's own PDF verifies with ours")
    func pdfRevocationOnline() throws {
        guard Run.venvPython != nil else {
            #expect(!Run.interopRequired, "\(InteropMissing())")
            return
        }
        let port = ServerProcess.freePort()
        let f = try Fixture(serverPort: port)
        let server = try ServerProcess(home: f.home.sandbox, port: port, folder: f.home.url)
        defer { server.stop() }
        let blank = try f.blankPDF(), signed = f.home.file("signed.pdf"), mine = f.home.file("moj.pdf")
        #expect(try f.signFiling("pdf", blank, signed, at: nil).status == 0)
        #expect(try f.signFiling("pdf", blank, mine, extra: ["--filter", "MOJSignDoc"], at: nil).status == 0)
        for file in [signed, mine] {
            let good = try Run.interop("pyhanko_check.py", ["validate", "--pdf", file.path, "--root", f.root.path, "--revocation", "hard-fail"])
            #expect(good.json["bottom_line"] as? Bool == true, "\(good.stdout)")
        }
        #expect(try f.verify(signed, at: nil, extra: ["--revocation", "ocsp"]).status == 0)
        // pdfsig, asking the running server by OCSP, lists the signature and trusts its certificate.
        if let p = try Self.pdfsig(mine, root: f.root, folder: f.home.url, ocsp: true) {
            #expect(p.stdout.contains("Signature Validation: Signature is Valid."), "pdfsig: \(p.stdout)")
            #expect(p.stdout.contains("Certificate Validation: Certificate is Trusted."), "pdfsig: \(p.stdout)")
        }

        let p12 = f.home.file("id.p12"), theirs = f.home.file("pyhanko.pdf")
        #expect(try f.home.cli(["export", f.sign, "--out", p12.path, "--password", "pw"]).status == 0)
        #expect(try Run.interop("pyhanko_check.py", ["sign", "--p12", p12.path, "--password", "pw", "--out", theirs.path]).status == 0)
        #expect(try f.verify(theirs, at: nil).status == 0)

        #expect(try f.home.cli(["cert", "revoke", f.sign, "--reason", "keyCompromise"]).status == 0)
        let revoked = try Run.interop("pyhanko_check.py", ["validate", "--pdf", signed.path, "--root", f.root.path, "--revocation", "hard-fail"])
        #expect(revoked.json["revoked"] as? Bool == true, "\(revoked.stdout)")
        let ours = try f.verify(signed, at: nil, extra: ["--revocation", "ocsp"])
        #expect(ours.status == 4, "\(ours.stdout)")
    }

    // MARK: raw

    @Test("raw: PKCS#1 v1.5 over the DigestInfo, given or of a file's SHA-256; openssl pkeyutl -verify accepts")
    func raw() throws {
        let f = try Fixture()
        let doc = f.home.file("nonce.bin"), sig = f.home.file("raw.sig"), sig2 = f.home.file("raw2.sig")
        try Data("server nonce 42".utf8).write(to: doc)
        let r = try f.cli(["sign", f.sign, "--pin", "ABC123", "--format", "raw", "--in", doc.path, "--out", sig.path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let digestInfo = try #require(r.json["digestInfo"] as? String)
        #expect(digestInfo.hasPrefix("3031300D060960864801650304020105000420"))
        let cert = f.home.file("leaf.pem"), pub = f.home.file("pub.pem"), di = f.home.file("di.bin")
        let show = try f.cli(["cert", "show", f.sign])
        try Data((show.json["pem"] as? String ?? "").utf8).write(to: cert)
        #expect(try Run.openssl(["x509", "-in", cert.path, "-pubkey", "-noout", "-out", pub.path]).status == 0)
        try Data(try #require([UInt8](hex: digestInfo))).write(to: di)
        let ok = try Run.openssl(["pkeyutl", "-verify", "-pubin", "-inkey", pub.path, "-in", di.path, "-sigfile", sig.path])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(try Run.openssl(["dgst", "-sha256", "-verify", pub.path, "-signature", sig.path, doc.path]).status == 0)
        // --digest-info: the same DigestInfo gives the same (deterministic) signature.
        #expect(try f.cli(["sign", f.sign, "--pin", "ABC123", "--format", "raw", "--digest-info", digestInfo, "--out", sig2.path]).status == 0)
        #expect(try Data(contentsOf: sig) == Data(contentsOf: sig2))
        let bad = try f.cli(["sign", f.sign, "--pin", "ABC123", "--format", "raw", "--digest-info", "XYZ", "--out", sig2.path])
        #expect(bad.status == 1 && bad.errorCode == "invalid-input")
    }

    // MARK: the card's checks and the signer's status, for every format

    @Test("every format goes through the card's checks: a wrong PIN costs a try, suspended and revoked refuse, and each signature is audited")
    func cardChecks() throws {
        let f = try Fixture()
        let etax = try f.etaxFile(), blank = try f.blankPDF(), package = try f.egovPackage()
        let wrong = try f.signFiling("etax", etax, f.home.file("w.xtx"), pin: "WRONG1")
        #expect(wrong.status == 1 && wrong.errorCode == "wrong-pin")
        #expect(wrong.errorMessage.contains("4 tries left"))
        #expect(try f.signFiling("pdf", blank, f.home.file("ok.pdf")).status == 0)
        #expect(try f.cli(["card", "suspend", String(f.cardID)], at: "2026-12-01T10:30:00+09:00").status == 0)
        for (format, input) in [("pdf", blank), ("egov", package), ("etax", etax)] {
            let r = try f.signFiling(format, input, f.home.file("s-\(format)"), at: "2026-12-01T11:00:00+09:00")
            #expect(r.status == 1 && r.errorCode == "suspended", "\(format): \(r.stdout)")
        }
        let raw = try f.cli(["sign", f.sign, "--pin", "ABC123", "--format", "raw", "--in", etax.path, "--out", f.home.file("r").path], at: "2026-12-01T11:00:00+09:00")
        #expect(raw.status == 1 && raw.errorCode == "suspended")
        let sign = try f.home.auditOutcomes().filter { $0.0 == "sign" }.map(\.1)
        #expect(sign == ["wrong-pin", "ok"])
    }

    @Test("verify reports revoked (4), suspended (5) and expired (6) for e-Tax, e-Gov and PDF signatures")
    func signerStatus() throws {
        let f = try Fixture()
        let etax = f.home.file("s.xtx"), egov = f.home.url.appendingPathComponent("s-pkg"), pdf = f.home.file("s.pdf")
        #expect(try f.signFiling("etax", try f.etaxFile(), etax).status == 0)
        #expect(try f.signFiling("egov", try f.egovPackage(), egov).status == 0)
        #expect(try f.signFiling("pdf", try f.blankPDF(), pdf).status == 0)
        // Expired: long after the certificate's last day (2031-05-26).
        for file in [etax, egov, pdf] {
            let r = try f.verify(file, at: "2031-06-01")
            #expect(r.status == 6 && r.json["status"] as? String == "expired", "\(file.lastPathComponent): \(r.stdout)")
        }
        #expect(try f.cli(["card", "suspend", String(f.cardID)], at: "2026-12-02").status == 0)
        for file in [etax, egov, pdf] {
            let r = try f.verify(file, at: "2026-12-03")
            #expect(r.status == 5, "\(file.lastPathComponent): \(r.stdout)")
        }
        #expect(try f.cli(["card", "resume", String(f.cardID), "--pin", "ABC123"], at: "2026-12-04").status == 0)
        #expect(try f.cli(["cert", "revoke", f.sign, "--reason", "keyCompromise"], at: "2026-12-05").status == 0)
        for file in [etax, egov, pdf] {
            let r = try f.verify(file, at: "2026-12-06")
            #expect(r.status == 4 && r.json["status"] as? String == "revoked", "\(file.lastPathComponent): \(r.stdout)")
        }
    }

    // MARK: bad input

    @Test("bad input: not XML, not a PDF, no signature, a broken reference, a truncated PDF, an unknown file: a clear error and its exit code")
    func badInput() throws {
        let f = try Fixture()
        let junk = f.home.file("junk.xtx")
        try Data("this is not xml".utf8).write(to: junk)
        let s1 = try f.signFiling("etax", junk, f.home.file("o.xtx"))
        #expect(s1.status == 1 && s1.errorCode == "not-xml", "\(s1.stdout)")
        let s2 = try f.signFiling("pdf", junk, f.home.file("o.pdf"))
        #expect(s2.status == 1 && s2.errorCode == "not-pdf", "\(s2.stdout)")
        let notETax = f.home.file("other.xml")
        try Data("<?xml version=\"1.0\"?><Other/>".utf8).write(to: notETax)
        #expect(try f.signFiling("etax", notETax, f.home.file("o2.xtx")).errorCode == "not-etax")
        let noKousei = f.home.url.appendingPathComponent("empty-pkg")
        try FileManager.default.createDirectory(at: noKousei, withIntermediateDirectories: true)
        #expect(try f.signFiling("egov", noKousei, f.home.file("o3")).errorCode == "not-egov")
        // No PIN try was spent on any of these.
        #expect(try f.home.auditOutcomes().filter { $0.0 == "sign" }.isEmpty)

        // verify: an unknown file is an error (1); a known shape with no signature is invalid (2).
        let unknown = try f.verify(junk)
        #expect(unknown.status == 1 && unknown.errorCode == "unrecognized-input")
        let unsigned = try f.verify(try f.etaxFile())
        #expect(unsigned.status == 2 && (unsigned.json["message"] as? String ?? "").contains("no signature"))
        #expect(try f.verify(try f.blankPDF()).status == 2)
        #expect(try f.verify(try f.egovPackage()).status == 2)

        // A broken reference (to an id that is not there).
        let signed = f.home.file("signed.xtx")
        #expect(try f.signFiling("etax", try f.etaxFile(), signed).status == 0)
        let broken = f.home.file("broken.xtx")
        try Data(try String(contentsOf: signed, encoding: .utf8).replacingOccurrences(of: "URI=\"#PTE0010\"", with: "URI=\"#NOPE\"").utf8).write(to: broken)
        let b = try f.verify(broken)
        #expect(b.status == 2, "\(b.stdout)")
        // A truncated XML file and a truncated PDF.
        let cut = f.home.file("cut.xtx")
        try Data(try Data(contentsOf: signed).prefix(600)).write(to: cut)
        let c = try f.verify(cut)
        #expect(c.status == 2 && (c.json["message"] as? String ?? "").contains("not XML"), "\(c.stdout)")
        let pdf = f.home.file("s.pdf")
        #expect(try f.signFiling("pdf", try f.blankPDF(), pdf).status == 0)
        let pdfBytes = try Data(contentsOf: pdf)
        for keep in [pdfBytes.count - 30, pdfBytes.count / 2, 20] {
            let t = f.home.file("t\(keep).pdf")
            try Data(pdfBytes.prefix(keep)).write(to: t)
            let r = try f.verify(t)
            #expect(r.status == 2, "truncated at \(keep): \(r.stdout)")
        }
        // A missing path, and a zip (not read yet), are errors.
        #expect(try f.verify(f.home.file("nothing-here.pdf")).status == 1)
    }
}

extension Array where Element == UInt8 {
    init?(hex: String) {
        let chars: [Character] = hex.map { $0 }
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let b = UInt8(String(chars[i..<(i + 2)]), radix: 16) else { return nil }
            out.append(b)
        }
        self = out
    }
}
