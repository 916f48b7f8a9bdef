import Foundation
import JPKIDomain
import JPKIStore

/// What `cert renew` and `cert issue` made.
public struct CertificateIssuance: Sendable {
    public let certificate: CertificateRecord
    public let limit: LastValidDay
    /// The serial revoked as superseded (renewal inside the window), if any.
    public let revoked: String?
    public let fee: Int
}

extension Sandbox {
    /// The validity a new certificate of `kind` gets on `card` today (004), bounded as at issuance.
    func certificateLimit(_ kind: CertificateKind, resident: Resident, card: CardRecord, today: LocalDate, renewal: Bool, tx: Transaction) throws -> LastValidDay {
        let cardLimit = LastValidDay(day: LocalDate(card.notAfter), limit: .card)
        var authLimit: LastValidDay?
        if kind == .sign, let auth = try tx.certificates(cardID: card.id).first(where: { $0.kind == .auth && $0.state != .revoked && LocalDate($0.notAfter) >= today }) {
            authLimit = LastValidDay(day: LocalDate(auth.notAfter), limit: .authenticationCertificate)
        }
        return ValidityRule.certificate(kind: kind, birth: resident.dateOfBirth, issuedOn: today, renewal: renewal, card: cardLimit,
                                        authentication: authLimit, residenceUntil: resident.residenceUntil)
    }

    /// 更新 (cert renew): from three months before expiry until the last valid day, a new key pair and a
    /// certificate to the 6th birthday after issuance; the old one is revoked as superseded in the same
    /// transaction. After expiry, a new certificate (5th birthday) while the card is valid (002, 004).
    public func renewCertificate(serial: String, newPIN: String? = nil, applicant: Applicant = .self) throws -> CertificateIssuance {
        let old = try certificate(serial: serial)
        let resident = try resident(id: old.residentID)
        let card = try card(id: old.cardID)
        let now = try now()
        let today = LocalDate(now)
        try checkApplicant(applicant, resident: resident, today: today, operation: "cert.renew")
        if old.form.isPhone {
            throw refusal("cert.renew", applicant: applicant, residentID: old.residentID, serials: [old.serial],
                          "certificate \(old.serial) is a smartphone certificate (phone \(old.phoneID.map(String.init) ?? "?")); it is not renewed at the window: apply again from the phone with `phone issue --card \(old.cardID)`")
        }
        guard old.state == .issued else {
            throw refusal("cert.renew", applicant: applicant, residentID: old.residentID, serials: [old.serial],
                          "certificate \(old.serial) is \(old.status(at: now)); a revoked or suspended certificate is not renewed (apply for a new one with `cert issue --card \(old.cardID) --kind \(old.kind.rawValue)`, or resume the card)")
        }
        let position = RenewalWindow.position(today: today, lastValidDay: LocalDate(old.notAfter))
        if case .beforeWindow(let opens) = position {
            throw refusal("cert.renew", applicant: applicant, residentID: old.residentID, serials: [old.serial],
                          "certificate \(old.serial) expires on \(LocalDate(old.notAfter)); renewal opens on \(opens), three months before (seed 004: 5月26日が有効期限の場合は、2月27日から)")
        }
        return try issueOnCard(card, kind: old.kind, resident: resident, pin: newPIN, carriedPIN: old.pin, applicant: applicant,
                               replacing: position == .inWindow ? old : nil, operation: "cert.renew")
    }

    /// 発行 on an existing card (cert issue): after a move revoked the signing certificate, after expiry,
    /// or after a revocation; only while the card is valid and no valid certificate of the kind is on it.
    public func issueCertificate(cardID: Int64, kind: CertificateKind, pin: String, applicant: Applicant = .self) throws -> CertificateIssuance {
        let card = try card(id: cardID)
        let resident = try resident(id: card.residentID)
        let now = try now()
        try checkApplicant(applicant, resident: resident, today: LocalDate(now), operation: "cert.issue")
        let current = try store.read { try $0.certificates(cardID: cardID) }.filter { $0.kind == kind && $0.state != .revoked && $0.notAfter >= now }
        if let c = current.first {
            throw refusal("cert.issue", applicant: applicant, residentID: card.residentID, serials: [c.serial],
                          "card \(cardID) already has a \(c.status(at: now)) \(kind.englishName) (\(c.serial)); renew it with `cert renew \(c.serial)` when its window opens")
        }
        try PINPolicy.validate(pin, for: kind)
        return try issueOnCard(card, kind: kind, resident: resident, pin: pin, carriedPIN: nil, applicant: applicant, replacing: nil, operation: "cert.issue")
    }

    private func issueOnCard(_ card: CardRecord, kind: CertificateKind, resident: Resident, pin: String?, carriedPIN: PINHash?,
                             applicant: Applicant, replacing old: CertificateRecord?, operation: String) throws -> CertificateIssuance {
        let now = try now()
        let today = LocalDate(now)
        guard card.status == .active, card.notAfter >= now else {
            throw refusal(operation, applicant: applicant, residentID: resident.id,
                          "card \(card.id) is \(card.notAfter < now ? "expired" : card.status.rawValue); certificates are issued only on a valid card (000, 003)")
        }
        if let why = Eligibility.refusal(for: kind, birth: resident.dateOfBirth, adultWard: resident.adultWard, on: today) {
            throw refusal(operation, applicant: applicant, residentID: resident.id, why)
        }
        if let pin { try PINPolicy.validate(pin, for: kind) }
        let pinHash: PINHash
        if let pin { pinHash = try hashPIN(pin) } else if let carriedPIN { pinHash = carriedPIN } else {
            throw SandboxError.invalid("give the new certificate's PIN with --pin")
        }
        let limit = try store.read { try certificateLimit(kind, resident: resident, card: card, today: today, renewal: old != nil, tx: $0) }
        let minted = try mint(kind, resident: resident, cardID: card.id, pin: pinHash, notBefore: now, limit: limit)
        // Renewal is free (004); a certificate reissued because the card was lost costs 200 yen (002, 004).
        let lostBefore = old == nil && operation == "cert.issue" ? try store.read { try $0.certificateLostBefore(cardID: card.id, kind: kind) } : false
        let fee = lostBefore ? WindowRule.certificateReissueAfterLoss : 0
        let result = try store.write { tx in
            var phoneRevoked: [String] = []
            if let old {
                try tx.setCertificateState(old.serial, .revoked, reason: RevocationReason.superseded.rawValue, at: now)
                phoneRevoked = try cardRenewalReachesPhones(tx, cardID: card.id, kinds: [old.kind], at: now)
            }
            try tx.insertCertificate(minted)
            try Audit.append(tx, at: now, operation: operation, applicant: applicant.rawValue, residentID: resident.id,
                             serials: [minted.serial] + (old.map { [$0.serial] } ?? []) + phoneRevoked, fee: fee, outcome: "ok",
                             detail: "\(kind.rawValue) on card \(card.id) to \(limit.day) (\(limit.limit.rawValue))" + (old.map { "; supersedes \($0.serial)" } ?? ""))
            return CertificateIssuance(certificate: minted, limit: limit, revoked: old?.serial, fee: fee)
        }
        return result
    }
}
