import Foundation
import Testing

/// The card in a real pcscd's vpcd reader, seen by unmodified OpenSC (opensc-tool, pkcs15-tool,
/// pkcs11-tool through opensc-pkcs11.so) and by raw PC/SC (pyscard): docs/virtual-card.md.
/// One suite, serialized: the two reader slots are shared by the whole machine.
@Suite(.serialized) struct VirtualCardTests {
    static let selectAP = "00A4040C0AD392F000260100000001"
    static func selectEF(_ fid: String) -> String { "00A4020C02" + fid }
    static func hex(_ s: String) -> String { s.utf8.map { String(format: "%02X", $0) }.joined() }
    static func verify(_ pin: String) -> String { "00200080" + String(format: "%02X", pin.utf8.count) + hex(pin) }

    /// Signs `message` with pkcs11-tool (SHA256-RSA-PKCS) in the given PKCS#11 slot.
    static func pkcs11Sign(slotIndex: Int, id: String, pin: String, message: URL, signature: URL) throws -> Run.Result {
        try PCSC.pkcs11(["--slot-index", String(slotIndex), "--login", "--pin", pin, "--sign", "--id", id, "-m", "SHA256-RSA-PKCS",
                         "-i", message.path, "-o", signature.path])
    }

    /// `openssl dgst -sha256 -verify` of `signature` over `message` with the public key of the certificate `serial`.
    static func opensslVerifies(_ f: CardFixture, serial: String, message: URL, signature: URL) throws -> Bool {
        let pem = f.home.file("\(serial).pem"), pub = f.home.file("\(serial).pub")
        try Data((try f.home.cli(["cert", "show", serial, "--json"]).json["pem"] as? String ?? "").utf8).write(to: pem)
        #expect(try Run.openssl(["x509", "-in", pem.path, "-pubkey", "-noout", "-out", pub.path]).status == 0)
        let r = try Run.openssl(["dgst", "-sha256", "-verify", pub.path, "-signature", signature.path, message.path])
        return r.status == 0 && r.stdout.contains("Verified OK")
    }

    /// The DER of a PEM file pkcs15-tool wrote.
    static func der(ofPEMFile url: URL) -> [UInt8] {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return [UInt8](Data(base64Encoded: body) ?? Data())
    }

