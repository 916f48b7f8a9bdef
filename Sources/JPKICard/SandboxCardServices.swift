import Foundation
import JPKICA
import JPKIDomain

/// `CardServices` over a sandbox: each answer comes from the CA services and the register, so the
/// card, the CLI and `serve` share one state (PIN counters, locks, statuses).
public struct SandboxCardServices: CardServices {
    public let sandbox: Sandbox
    public let cardID: Int64
    /// A smartphone's applet instead of the card's: its certificates, token `JPKIAPGPSETOKEN`.
    public let phoneID: Int64?

    public init(sandbox: Sandbox, cardID: Int64) { self.sandbox = sandbox; self.cardID = cardID; phoneID = nil }

    /// The JPKI applet of a phone (スマホ用電子証明書), answering as the phone's secure element does.
    public init(sandbox: Sandbox, phoneID: Int64) throws {
        self.sandbox = sandbox; self.phoneID = phoneID
        cardID = try sandbox.phone(id: phoneID).phone.cardID
    }

    public var tokenName: String { phoneID == nil ? JPKIApplet.cardTokenName : JPKIApplet.phoneTokenName }

    func contents() throws -> CardContents {
        if let phoneID { return try sandbox.phoneContents(id: phoneID) }
        return try sandbox.cardContents(id: cardID)
    }

    /// The serial of the certificate of `kind` on the card now (a renewal while inserted is seen at
    /// the next SELECT).
    func serial(_ kind: CertificateKind) throws -> String? {
        try contents().certificates[kind]?.serial
    }

    public func files(_ kind: CertificateKind) throws -> (certificate: [UInt8], root: [UInt8])? {
        let contents = try contents()
        guard let cert = contents.certificates[kind], let root = contents.roots[kind] else { return nil }
        return (cert.der, root)
    }

    public func triesLeft(_ kind: CertificateKind) throws -> Int {
        guard let serial = try serial(kind) else { return 0 }
        return try sandbox.cardPINTriesLeft(serial: serial)
    }

    public func verify(_ kind: CertificateKind, pin: String) throws -> PINCheck {
        guard let serial = try serial(kind) else { return .blocked }
        // Decided in the transaction that counts: a PIN locked before this try answers "blocked",
        // the try that locks answers 63 C0.
        let result = try sandbox.cardVerifyPIN(serial: serial, pin: pin)
        if result.wasLocked { return .blocked }
        if result.ok { return .ok }
        return .wrong(triesLeft: result.triesLeft)
    }

    public func changePIN(_ kind: CertificateKind, new: String) throws -> CardActionOutcome {
        guard let serial = try serial(kind) else { return .unusable }
        do {
            try sandbox.cardChangePIN(serial: serial, new: new)
            return .done([])
        } catch let error as SandboxError where error.code == "pin-locked" {
            return .locked
        } catch is DomainError {
            return .badData
        }
    }

    public func sign(_ kind: CertificateKind, digestInfo: [UInt8]) throws -> CardActionOutcome {
        guard let serial = try serial(kind) else { return .unusable }
        do {
            return .done(try sandbox.cardSign(serial: serial, digestInfo: digestInfo))
        } catch let refusal as CardSignRefusal {
            switch refusal {
            case .certificateUnusable: return .unusable
            case .pinLocked: return .locked
            case .badInput: return .badData
            }
        }
    }
}
