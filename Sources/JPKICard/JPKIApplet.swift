import Foundation
import JPKIDomain

/// The answers the applet needs from the CA, one call per APDU that touches the register. Every rule
/// (the PIN counter and lock, whether a certificate may sign, the audit) is behind this protocol, in
/// the CA services: the applet only keeps the session.
public protocol CardServices: Sendable {
    /// The DER of the certificate of `kind` on the card and of its root; nil when the card has none
    /// (a minor's card has no signing certificate).
    func files(_ kind: CertificateKind) throws -> (certificate: [UInt8], root: [UInt8])?
    /// Tries left before the PIN of `kind` locks (0 when locked).
    func triesLeft(_ kind: CertificateKind) throws -> Int
    /// Checks the PIN of `kind`; a wrong one costs a try.
    func verify(_ kind: CertificateKind, pin: String) throws -> PINCheck
    /// Sets a new PIN of `kind` (the applet has verified the current one).
    func changePIN(_ kind: CertificateKind, new: String) throws -> CardActionOutcome
    /// PKCS#1 v1.5 over `digestInfo` with the key of `kind` (the applet has verified its PIN).
    func sign(_ kind: CertificateKind, digestInfo: [UInt8]) throws -> CardActionOutcome
    /// The token name in EF 0006: `JPKIAPICCTOKEN2` for a card, `JPKIAPGPSETOKEN` for a phone.
    var tokenName: String { get }
}

extension CardServices {
    public var tokenName: String { JPKIApplet.cardTokenName }
}

/// The result of a VERIFY with data.
public enum PINCheck: Sendable, Equatable {
    case ok
    case wrong(triesLeft: Int)
    /// Locked before this try.
    case blocked
}

/// The result of a change of PIN or a signature.
public enum CardActionOutcome: Sendable, Equatable {
    case done([UInt8])
    /// The certificate or card may not be used (revoked, suspended, expired).
    case unusable
    /// The PIN locked meanwhile.
    case locked
    /// The data was refused (a DigestInfo too long for the key, a new PIN against the rules).
    case badData
}

