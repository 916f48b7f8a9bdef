import Foundation
import JPKICA
import JPKICard
import JPKIDomain
import OpenSSLKit
import Testing

/// The APDU parser and the JPKI applet, in process, over a real sandbox (its register and CA
/// services): the status words of docs/virtual-card.md, one state with the CLI, and a fixed-seed fuzz.
@Suite(.serialized) struct CardAppletTests {
    static let aid: [UInt8] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]
    static let selectAP: [UInt8] = [0x00, 0xA4, 0x04, 0x0C, 0x0A] + aid
    static func selectEF(_ fid: UInt16) -> [UInt8] { [0x00, 0xA4, 0x02, 0x0C, 0x02, UInt8(fid >> 8), UInt8(fid & 0xFF)] }
    static func verify(_ pin: String) -> [UInt8] { [0x00, 0x20, 0x00, 0x80, UInt8(pin.utf8.count)] + Array(pin.utf8) }
    static func read(_ offset: Int, _ le: UInt8) -> [UInt8] { [0x00, 0xB0, UInt8(offset >> 8), UInt8(offset & 0xFF), le] }
    /// The DigestInfo of SHA-256 over `message` (RFC 8017 §9.2 note 1).
    static func digestInfo(_ message: [UInt8]) -> [UInt8] {
        [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20] + Crypto.sha256(message)
    }
    static func sign(_ digestInfo: [UInt8]) -> [UInt8] { [0x80, 0x2A, 0x00, 0x80, UInt8(digestInfo.count)] + digestInfo + [0x00] }

    /// A sandbox with one adult's card (signing PIN ABC123, authentication PIN 1234).
    struct Fixture {
        let home = TempHome()
        let sandbox: Sandbox
        let cardID: Int64
        var sign = "", auth = ""

        init() throws {
            try home.initialize()
            let resident = try home.addResident()
            let card = try home.cli(["card", "issue", "--resident", String(resident), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2026-11-21T12:00:00+09:00"])
            #expect(card.status == 0, "\(card.stderr)")
            cardID = Int64((card.json["card"] as? [String: Any])?["id"] as? Int ?? 0)
            for c in card.json["certificates"] as? [[String: Any]] ?? [] {
                if c["kind"] as? String == "sign" { sign = c["serial"] as? String ?? "" } else { auth = c["serial"] as? String ?? "" }
            }
            sandbox = try Sandbox.open(home: SandboxHome(home.sandbox), at: try ISOTime.parse("2026-11-22"))
        }

        func applet() -> JPKIApplet { JPKIApplet(services: SandboxCardServices(sandbox: sandbox, cardID: cardID)) }
    }

    @Test("parser: the four ISO 7816 cases, short and extended; every malformed length is 67 00", arguments: [
        ([0x00, 0xA4], nil as String?),
        ([0x00, 0xA4, 0x04], nil),
        ([0x00, 0x20, 0x00, 0x80], "case1"),
        ([0x00, 0xB0, 0x00, 0x00, 0x00], "le256"),
        ([0x00, 0xB0, 0x00, 0x00, 0x07], "le7"),
        ([0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x06], "data2"),
        ([0x80, 0x2A, 0x00, 0x80, 0x02, 0xAA, 0xBB, 0x00], "data2le256"),
        ([0x00, 0xA4, 0x02, 0x0C, 0x03, 0x00, 0x06], nil),            // Lc says 3, 2 given
        ([0x00, 0xA4, 0x02, 0x0C, 0x01, 0x00, 0x06, 0x00, 0x00], nil), // Lc says 1, 4 follow
        ([0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00], "extLe256"),
        ([0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00], "extLe65536"),
        ([0x00, 0xB0, 0x00, 0x00, 0x00, 0x01], nil),                   // 00 then one byte: neither form
        ([0x80, 0x2A, 0x00, 0x80, 0x00, 0x00, 0x02, 0xAA, 0xBB, 0x01, 0x00], "extData2le256"),
        ([0x80, 0x2A, 0x00, 0x80, 0x00, 0x00, 0x00, 0xAA], nil),       // extended Lc of 0
    ] as [([UInt8], String?)])
    func parser(bytes: [UInt8], expected: String?) {
        let parsed = CommandAPDU.parse(bytes)
        switch (parsed, expected) {
        case (.failure(let sw), nil): #expect(sw == .wrongLength)
        case (.success(let c), "case1"?): #expect(c.data.isEmpty && c.le == nil)
        case (.success(let c), "le256"?): #expect(c.data.isEmpty && c.le == 256)
        case (.success(let c), "le7"?): #expect(c.data.isEmpty && c.le == 7)
        case (.success(let c), "data2"?): #expect(c.data == [0x00, 0x06] && c.le == nil)
        case (.success(let c), "data2le256"?): #expect(c.data == [0xAA, 0xBB] && c.le == 256)
        case (.success(let c), "extLe256"?): #expect(c.data.isEmpty && c.le == 256)
        case (.success(let c), "extLe65536"?): #expect(c.data.isEmpty && c.le == 65536)
        case (.success(let c), "extData2le256"?): #expect(c.data == [0xAA, 0xBB] && c.le == 256)
        default: Issue.record("\(bytes): got \(parsed), expected \(expected ?? "67 00")")
        }
    }

    @Test("applet: select, token, certificates in chunks, tries left, verify, sign; the signature verifies with the certificate's key")
    func appletHappyPath() throws {
        let f = try Fixture()
        var card = f.applet()
        // Nothing before the application is selected; unknown AIDs and EFs are 6A 82.
        #expect(card.process(Self.selectEF(0x000A)).status == .fileNotFound)
        #expect(card.process([0x00, 0xA4, 0x04, 0x0C, 0x03, 0xA0, 0x00, 0x01]).status == .fileNotFound)
        #expect(card.process(Self.selectAP).status == .ok)
        #expect(card.process(Self.selectEF(0x0099)).status == .fileNotFound)
        #expect(card.process(Self.selectEF(0x0006)).status == .ok)
        let token = card.process(Self.read(0, 0x20))
        #expect(token.status == .ok && token.data == Array("JPKIAPICCTOKEN2".utf8) + [UInt8](repeating: 0x20, count: 17))
        // The authentication certificate, in chunks of 256, equals the register's.
        #expect(card.process(Self.selectEF(0x000A)).status == .ok)
        let expected = try f.sandbox.certificate(serial: f.auth).der
        var got: [UInt8] = []
        while got.count < expected.count {
            let r = card.process(Self.read(got.count, UInt8(min(256, expected.count - got.count) & 0xFF)))
            #expect(r.status == .ok)
            got += r.data
            if r.data.isEmpty { break }
        }
        #expect(got == expected)
        #expect(card.process(Self.read(expected.count, 0x10)).status == .offsetOutOfRange)
        let tail = card.process(Self.read(expected.count - 3, 0x10))
        #expect(tail.status == .endOfFile && tail.data == Array(expected.suffix(3)))
        // The signing certificate is protected until its PIN.
        #expect(card.process(Self.selectEF(0x0001)).status == .ok)
        #expect(card.process(Self.read(0, 4)).status == .securityNotSatisfied)
        #expect(card.process(Self.selectEF(0x001B)).status == .ok)
        #expect(card.process([0x00, 0x20, 0x00, 0x80]).status == .triesLeft(5))
        #expect(card.process(Self.verify("ABC123")).status == .ok)
        #expect(card.process([0x00, 0x20, 0x00, 0x80]).status == .triesLeft(5), "the query answers 63 Cx even when verified")
        #expect(card.process(Self.selectEF(0x0001)).status == .ok)
        let head = card.process(Self.read(0, 7))
        let signDER = try f.sandbox.certificate(serial: f.sign).der
        #expect(head.status == .ok && head.data == Array(signDER.prefix(7)))
        // Sign with the signing key: PKCS#1 v1.5 over the DigestInfo, verified by OpenSSL.
        #expect(card.process(Self.selectEF(0x001A)).status == .ok)
        let message = Array("a document".utf8)
        let sig = card.process(Self.sign(Self.digestInfo(message)))
        #expect(sig.status == .ok && sig.data.count == 256)
        let cert = try Certificate(der: try f.sandbox.certificate(serial: f.sign).der)
        #expect(try cert.publicKey().verifySHA256(signature: sig.data, message: message))
        // The authentication key needs its own PIN; re-selecting the application forgets the signing PIN.
        #expect(card.process(Self.selectEF(0x0017)).status == .ok)
        #expect(card.process(Self.sign(Self.digestInfo(message))).status == .securityNotSatisfied)
        #expect(card.process(Self.selectAP).status == .ok)
        #expect(card.process(Self.selectEF(0x001A)).status == .ok)
        #expect(card.process(Self.sign(Self.digestInfo(message))).status == .securityNotSatisfied)
        // Reset (power off) forgets too.
        #expect(card.process(Self.selectEF(0x0018)).status == .ok)
        #expect(card.process(Self.verify("1234")).status == .ok)
        card.reset()
        #expect(card.process(Self.selectEF(0x0017)).status == .fileNotFound, "after a reset the application must be selected again")
        let audit = try f.home.auditOutcomes()
        #expect(audit.filter { $0.0 == "card.sign" }.count == 1)
        #expect(audit.filter { $0.0 == "card.verify" }.count == 2)
    }

    @Test("applet: wrong PINs count down in the register (pin verify sees them), 63 C0 on the locking try, then 69 83; pin reset releases")
    func pinLock() throws {
        let f = try Fixture()
        var card = f.applet()
        #expect(card.process(Self.selectAP).status == .ok)
        #expect(card.process(Self.selectEF(0x0018)).status == .ok)
        #expect(card.process(Self.verify("0000")).status == .triesLeft(2))
        let cli = try f.home.cli(["pin", "verify", f.auth, "--pin", "9999", "--json", "--at", "2026-11-22"])
        #expect(cli.json["triesLeft"] as? Int == 1)
        #expect(card.process([0x00, 0x20, 0x00, 0x80]).status == .triesLeft(1))
        #expect(card.process(Self.verify("0000")).status == .triesLeft(0))
        #expect(card.process([0x00, 0x20, 0x00, 0x80]).status == .triesLeft(0))
        #expect(card.process(Self.verify("1234")).status == .blocked, "the right PIN on a blocked PIN is 69 83")
        let locked = try f.home.cli(["pin", "verify", f.auth, "--pin", "1234", "--json", "--at", "2026-11-22"])
        #expect(locked.json["locked"] as? Bool == true)
        #expect(try f.home.cli(["pin", "reset", f.auth, "--new-pin", "4321", "--at", "2026-11-22"]).status == 0)
        #expect(card.process([0x00, 0x20, 0x00, 0x80]).status == .triesLeft(3))
        #expect(card.process(Self.verify("4321")).status == .ok)
        // CHANGE REFERENCE DATA after the verify; the new PIN must follow the window's rules.
        #expect(card.process([0x00, 0x24, 0x01, 0x80, 0x03, 0x31, 0x32, 0x33]).status == .incorrectData)
        #expect(card.process([0x00, 0x24, 0x01, 0x80, 0x04, 0x35, 0x36, 0x37, 0x38]).status == .ok)
        #expect(try f.home.cli(["pin", "verify", f.auth, "--pin", "5678", "--json", "--at", "2026-11-22"]).json["ok"] as? Bool == true)
    }

    @Test("applet: a suspended or revoked certificate stays readable but refuses to sign with 69 85, and nothing is written")
    func refusals() throws {
        let f = try Fixture()
        #expect(try f.home.cli(["card", "suspend", String(f.cardID), "--at", "2026-11-22"]).status == 0)
        var card = f.applet()
        let message = Array("x".utf8)
        #expect(card.process(Self.selectAP).status == .ok)
        #expect(card.process(Self.selectEF(0x000A)).status == .ok)
        #expect(card.process(Self.read(0, 4)).status == .ok)
        #expect(card.process(Self.selectEF(0x0018)).status == .ok)
        #expect(card.process(Self.verify("1234")).status == .ok)
        #expect(card.process(Self.selectEF(0x0017)).status == .ok)
        let before = try f.home.snapshot()
        #expect(card.process(Self.sign(Self.digestInfo(message))).status == .conditionsNotSatisfied)
        #expect(try f.home.snapshot() == before)
        #expect(try f.home.cli(["card", "resume", String(f.cardID), "--pin", "1234", "--at", "2026-11-22"]).status == 0)
        #expect(card.process(Self.sign(Self.digestInfo(message))).status == .ok)
        #expect(try f.home.cli(["cert", "revoke", f.auth, "--reason", "keyCompromise", "--at", "2026-11-22"]).status == 0)
        #expect(card.process(Self.sign(Self.digestInfo(message))).status == .conditionsNotSatisfied)
        // Expired: the sandbox clock past notAfter.
        let later = try Sandbox.open(home: SandboxHome(f.home.sandbox), at: try ISOTime.parse("2040-01-01"))
        var old = JPKIApplet(services: SandboxCardServices(sandbox: later, cardID: f.cardID))
        #expect(old.process(Self.selectAP).status == .ok)
        #expect(old.process(Self.selectEF(0x001B)).status == .ok)
        #expect(old.process(Self.verify("ABC123")).status == .ok)
        #expect(old.process(Self.selectEF(0x001A)).status == .ok)
        #expect(old.process(Self.sign(Self.digestInfo(message))).status == .conditionsNotSatisfied)
    }

    @Test("applet: bad input gets its documented status word and changes nothing in the register")
    func badInput() throws {
        let f = try Fixture()
        var card = f.applet()
        #expect(card.process(Self.selectAP).status == .ok)
        let before = try f.home.snapshot()
        let cases: [([UInt8], StatusWord)] = [
            ([], .wrongLength), ([0x00], .wrongLength), ([0x00, 0xA4, 0x04], .wrongLength),
            ([0x00, 0xA4, 0x02, 0x0C, 0x05, 0x00, 0x06], .wrongLength),     // Lc larger than the data
            ([0x00, 0xA4, 0x02, 0x0C, 0x01, 0x00], .wrongLength),            // a 1-byte file id
            ([0xA0, 0xA4, 0x04, 0x0C, 0x0A] + Self.aid, .unknownClass),
            ([0x0C, 0xB0, 0x00, 0x00, 0x04], .unknownClass),                 // secure messaging
            ([0x00, 0xCA, 0x00, 0x00, 0x00], .unknownInstruction),
            ([0x00, 0xC0, 0x00, 0x00, 0x00], .unknownInstruction),
            ([0x00, 0x20, 0x00, 0x80, 0x04, 0x31, 0x32, 0x33, 0x34], .noCurrentEF), // VERIFY with no PIN EF selected
            ([0x80, 0x2A, 0x00, 0x80, 0x01, 0x00, 0x00], .noCurrentEF),
        ]
        for (bytes, sw) in cases {
            #expect(card.process(bytes).status == sw, "\(bytes)")
        }
        #expect(card.process([0x00, 0xB0, 0x00, 0x00]).status == .wrongLength, "READ BINARY without Le")
        #expect(card.process(Self.selectEF(0x000A)).status == .ok)
        #expect(card.process([0x00, 0xB0, 0x7F, 0xFF, 0x01]).status == .offsetOutOfRange)
        #expect(card.process([0x00, 0xB0, 0x81, 0x00, 0x01]).status == .functionNotSupported)
        #expect(card.process([0x00, 0xB0, 0x00, 0x00, 0x01, 0xAA, 0x04]).status == .wrongLength, "READ BINARY with data")
        #expect(card.process(Self.selectEF(0x0018)).status == .ok)
        #expect(card.process([0x00, 0xB0, 0x00, 0x00, 0x04]).status == .incompatibleFile)
        #expect(card.process([0x00, 0x20, 0x01, 0x80]).status == .incorrectP1P2)
        #expect(card.process([0x00, 0x24, 0x01, 0x80, 0x04, 0x31, 0x32, 0x33, 0x34]).status == .securityNotSatisfied, "change without verify")
        #expect(card.process(Self.selectEF(0x0017)).status == .ok)
        #expect(card.process(Self.sign(Self.digestInfo([1]))).status == .securityNotSatisfied)
        #expect(try f.home.snapshot() == before)
        // An oversized DigestInfo (246 bytes for a 2048-bit key) after the PIN: 67 00, no signature, no audit entry.
        #expect(card.process(Self.selectEF(0x0018)).status == .ok)
        #expect(card.process(Self.verify("1234")).status == .ok)
        #expect(card.process(Self.selectEF(0x0017)).status == .ok)
        let afterVerify = try f.home.snapshot()
        #expect(card.process([0x80, 0x2A, 0x00, 0x80, 0xF6] + [UInt8](repeating: 0x41, count: 246) + [0x00]).status == .wrongLength)
        #expect(card.process([0x80, 0x2A, 0x00, 0x80, 0x00]).status == .wrongLength, "sign without data")
        #expect(card.process([0x80, 0x2A, 0x9E, 0x9A, 0x01, 0x00, 0x00]).status == .incorrectP1P2)
        #expect(try f.home.snapshot() == afterVerify)
    }


    @Test("fuzz (seed 0x4A504B49): 50,000 random byte strings through the parser, 3,000 APDUs through the applet; never a crash, the register unchanged")
    func fuzz() throws {
        var rng = SeededGenerator(state: 0x4A50_4B49)
        // The parser alone: any bytes, lengths 0…300.
        for _ in 0..<50_000 {
            let n = Int.random(in: 0...300, using: &rng)
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            switch CommandAPDU.parse(bytes) {
            case .success(let c):
                #expect(bytes.count >= 4 && c.data.count <= bytes.count - 4)
                #expect([c.cla, c.ins, c.p1, c.p2] == Array(bytes.prefix(4)))
            case .failure(let sw):
                #expect(sw == .wrongLength)
            }
        }
        // The applet: APDUs shaped like the real ones (known classes and instructions, random
        // parameters, lengths that sometimes lie), interleaved with valid selections and resets.
        // VERIFY and CHANGE are left out of the random part (a random PIN would count a try: that is
        // the register working, tested above); the register must be the same afterwards.
        let f = try Fixture()
        var card = f.applet()
        let before = try f.home.snapshot()
        let fids: [UInt16] = [0x0001, 0x0002, 0x0006, 0x000A, 0x000B, 0x0017, 0x0018, 0x001A, 0x001B, 0x3F00, 0x0000, 0xFFFF]
        var statuses: [StatusWord: Int] = [:]
        for i in 0..<3_000 {
            var bytes: [UInt8]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: bytes = Self.selectAP
            case 1: bytes = Self.selectEF(fids.randomElement(using: &rng)!)
            case 2: card.reset(); continue
            default:
                let ins: [UInt8] = [0xA4, 0xB0, 0x2A, 0xB0, 0xA4, 0x20, 0x00, 0xFF]
                let insByte = ins.randomElement(using: &rng)!
                let cla: UInt8 = [0x00, 0x80, 0x00, 0x0C, 0xFF].randomElement(using: &rng)!
                let dataLength = Int.random(in: 0...260, using: &rng)
                bytes = [cla, insByte, UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng)]
                if insByte == 0x20 { bytes += [] } // the tries-left query only (no PIN data)
                else if dataLength > 0 {
                    let lc = Bool.random(using: &rng) ? UInt8(truncatingIfNeeded: dataLength) : UInt8.random(in: 0...255, using: &rng)
                    bytes += [lc] + (0..<dataLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    if Bool.random(using: &rng) { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
                } else if Bool.random(using: &rng) {
                    bytes.append(UInt8.random(in: 0...255, using: &rng))
                }
                if insByte == 0x20 && Bool.random(using: &rng) { bytes[2] = 0x00; bytes[3] = 0x80 }
            }
            let r = card.process(bytes)
            statuses[r.status, default: 0] += 1
            #expect(r.data.count <= 256 + 0, "answer \(i) too long")
        }
        #expect(try f.home.snapshot() == before)
        // The fuzz reached more than the error paths.
        #expect(statuses[.ok, default: 0] > 100)
        #expect(statuses.keys.count >= 6, "\(statuses)")
    }
}
