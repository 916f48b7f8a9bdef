import Foundation

/// Where a certificate's key lives: the My Number Card, or a smartphone's secure element
/// (スマホ用電子証明書, seed 001; the digest's "Smartphone certificates").
public enum CertificateForm: String, Sendable, Codable, CaseIterable {
    case card
    case android
    case iphone

    public var isPhone: Bool { self != .card }
}

/// The two phone platforms that can hold smartphone certificates.
public enum PhonePlatform: String, Sendable, Codable, CaseIterable {
    case android
    case iphone

    public var form: CertificateForm { self == .android ? .android : .iphone }

    public init(parsing text: String) throws(DomainError) {
        guard let p = PhonePlatform(rawValue: text.lowercased()) else {
            throw .invalidInput("--platform must be android or iphone, not \"\(text)\"")
        }
        self = p
    }
}

/// What the sandbox does to a phone's certificates when the card they were issued from changes in a
/// way no public source describes (jpki-domain.md: "what a move, a card suspension or the card's
/// revocation does to them: no source found"). The sandbox's choices, configurable in `[phone]`.
public struct PhoneConfiguration: Sendable, Codable, Hashable {
    /// What a card suspension (一時停止) does to the phone: keep it usable, or hold it with the card.
    public enum OnCardSuspend: String, Sendable, Codable, CaseIterable { case keep, hold }
    /// What a card renewal (`card renew`, or `cert renew` of the card's certificate) does to the phone
    /// certificate of the same kind: revoke it as superseded, or keep it to its own end.
    public enum OnCardRenewal: String, Sendable, Codable, CaseIterable { case revoke, keep }

    /// The phone signing certificate's policy OID (reported, unverified: jpki-domain.md).
    public var signPolicyOID: String
    /// The phone authentication certificate's policy OID (no source found; the sandbox's guess by
    /// analogy with the signing one).
    public var authPolicyOID: String
    public var onCardSuspend: OnCardSuspend
    public var onCardRenewal: OnCardRenewal

    public init(signPolicyOID: String, authPolicyOID: String, onCardSuspend: OnCardSuspend, onCardRenewal: OnCardRenewal) {
        self.signPolicyOID = signPolicyOID; self.authPolicyOID = authPolicyOID
        self.onCardSuspend = onCardSuspend; self.onCardRenewal = onCardRenewal
    }

    public func policyOID(_ kind: CertificateKind) -> String { kind == .sign ? signPolicyOID : authPolicyOID }

    /// The defaults (docs/operations.md "Smartphone certificates" says why each).
    public static let defaults = PhoneConfiguration(
        signPolicyOID: "1.2.392.200149.8.5.1.1.40", authPolicyOID: "1.2.392.200149.8.5.1.3.40",
        onCardSuspend: .keep, onCardRenewal: .revoke)
}

/// The rules of smartphone certificates, in one place (seed 001; digest "Smartphone certificates").
public enum PhonePolicy {
    /// The phone's PINs follow the card's rules (signing 6–16 of A–Z/0–9 locking after 5,
    /// authentication 4 digits locking after 3: digest [high]); they are the phone's own, with their
    /// own counters. One rule, `PINPolicy`, for card and phone alike.
    public static func validatePINs(sign: String, auth: String) throws(DomainError) {
        do { try PINPolicy.validate(sign, for: .sign) } catch { throw .invalidInput("for the phone, \(error.message)") }
        do { try PINPolicy.validate(auth, for: .auth) } catch { throw .invalidInput("for the phone, \(error.message)") }
    }

    public static func maxFailures(_ kind: CertificateKind) -> Int { PINPolicy.maxFailures(kind) }

    /// Validity: that of the card's corresponding certificate (digest [medium]).
    public static func limit(cardCertificateNotAfter: Date) -> LastValidDay {
        LastValidDay(day: LocalDate(cardCertificateNotAfter), limit: .cardCertificate)
    }

    /// Why a phone cannot be issued from this card signing certificate, or nil: issuance rests on a
    /// good card signing certificate (digest [high]) and its PIN, checked separately.
    /// `status` is the certificate's status now (`good`, `revoked`, `suspended`, `expired`, …).
    public static func issuanceRefusal(cardSigningStatus status: String?, cardStatus: String) -> String? {
        guard cardStatus == "active" else {
            return "the card is \(cardStatus); smartphone certificates are issued on the strength of a valid card (jpki-domain.md research)"
        }
        guard let status else {
            return "the card has no signing certificate; smartphone certificates are issued on the strength of the card's signing certificate (jpki-domain.md research)"
        }
        guard status == "good" else {
            return "the card's signing certificate is \(status); smartphone certificates need a good one (jpki-domain.md research)"
        }
        return nil
    }

    /// One phone per person (機種変更, digest [medium]): issuing on a new phone revokes the previous
    /// phone's certificates with this reason.
    public static let supersededReason = RevocationReason.superseded

    /// A change of basic details ends the phone signing certificate as it does the card's (seed 001:
    /// 氏名、生年月日、住所、性別のうちいずれか1つでも変更があった場合には、署名用電子証明書は失効).
    public static let basicDetailsChangeReason = RevocationReason.affiliationChanged

    /// The lost-phone release (J-LIS, digest [high]): the authentication certificate's hold is lifted;
    /// the signing certificate is revoked with this reason and a new one issued in its place.
    public static let resumeSigningReason = RevocationReason.superseded
}