/// The JPKI applet (公的個人認証AP) of a My Number Card, as the APDUs of docs/virtual-card.md see it.
///
/// It holds the session only: which application and EF are selected and which PINs were verified
/// since power-on. Power off, reset and re-selecting the application clear it. Not thread-safe: one
/// reader talks to one card, one APDU at a time.
public struct JPKIApplet {
    /// The JPKI application identifier, D3 92 F0 00 26 01 00 00 00 01.
    public static let aid: [UInt8] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]
    /// OpenSC's JPKI ATR.
    public static let atr: [UInt8] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14]
    /// EF 0006, the token information: `JPKIAPICCTOKEN2` padded with spaces to 32 bytes.
    public static let tokenInfo: [UInt8] = tokenInfo(cardTokenName)
    public static let cardTokenName = "JPKIAPICCTOKEN2"
    /// The token name a smartphone's JPKI applet answers (digest §Smartphone certificates [high]).
    public static let phoneTokenName = "JPKIAPGPSETOKEN"
    /// A token name padded with spaces to 32 bytes.
    public static func tokenInfo(_ name: String) -> [UInt8] {
        let bytes = Array(name.utf8.prefix(32))
        return bytes + [UInt8](repeating: 0x20, count: 32 - bytes.count)
    }

    /// The elementary files of the JPKI application.
    public enum EF: UInt16, Sendable, CaseIterable {
        case signCertificate = 0x0001, signRoot = 0x0002, tokenInfo = 0x0006
        case authCertificate = 0x000A, authRoot = 0x000B
        case authKey = 0x0017, authPIN = 0x0018, signKey = 0x001A, signPIN = 0x001B

        /// The kind of certificate, key or PIN this EF belongs to (nil for the token).
        var kind: CertificateKind? {
            switch self {
            case .signCertificate, .signRoot, .signKey, .signPIN: .sign
            case .authCertificate, .authRoot, .authKey, .authPIN: .auth
            case .tokenInfo: nil
            }
        }
    }

    enum Selection {
        case binary(EF, [UInt8])
        case pin(CertificateKind)
        case key(CertificateKind)
    }

    let services: any CardServices
    var applicationSelected = false
    var current: Selection?
    /// PINs verified since power-on, reset or the last selection of the application.
    public private(set) var verified: Set<CertificateKind> = []

    public init(services: any CardServices) { self.services = services }

    /// Power off, power on, reset: the card forgets its session.
    public mutating func reset() {
        applicationSelected = false
        current = nil
        verified = []
    }

    /// Answers one command APDU given as bytes. Total: bad input gives a status word, never a crash.
    public mutating func process(_ bytes: [UInt8]) -> ResponseAPDU {
        switch CommandAPDU.parse(bytes) {
        case .failure(let sw): return ResponseAPDU(sw)
        case .success(let command): return process(command)
        }
    }

    public mutating func process(_ c: CommandAPDU) -> ResponseAPDU {
        // Basic interindustry class (no secure messaging, logical channel 0) or the proprietary 80.
        guard c.cla == 0x00 || c.cla == 0x80 else { return ResponseAPDU(.unknownClass) }
        do {
            switch c.ins {
            case 0xA4: return try select(c)
            case 0xB0: return try readBinary(c)
            case 0x20: return try verify(c)
            case 0x24: return try changeReferenceData(c)
            case 0x2A: return try computeSignature(c)
            default: return ResponseAPDU(.unknownInstruction)
            }
        } catch {
            // The register could not be read or written (e.g. the database is busy past its timeout).
            return ResponseAPDU(.noDiagnosis)
        }
    }

    // MARK: SELECT FILE (A4)

    mutating func select(_ c: CommandAPDU) throws -> ResponseAPDU {
        switch c.p1 {
        case 0x04: // by DF name (AID)
            guard c.data == Self.aid else { return ResponseAPDU(.fileNotFound) }
            reset()
            applicationSelected = true
            return ResponseAPDU(.ok)
        case 0x02: // EF under the current DF
            guard c.data.count == 2 else { return ResponseAPDU(.wrongLength) }
            guard applicationSelected, let ef = EF(rawValue: UInt16(c.data[0]) << 8 | UInt16(c.data[1])) else {
                return ResponseAPDU(.fileNotFound)
            }
            let selection: Selection
            switch ef {
            case .tokenInfo: selection = .binary(ef, Self.tokenInfo(services.tokenName))
            case .authPIN, .signPIN, .authKey, .signKey, .signCertificate, .signRoot, .authCertificate, .authRoot:
                let kind = ef.kind!
                guard let files = try services.files(kind) else { return ResponseAPDU(.fileNotFound) }
                switch ef {
                case .authPIN, .signPIN: selection = .pin(kind)
                case .authKey, .signKey: selection = .key(kind)
                case .signCertificate, .authCertificate: selection = .binary(ef, files.certificate)
                default: selection = .binary(ef, files.root)
                }
            }
            current = selection
            return ResponseAPDU(.ok)
        default:
            // Selection by path or from the MF: this card has only the files above. 6A 82 (not 6A 86)
            // keeps OpenSC's other drivers from taking the card for theirs.
            return ResponseAPDU(.fileNotFound)
        }
    }

    // MARK: READ BINARY (B0)

    func readBinary(_ c: CommandAPDU) throws -> ResponseAPDU {
        guard c.p1 & 0x80 == 0 else { return ResponseAPDU(.functionNotSupported) }
        guard c.data.isEmpty, let le = c.le else { return ResponseAPDU(.wrongLength) }
        guard let current else { return ResponseAPDU(.noCurrentEF) }
        guard case .binary(let ef, let content) = current else { return ResponseAPDU(.incompatibleFile) }
        // The signing certificate carries the four basic details: readable only after the signing PIN.
        if ef == .signCertificate && !verified.contains(.sign) { return ResponseAPDU(.securityNotSatisfied) }
        let offset = Int(c.p1) << 8 | Int(c.p2)
        guard offset < content.count else { return ResponseAPDU(.offsetOutOfRange) }
        let end = min(content.count, offset + le)
        return ResponseAPDU(Array(content[offset..<end]), offset + le > content.count ? .endOfFile : .ok)
    }

    // MARK: VERIFY (20)

    mutating func verify(_ c: CommandAPDU) throws -> ResponseAPDU {
        guard c.p1 == 0x00, c.p2 == 0x80 else { return ResponseAPDU(.incorrectP1P2) }
        guard case .pin(let kind) = current else { return ResponseAPDU(.noCurrentEF) }
        if c.data.isEmpty {
            // The tries-left query: always 63 Cx, verified or not, blocked or not (OpenSC relies on it).
            return ResponseAPDU(.triesLeft(try services.triesLeft(kind)))
        }
        // The card compares bytes; ISO-8859-1 maps each byte to one character, so any data is a PIN
        // (one that is not ASCII simply never matches).
        let pin = String(c.data.map { Character(Unicode.Scalar($0)) })
        switch try services.verify(kind, pin: pin) {
        case .ok:
            verified.insert(kind)
            return ResponseAPDU(.ok)
        case .wrong(let left):
            verified.remove(kind)
            return ResponseAPDU(.triesLeft(left))
        case .blocked:
            verified.remove(kind)
            return ResponseAPDU(.blocked)
        }
    }

    // MARK: CHANGE REFERENCE DATA (24)

    mutating func changeReferenceData(_ c: CommandAPDU) throws -> ResponseAPDU {
        guard c.p1 == 0x01, c.p2 == 0x80 else { return ResponseAPDU(.incorrectP1P2) }
        guard case .pin(let kind) = current else { return ResponseAPDU(.noCurrentEF) }
        guard !c.data.isEmpty else { return ResponseAPDU(.wrongLength) }
        guard verified.contains(kind) else { return ResponseAPDU(.securityNotSatisfied) }
        let pin = String(c.data.map { Character(Unicode.Scalar($0)) })
        switch try services.changePIN(kind, new: pin) {
        case .done: return ResponseAPDU(.ok)
        case .badData: return ResponseAPDU(.incorrectData)
        case .locked:
            verified.remove(kind)
            return ResponseAPDU(.blocked)
        case .unusable: return ResponseAPDU(.conditionsNotSatisfied)
        }
    }

    // MARK: COMPUTE DIGITAL SIGNATURE (2A)

    mutating func computeSignature(_ c: CommandAPDU) throws -> ResponseAPDU {
        guard c.p1 == 0x00, c.p2 == 0x80 else { return ResponseAPDU(.incorrectP1P2) }
        guard case .key(let kind) = current else { return ResponseAPDU(.noCurrentEF) }
        guard !c.data.isEmpty else { return ResponseAPDU(.wrongLength) }
        guard verified.contains(kind) else { return ResponseAPDU(.securityNotSatisfied) }
        switch try services.sign(kind, digestInfo: c.data) {
        case .done(let signature): return ResponseAPDU(signature, .ok)
        case .badData: return ResponseAPDU(.wrongLength)
        case .unusable: return ResponseAPDU(.conditionsNotSatisfied)
        case .locked:
            verified.remove(kind)
            return ResponseAPDU(.securityNotSatisfied)
        }
    }
}
