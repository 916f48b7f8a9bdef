import Foundation

/// A status word, the two bytes SW1 SW2 that end every response APDU (ISO/IEC 7816-4 §5.6).
public struct StatusWord: Error, Sendable, Hashable, CustomStringConvertible {
    public let sw1: UInt8
    public let sw2: UInt8
    public init(_ sw1: UInt8, _ sw2: UInt8) { self.sw1 = sw1; self.sw2 = sw2 }

    public var bytes: [UInt8] { [sw1, sw2] }
    public var description: String { String(format: "%02X %02X", sw1, sw2) }

    /// 90 00: normal processing.
    public static let ok = StatusWord(0x90, 0x00)
    /// 62 82: end of file reached before reading Le bytes (the bytes up to the end are returned).
    public static let endOfFile = StatusWord(0x62, 0x82)
    /// 63 Cx: verification failed or tries-left query; x tries left (0 when blocked).
    public static func triesLeft(_ n: Int) -> StatusWord { StatusWord(0x63, 0xC0 | UInt8(max(0, min(n, 15)))) }
    /// 67 00: wrong length (an APDU whose Lc/Le do not match its size, or data of the wrong size).
    public static let wrongLength = StatusWord(0x67, 0x00)
    /// 69 81: command incompatible with file structure (READ BINARY on a PIN or key EF).
    public static let incompatibleFile = StatusWord(0x69, 0x81)
    /// 69 82: security status not satisfied (the PIN that guards the file or key is not verified).
    public static let securityNotSatisfied = StatusWord(0x69, 0x82)
    /// 69 83: authentication method blocked (VERIFY with data on a locked PIN; see docs/virtual-card.md).
    public static let blocked = StatusWord(0x69, 0x83)
    /// 69 85: conditions of use not satisfied (the certificate is revoked, suspended or expired).
    public static let conditionsNotSatisfied = StatusWord(0x69, 0x85)
    /// 69 86: command not allowed, no current EF (or the current EF is not the kind the command needs).
    public static let noCurrentEF = StatusWord(0x69, 0x86)
    /// 6A 80: incorrect data (a new PIN the sandbox's rules refuse).
    public static let incorrectData = StatusWord(0x6A, 0x80)
    /// 6A 81: function not supported (short EF identifiers in READ BINARY).
    public static let functionNotSupported = StatusWord(0x6A, 0x81)
    /// 6A 82: file or application not found.
    public static let fileNotFound = StatusWord(0x6A, 0x82)
    /// 6A 86: incorrect P1-P2.
    public static let incorrectP1P2 = StatusWord(0x6A, 0x86)
    /// 6B 00: wrong parameters (READ BINARY offset at or past the end of the file).
    public static let offsetOutOfRange = StatusWord(0x6B, 0x00)
    /// 6D 00: instruction not supported.
    public static let unknownInstruction = StatusWord(0x6D, 0x00)
    /// 6E 00: class not supported.
    public static let unknownClass = StatusWord(0x6E, 0x00)
    /// 6F 00: no precise diagnosis (the register could not be read or written).
    public static let noDiagnosis = StatusWord(0x6F, 0x00)
}

/// A command APDU (ISO/IEC 7816-4 §5.1): the header CLA INS P1 P2, the command data (after Lc) and the
/// maximum length expected back (Le), in short or extended form.
public struct CommandAPDU: Sendable, Hashable {
    public let cla: UInt8
    public let ins: UInt8
    public let p1: UInt8
    public let p2: UInt8
    public let data: [UInt8]
    /// Le as a number of bytes (a short `00` is 256, an extended `00 00` is 65536); nil when absent.
    public let le: Int?

    public init(cla: UInt8, ins: UInt8, p1: UInt8, p2: UInt8, data: [UInt8] = [], le: Int? = nil) {
        self.cla = cla; self.ins = ins; self.p1 = p1; self.p2 = p2; self.data = data; self.le = le
    }

    /// Parses a command APDU. Total: every byte string gives either a command or the status word
    /// to answer (67 00 when the length bytes do not match the APDU's size). The four cases of
    /// ISO/IEC 7816-3 §12.1.3, short and extended:
    ///
    ///     case 1   CLA INS P1 P2
    ///     case 2S  CLA INS P1 P2 Le                       case 2E  … 00 Le1 Le2
    ///     case 3S  CLA INS P1 P2 Lc Data                  case 3E  … 00 Lc1 Lc2 Data
    ///     case 4S  CLA INS P1 P2 Lc Data Le               case 4E  … 00 Lc1 Lc2 Data Le1 Le2
    public static func parse(_ bytes: [UInt8]) -> Result<CommandAPDU, StatusWord> {
        guard bytes.count >= 4 else { return .failure(.wrongLength) }
        let (cla, ins, p1, p2) = (bytes[0], bytes[1], bytes[2], bytes[3])
        func make(_ data: ArraySlice<UInt8>, _ le: Int?) -> Result<CommandAPDU, StatusWord> {
            .success(CommandAPDU(cla: cla, ins: ins, p1: p1, p2: p2, data: Array(data), le: le))
        }
        let body = bytes.count - 4
        if body == 0 { return make([], nil) }
        let b0 = Int(bytes[4])
        if body == 1 { return make([], b0 == 0 ? 256 : b0) }
        if b0 != 0 {
            // Short Lc.
            if body == 1 + b0 { return make(bytes[5..<(5 + b0)], nil) }
            if body == 2 + b0 { let le = Int(bytes[5 + b0]); return make(bytes[5..<(5 + b0)], le == 0 ? 256 : le) }
            return .failure(.wrongLength)
        }
        // Extended: 00 then two bytes.
        guard body >= 3 else { return .failure(.wrongLength) }
        let n = Int(bytes[5]) << 8 | Int(bytes[6])
        if body == 3 { return make([], n == 0 ? 65536 : n) }
        guard n > 0 else { return .failure(.wrongLength) }
        if body == 3 + n { return make(bytes[7..<(7 + n)], nil) }
        if body == 5 + n {
            let le = Int(bytes[7 + n]) << 8 | Int(bytes[8 + n])
            return make(bytes[7..<(7 + n)], le == 0 ? 65536 : le)
        }
        return .failure(.wrongLength)
    }

    /// The header as hex (`00 A4 04 0C`), for logs.
    public var headerText: String { [cla, ins, p1, p2].map { String(format: "%02X", $0) }.joined(separator: " ") }
}

/// A response APDU: data then the status word.
public struct ResponseAPDU: Sendable, Hashable {
    public let data: [UInt8]
    public let status: StatusWord
    public init(_ data: [UInt8] = [], _ status: StatusWord) { self.data = data; self.status = status }
    public init(_ status: StatusWord) { self.data = []; self.status = status }
    public var bytes: [UInt8] { data + status.bytes }
}