    @Test("OpenSC sees a JPKI card: opensc-tool -n, pkcs15-tool -D (both PINs, tries 3 and 5, the certificates), certificates byte-identical to cert show, openssl verify accepts them")
    func openscReadsTheCard() throws {
        guard PCSC.ready() else { return }
        let f = try CardFixture()
        let card = try f.insert()
        defer { card.stop() }
        let name = try PCSC.opensc("opensc-tool", ["--reader", "0", "-n"])
        #expect(name.stdout.split(separator: "\n").last == "jpki", "\(name.stdout)\(name.stderr)")
        let dump = try PCSC.opensc("pkcs15-tool", ["--reader", "0", "-D"]).stdout
        #expect(dump.contains("PKCS#15 Card [JPKI]"))
        let pins = dump.components(separatedBy: "PIN [").dropFirst()
        let auth = pins.first { $0.hasPrefix("User Authentication PIN]") } ?? ""
        let sign = pins.first { $0.hasPrefix("Digital Signature PIN]") } ?? ""
        #expect(auth.contains("min_len:4, max_len:4") && auth.contains("Tries left     : 3"), "\(dump)")
        #expect(sign.contains("min_len:6, max_len:16") && sign.contains("Tries left     : 5"), "\(dump)")
        #expect(dump.contains("X.509 Certificate [User Authentication Certificate]\n\tObject Flags   : [0x00]"))
        #expect(dump.contains("X.509 Certificate [Digital Signature Certificate]\n\tObject Flags   : [0x01], private"))
        #expect(dump.contains("Path           : 000a") && dump.contains("Path           : 0001"))
        #expect(dump.contains("Encoded serial : 02 10 \(f.auth)"))

        let authOut = f.home.file("card-auth.pem"), signOut = f.home.file("card-sign.pem")
        #expect(try PCSC.opensc("pkcs15-tool", ["--reader", "0", "--read-certificate", "01", "-o", authOut.path]).status == 0)
        #expect(try Self.der(ofPEMFile: authOut) == f.certificateDER(f.auth))
        // The signing certificate: refused without its PIN, read after it.
        let refused = try PCSC.opensc("pkcs15-tool", ["--reader", "0", "--read-certificate", "02", "-o", f.home.file("none.pem").path])
        #expect(refused.status != 0 || refused.stderr.contains("failed"), "the signing certificate was read without the PIN")
        #expect(try PCSC.opensc("pkcs15-tool", ["--reader", "0", "--read-certificate", "02", "--verify-pin", "--auth-id", "02",
                                                "--pin", "ABC123", "-o", signOut.path]).status == 0)
        #expect(try Self.der(ofPEMFile: signOut) == f.certificateDER(f.sign))
        #expect(!Self.der(ofPEMFile: signOut).isEmpty)
        for (file, root) in [(authOut, "auth-root.pem"), (signOut, "sign-root.pem")] {
            let r = try Run.openssl(["verify", "-CAfile", f.home.sandbox.appendingPathComponent(root).path, file.path])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        }
    }

    @Test("pkcs11-tool --sign -m SHA256-RSA-PKCS with both keys verifies with openssl dgst; each signature is audited; PINs never reach the debug log")
    func pkcs11SignsWithBothKeys() throws {
        guard PCSC.ready() else { return }
        let f = try CardFixture()
        let card = try f.insert(environment: ["JPKI_LOG_LEVEL": "debug"])
        let message = f.home.file("msg.txt")
        try Data("an e-Tax filing".utf8).write(to: message)
        let authSig = f.home.file("auth.sig"), signSig = f.home.file("sign.sig")
        let a = try Self.pkcs11Sign(slotIndex: 0, id: "01", pin: "1234", message: message, signature: authSig)
        #expect(a.status == 0, "\(a.stdout)\(a.stderr)")
        let s = try Self.pkcs11Sign(slotIndex: 1, id: "02", pin: "ABC123", message: message, signature: signSig)
        #expect(s.status == 0, "\(s.stdout)\(s.stderr)")
        #expect(try Self.opensslVerifies(f, serial: f.auth, message: message, signature: authSig))
        #expect(try Self.opensslVerifies(f, serial: f.sign, message: message, signature: signSig))
        // A signature by the other key does not verify (the check can fail).
        #expect(!(try Self.opensslVerifies(f, serial: f.sign, message: message, signature: authSig)))
        let signs = try f.home.auditOutcomes().filter { $0.0 == "card.sign" }
        #expect(signs.count == 2 && signs.allSatisfy { $0.1 == "ok" })
        card.stop()
        let log = card.log
        #expect(log.contains("apdu 80 2A 00 80"), "one debug line per APDU")
        #expect(log.contains("data=<redacted, 4 bytes>") && log.contains("data=<redacted, 6 bytes>"))
        for secret in ["1234", "ABC123", "31 32 33 34", "41 42 43 31 32 33", "31323334", "414243313233"] {
            #expect(!log.contains(secret), "the log shows a PIN: \(secret)")
        }
    }

    @Test("wrong PINs count down through OpenSC and pin verify alike; locked for both; the lock survives restarting the card and pcscd; pin reset releases")
    func pinLockSharedWithTheCLI() throws {
        guard PCSC.ready() else { return }
        let f = try CardFixture()
        var card = try f.insert()
        defer { card.stop() }
        let message = f.home.file("msg.txt"), sig = f.home.file("sig")
        try Data("x".utf8).write(to: message)
        #expect(try Self.pkcs11Sign(slotIndex: 0, id: "01", pin: "0000", message: message, signature: sig).status != 0)
        let cli = try f.home.cli(["pin", "verify", f.auth, "--pin", "0001", "--json"])
        #expect(cli.json["triesLeft"] as? Int == 1, "\(cli.stdout)")
        #expect(try PCSC.opensc("pkcs15-tool", ["--reader", "0", "-D"]).stdout.contains("Tries left     : 1"))
        let third = try Self.pkcs11Sign(slotIndex: 0, id: "01", pin: "0002", message: message, signature: sig)
        #expect(third.status != 0)
        let locked = try Self.pkcs11Sign(slotIndex: 0, id: "01", pin: "1234", message: message, signature: sig)
        #expect(locked.status != 0 && (locked.stdout + locked.stderr).contains("CKR_PIN_LOCKED"), "\(locked.stdout)\(locked.stderr)")
        #expect(try PCSC.pkcs11(["-L"]).stdout.contains("user PIN locked"))
        #expect(try f.home.cli(["pin", "verify", f.auth, "--pin", "1234", "--json"]).json["locked"] as? Bool == true)
        // Raw APDUs: the query says 63 C0, a VERIFY on the blocked PIN 69 83.
        let raw = try PCSC.replay([Self.selectAP, Self.selectEF("0018"), "00200080", Self.verify("1234")])
        #expect(raw.map { $0["sw"] ?? "" } == ["9000", "9000", "63C0", "6983"])
        // Restart the card process, then pcscd: still locked.
        card.stop()
        card = try f.insert()
        #expect(try PCSC.opensc("pkcs15-tool", ["--reader", "0", "-D"]).stdout.contains("Tries left     : 0"))
        #expect(PCSC.script("stop") == 0)
        if PCSC.script("start") == 0 {
            // The card dials the new pcscd by itself (every second).
            var seen = false
            for _ in 0..<50 where !seen {
                Thread.sleep(forTimeInterval: 0.2)
                seen = (try? PCSC.opensc("opensc-tool", ["--reader", "0", "-n"]).stdout.contains("jpki")) ?? false
            }
            #expect(seen, "the card did not come back after pcscd restarted: \(card.log)")
            #expect(try PCSC.opensc("pkcs15-tool", ["--reader", "0", "-D"]).stdout.contains("Tries left     : 0"))
        } else {
            Issue.record("scripts/pcsc start failed after a stop")
        }
        // The window resets it; OpenSC signs again.
        #expect(try f.home.cli(["pin", "reset", f.auth, "--new-pin", "4321"]).status == 0)
        let again = try Self.pkcs11Sign(slotIndex: 0, id: "01", pin: "4321", message: message, signature: sig)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.opensslVerifies(f, serial: f.auth, message: message, signature: sig))
    }

    @Test("suspended and revoked: OpenSC still lists the objects, signing is refused (69 85) and writes nothing; a card given up leaves the reader")
    func suspendedAndRevoked() throws {
        guard PCSC.ready() else { return }
        let f = try CardFixture()
        let card = try f.insert()
        defer { card.stop() }
        let message = f.home.file("msg.txt"), sig = f.home.file("sig")
        try Data("x".utf8).write(to: message)
        #expect(try f.home.cli(["card", "suspend", String(f.cardID)]).status == 0)
        let dump = try PCSC.opensc("pkcs15-tool", ["--reader", "0", "-D"]).stdout
        #expect(dump.contains("X.509 Certificate [User Authentication Certificate]") && dump.contains("X.509 Certificate [Digital Signature Certificate]"))
        let before = try f.home.snapshot(includingAudit: false)
        let refused = try Self.pkcs11Sign(slotIndex: 0, id: "01", pin: "1234", message: message, signature: sig)
        #expect(refused.status != 0, "a suspended card signed")
        let digestInfo = "3031300D060960864801650304020105000420" + String(repeating: "AB", count: 32)
        let raw = try PCSC.replay([Self.selectAP, Self.selectEF("001B"), Self.verify("ABC123"), Self.selectEF("001A"), "802A008033" + digestInfo + "00"])
        #expect(raw.map { $0["sw"] ?? "" } == ["9000", "9000", "9000", "9000", "6985"])
        #expect(try f.home.snapshot(includingAudit: false) == before)
        #expect(!(try f.home.auditOutcomes().contains { $0.0 == "card.sign" }))
        // Released: signs again. Then the signing certificate alone revoked: the authentication key still signs.
        #expect(try f.home.cli(["card", "resume", String(f.cardID), "--pin", "1234"]).status == 0)
        #expect(try Self.pkcs11Sign(slotIndex: 0, id: "01", pin: "1234", message: message, signature: sig).status == 0)
        #expect(try f.home.cli(["cert", "revoke", f.sign, "--reason", "keyCompromise"]).status == 0)
        #expect(try PCSC.opensc("pkcs15-tool", ["--reader", "0", "-D"]).stdout.contains("X.509 Certificate [Digital Signature Certificate]"))
        #expect(try Self.pkcs11Sign(slotIndex: 1, id: "02", pin: "ABC123", message: message, signature: sig).status != 0)
        #expect(try Self.pkcs11Sign(slotIndex: 0, id: "01", pin: "1234", message: message, signature: sig).status == 0)
        // Given up: the card process ends by itself and the reader is empty.
        #expect(try f.home.cli(["card", "revoke", String(f.cardID)]).status == 0)
        #expect(card.waitForExit(timeout: 10), "card insert kept serving a revoked card")
        #expect(card.output.contains("removed (revoked)"))
        let again = try f.home.cli(["card", "insert", String(f.cardID), "--json"])
        #expect(again.status == 1 && again.errorCode == "card-unusable", "\(again.stdout)")
    }

    @Test("raw APDUs like myna's: the token, certificates with a 7-byte header then the rest, tries left, verify, sign; the signature verifies")
    func mynaStyleReplay() throws {
        guard PCSC.ready() else { return }
        let f = try CardFixture()
        let card = try f.insert()
        defer { card.stop() }
        let der = try f.certificateDER(f.auth)
        let message = Array("challenge".utf8)
        let digest = try Run.program("/usr/bin/env", ["python3", "-c", "import hashlib,sys; print(hashlib.sha256(b'challenge').hexdigest().upper())"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let digestInfo = "3031300D060960864801650304020105000420" + digest
        let rest = der.count - 7
        let answers = try PCSC.replay([
            Self.selectAP, Self.selectEF("0006"), "00B0000020",
            Self.selectEF("000A"), "00B0000007", "00B00007" + String(format: "%02X", min(rest, 255)),
            Self.selectEF("0018"), "00200080", Self.verify("1234"),
            Self.selectEF("0017"), "802A008033" + digestInfo + "00",
            "00B0000000", "FFA4040C00", "00CA000000",
        ])
        try #require(answers.count == 14)
        #expect(answers[2]["data"] == Self.hex("JPKIAPICCTOKEN2" + String(repeating: " ", count: 17)))
        #expect(answers[4]["data"] == der.prefix(7).map { String(format: "%02X", $0) }.joined())
        #expect(answers[5]["data"] == der[7..<(7 + min(rest, 255))].map { String(format: "%02X", $0) }.joined())
        #expect(answers[7]["sw"] == "63C3" && answers[8]["sw"] == "9000")
        #expect(answers[10]["sw"] == "9000")
        #expect(answers[11]["sw"] == "6981", "READ BINARY on a key EF")
        #expect(answers[12]["sw"] == "6E00" && answers[13]["sw"] == "6D00")
        let sig = f.home.file("raw.sig"), msg = f.home.file("challenge")
        try Data(message).write(to: msg)
        try Data(hexString: answers[10]["data"] ?? "").write(to: sig)
        #expect(try Self.opensslVerifies(f, serial: f.auth, message: msg, signature: sig))
    }

    @Test("the vpcd link abused (control bytes out of range, empty frames, bad lengths, a connection dropped mid-frame): documented answers, no crash, the register unchanged")
    func vpcdProtocolAbuse() throws {
        // No pcscd needed: the test plays the vpcd side itself.
        let f = try CardFixture()
        let port = ServerProcess.freePort()
        let peer = Process()
        peer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        peer.arguments = ["python3", Run.repoRoot.appendingPathComponent("scripts/interop/vpcd_peer.py").path, String(port),
                          "ctl:04", "ctl:07", "ctl:FF", "empty", "ctl:04",
                          "apdu:00A4", "apdu:" + Self.selectAP, "apdu:00A4020C05000A", "apdu:00B0000004",
                          "apdu:00A4020C020018", "apdu:0020008004313233", "apdu:FFFFFFFF", "apdu:00FF0000",
                          "raw:0010AABB", "drop", "ctl:01", "ctl:04", "apdu:00B0000004", "apdu:" + Self.selectAP]
        let out = Pipe()
        peer.standardOutput = out
        try peer.run()
        Thread.sleep(forTimeInterval: 0.5)
        let before = try f.home.snapshot()
        let card = try CardProcess(home: f.home.sandbox, card: f.cardID, reader: "127.0.0.1:\(port)", folder: f.home.url, waitForPCSC: false,
                                   environment: ["JPKI_LOG_LEVEL": "debug"])
        defer { card.stop() }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        peer.waitUntilExit()
        let replies = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["replies"] as? [Any] ?? []
        let atr = "3BE000FF8131FE4514"
        let expected: [String] = [atr, atr, "6700", "9000", "6700", "6986", "9000", "6700", "6E00", "6D00", atr, "6986", "9000"]
        #expect(replies.map { $0 as? String ?? "none" } == expected)
        #expect(card.isRunning, "card insert died: \(card.log)")
        #expect(card.output.components(separatedBy: "inserted").count - 1 == 2, "it dials again after the drop: \(card.output)")
        #expect(try f.home.snapshot() == before)
        #expect(card.log.contains("control byte 07") && card.log.contains("control byte FF"))
        #expect(!card.log.contains("31 32 33"), "a PIN-like payload reached the log")
    }

    @Test("pyHanko signs a PDF through PKCS#11 (OpenSC) with the card's signing key; its validator, revocation on against serve, says valid, then revoked")
    func pyHankoOverPKCS11() throws {
        guard PCSC.ready() else { return }
        guard Run.venvPython != nil else {
            #expect(!Run.interopRequired, "\(InteropMissing())")
            return
        }
        let port = ServerProcess.freePort()
        let f = try CardFixture(ocspPort: port)
        let server = try ServerProcess(home: f.home.sandbox, port: port, folder: f.home.url)
        defer { server.stop() }
        let card = try f.insert()
        defer { card.stop() }
        let pdf = f.home.file("signed.pdf")
        let signed = try Run.interop("pyhanko_card.py", ["--pin", "ABC123", "--out", pdf.path])
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        let good = try Run.interop("pyhanko_check.py", ["validate", "--pdf", pdf.path, "--root", f.home.root("sign").path, "--revocation", "hard-fail"])
        #expect(good.status == 0 && good.json["bottom_line"] as? Bool == true, "\(good.stdout)\(good.stderr)")
        #expect(try f.home.auditOutcomes().contains { $0.0 == "card.sign" })
        #expect(try f.home.cli(["cert", "revoke", f.sign, "--reason", "keyCompromise"]).status == 0)
        let revoked = try Run.interop("pyhanko_check.py", ["validate", "--pdf", pdf.path, "--root", f.home.root("sign").path, "--revocation", "hard-fail"])
        #expect(revoked.status == 1 && revoked.json["revoked"] as? Bool == true, "\(revoked.stdout)\(revoked.stderr)")
        // Revoked, the card still holds the certificate but pyHanko can no longer sign with it.
        let refused = try Run.interop("pyhanko_card.py", ["--pin", "ABC123", "--out", f.home.file("refused.pdf").path])
        #expect(refused.status == 1, "\(refused.stdout)")
    }

    @Test("two cards at once in slots 0 and 1; card eject takes one out")
    func twoCards() throws {
        guard PCSC.ready() else { return }
        var f = try CardFixture()
        let first = f.cardID, firstAuth = f.auth
        let second = try f.home.addResident(name: "髙橋 花子", birth: "1992-02-29", sex: "female", address: "静岡県沼津市御幸町16番1号",
                                            at: ISO8601DateFormatter().string(from: Date()))
        try f.issue(resident: second)
        let a = try CardProcess(home: f.home.sandbox, card: first, slot: 0, folder: f.home.url)
        defer { a.stop() }
        let b = try CardProcess(home: f.home.sandbox, card: f.cardID, slot: 1, folder: f.home.url)
        defer { b.stop() }
        for reader in ["0", "1"] {
            #expect(try PCSC.opensc("opensc-tool", ["--reader", reader, "-n"]).stdout.contains("jpki"))
        }
        let out0 = f.home.file("r0.pem"), out1 = f.home.file("r1.pem")
        #expect(try PCSC.opensc("pkcs15-tool", ["--reader", "0", "--read-certificate", "01", "-o", out0.path]).status == 0)
        #expect(try PCSC.opensc("pkcs15-tool", ["--reader", "1", "--read-certificate", "01", "-o", out1.path]).status == 0)
        #expect(try Self.der(ofPEMFile: out0) == f.certificateDER(firstAuth))
        #expect(try Self.der(ofPEMFile: out1) == f.certificateDER(f.auth))
        #expect(Self.der(ofPEMFile: out0) != Self.der(ofPEMFile: out1))
        // The same card cannot go into two readers; eject frees it.
        let twice = try f.home.cli(["card", "insert", String(first), "--slot", "1", "--json"])
        #expect(twice.status == 1 && twice.errorCode == "card-inserted", "\(twice.stdout)")
        let eject = try f.home.cli(["card", "eject", String(first), "--json"])
        #expect(eject.status == 0 && eject.json["ejected"] as? Bool == true, "\(eject.stdout)\(eject.stderr)")
        #expect(a.waitForExit(timeout: 5) && a.output.contains("removed (ejected)"))
        #expect(try f.home.cli(["card", "eject", String(first), "--json"]).errorCode == "not-inserted")
    }
}

extension Data {
    init(hexString: String) {
        var bytes: [UInt8] = []
        var index = hexString.startIndex
        while let next = hexString.index(index, offsetBy: 2, limitedBy: hexString.endIndex), index != next {
            bytes.append(UInt8(hexString[index..<next], radix: 16) ?? 0)
            index = next
        }
        self.init(bytes)
    }
}
