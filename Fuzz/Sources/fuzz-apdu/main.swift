import CFuzzDriver
import Foundation
import JPKICard
import JPKIDomain

/// The card's side of the register, in memory: fixed certificates, a PIN that is right when it is
/// "1234" or "ABC123", and a signature of fixed bytes. The applet is what is fuzzed, not the CA.
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

/// A session of APDUs as pcscd sends them: the input is a sequence of [length][APDU] records (one length
/// byte); each goes to the same applet, so selections and verified PINs carry from one to the next.
func fuzzAPDU(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var applet = JPKIApplet(services: FakeServices())
    var offset = 0
    while offset < bytes.count {
        let length = Int(bytes[offset])
        let apdu = Array(bytes[(offset + 1)..<min(bytes.count, offset + 1 + length)])
        offset += 1 + length
        let response = applet.process(apdu)
        _ = response.bytes
        if length == 0 { applet.reset() }
    }
    return 0
}

// SwiftPM links an executable's `main` to this file's top-level code, so libFuzzer's own `main` is not
// used: its driver is started here instead.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzAPDU(data, size) })
