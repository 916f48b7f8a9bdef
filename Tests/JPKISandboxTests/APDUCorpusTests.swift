import Foundation
import JPKICard
import JPKIDomain
import Testing

/// Replays the APDU fuzzer's committed corpus (Fuzz/Corpus/apdu/: sessions of [length][APDU] records)
/// through the applet, as `fuzz-apdu` does, so that an input that once crashed it is checked by every
/// `swift test`.
struct APDUCorpusTests {
    /// The same in-memory register as the fuzz target's.
    struct FakeServices: CardServices {
        static let certificate = [UInt8](repeating: 0x30, count: 1200)
        func files(_ kind: CertificateKind) throws -> (certificate: [UInt8], root: [UInt8])? {
            kind == .sign ? (Self.certificate, Array(Self.certificate.prefix(900))) : (Array(Self.certificate.prefix(1000)), Self.certificate)
        }
        func triesLeft(_ kind: CertificateKind) throws -> Int { 3 }
        func verify(_ kind: CertificateKind, pin: String) throws -> PINCheck {
            pin == "1234" || pin == "ABC123" ? .ok : pin.hasPrefix("X") ? .blocked : .wrong(triesLeft: 2)
        }
        func changePIN(_ kind: CertificateKind, new: String) throws -> CardActionOutcome { new.count < 4 ? .badData : .done([]) }
        func sign(_ kind: CertificateKind, digestInfo: [UInt8]) throws -> CardActionOutcome {
            digestInfo.count > 245 ? .badData : .done([UInt8](repeating: 0xAB, count: 256))
        }
    }

    /// The responses of one session file.
    static func replay(_ bytes: [UInt8]) -> [ResponseAPDU] {
        var applet = JPKIApplet(services: FakeServices())
        var responses: [ResponseAPDU] = []
        var offset = 0
        while offset < bytes.count {
            let length = Int(bytes[offset])
            let apdu = Array(bytes[(offset + 1)..<min(bytes.count, offset + 1 + length)])
            offset += 1 + length
            responses.append(applet.process(apdu))
            if length == 0 { applet.reset() }
        }
        return responses
    }

    @Test("apdu corpus: every session is answered APDU by APDU; the seeded signature session signs")
    func corpus() throws {
        let folder = Run.repoRoot.appendingPathComponent("Fuzz/Corpus/apdu")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.count >= 5)
        for name in names {
            let responses = Self.replay([UInt8](try Data(contentsOf: folder.appendingPathComponent(name))))
            #expect(!responses.isEmpty, "\(name)")
            if name == "sign.bin" {
                #expect(responses.last?.data.count == 256 && responses.last?.status == .ok, "\(responses.map(\.status))")
            }
        }
    }
}
