import Foundation
import JPKIDomain
import JPKIStore

/// A phone with its certificates, as `phone show` and `phone list` give it.
public struct PhoneDetails: Sendable {
    public let phone: PhoneRecord
    /// Oldest first: a phone released after a loss has its revoked signing certificate and the new one.
    public let certificates: [CertificateRecord]

    public init(phone: PhoneRecord, certificates: [CertificateRecord]) { self.phone = phone; self.certificates = certificates }
}

/// What `phone issue` and `phone resume` did.
public struct PhoneChange: Sendable {
    public let phone: PhoneRecord
    public let certificates: [CertificateRecord]
    /// Serials issued by the operation.
    public let issued: [String]
    /// Serials revoked by it (the previous phone's on a new phone; the held signing one on resume).
    public let revoked: [String]
    /// Phones the operation superseded (one phone per person).
    public let supersededPhones: [Int64]
}

/// スマホ用電子証明書: smartphone certificates (seed 001; the digest's "Smartphone certificates").
/// The same two kinds as the card's, under the same roots, with new keys, issued on the strength of a
/// good card signing certificate and its PIN. Every operation is one transaction with its audit entry.
extension Sandbox {
    // MARK: Issue

    /// `phone issue`: checks the card's signing PIN (a wrong one costs a try on the card's counter, as
    /// every wrong PIN does) and, in the transaction that accepts it, revokes the resident's previous
    /// phone (superseded: one phone per person) and stores the new phone with its two certificates.
    public func issuePhone(cardID: Int64, platform: PhonePlatform, cardSignPIN: String, signPIN: String, authPIN: String) throws -> PhoneChange {
        let card = try card(id: cardID)
        let resident = try resident(id: card.residentID)
        try PhonePolicy.validatePINs(sign: signPIN, auth: authPIN)
        let now = try now()
        let onCard = try store.read { try $0.certificates(cardID: cardID) }
        let cardSign = onCard.last { $0.kind == .sign }
        let cardAuth = onCard.last { $0.kind == .auth }
        if let why = PhonePolicy.issuanceRefusal(cardSigningStatus: cardSign?.status(at: now), cardStatus: cardStatusText(card, now)) {
            throw refusal("phone.issue", applicant: .self, residentID: card.residentID, serials: cardSign.map { [$0.serial] } ?? [], why)
        }
        guard let cardSign else { throw SandboxError.refused("card \(cardID) has no signing certificate") }
        guard let cardAuth, cardAuth.status(at: now) == "good" else {
            throw refusal("phone.issue", applicant: .self, residentID: card.residentID,
                          "the card's authentication certificate is \(cardAuth?.status(at: now) ?? "missing"); the phone's ends with it, so issue a new one on the card first (`cert issue --card \(cardID) --kind auth`)")
        }
        let hashes = try hashPINs([signPIN, authPIN])
        let form = platform.form
        let minted = [
            try mint(.sign, resident: resident, cardID: cardID, pin: hashes[0], notBefore: now,
                     limit: PhonePolicy.limit(cardCertificateNotAfter: cardSign.notAfter), form: form),
            try mint(.auth, resident: resident, cardID: cardID, pin: hashes[1], notBefore: now,
                     limit: PhonePolicy.limit(cardCertificateNotAfter: cardAuth.notAfter), form: form),
        ]
        var change: PhoneChange?
        let check = try verifyPIN(serial: cardSign.serial, pin: cardSignPIN, operation: "phone.issue", check: { _, current in
            // Checked again against the row as it is in this transaction.
            guard current.status(at: now) == "good" else {
                throw SandboxError.refused("the card's signing certificate is \(current.status(at: now)); smartphone certificates need a good one")
            }
        }, onSuccess: { tx, _, at in
            var revoked: [String] = []
            var superseded: [Int64] = []
            for old in try tx.phones(residentID: resident.id) where old.status != .revoked {
                revoked += try self.revokePhoneCertificates(tx, old, reason: PhonePolicy.supersededReason, at: at)
                superseded.append(old.id)
            }
            let phone = try tx.insertPhone(residentID: resident.id, cardID: cardID, platform: platform, at: at)
            var records: [CertificateRecord] = []
            for m in minted {
                var record = m
                record.phoneID = phone.id
                try tx.insertCertificate(record)
                records.append(record)
            }
            try Audit.append(tx, at: at, operation: "phone.issue", applicant: Applicant.`self`.rawValue, residentID: resident.id,
                             serials: records.map(\.serial) + revoked, fee: 0, outcome: "ok",
                             detail: "phone \(phone.id) (\(platform.rawValue)) from card \(cardID)"
                                + (superseded.isEmpty ? "" : "; supersedes phone \(superseded.map(String.init).joined(separator: ", "))"))
            change = PhoneChange(phone: phone, certificates: records, issued: records.map(\.serial), revoked: revoked, supersededPhones: superseded)
        })
        guard check.ok, let change else {
            throw refusal("phone.issue", applicant: .self, residentID: card.residentID, serials: [cardSign.serial],
                          check.locked ? "the card's signing PIN is locked; reset it at the window (`pin reset \(cardSign.serial)`) first"
                                       : "wrong card signing PIN (\(check.triesLeft) tries left on the card); no phone was issued")
        }
        return change
    }

    // MARK: Look up

    public func phone(id: Int64) throws -> PhoneDetails {
        try store.read { tx in
            guard let phone = try tx.phone(id: id) else {
                throw SandboxError.notFound("no phone with id \(id); `jpki-sandbox phone list` shows them")
            }
            return PhoneDetails(phone: phone, certificates: try tx.certificates(phoneID: id))
        }
    }

    /// What a phone's JPKI applet holds, shaped as a card's contents (`card` is the card it was issued
    /// from): per kind, the phone's newest certificate whatever its status.
    public func phoneContents(id: Int64) throws -> CardContents {
        try store.read { tx in
            guard let phone = try tx.phone(id: id), let card = try tx.card(id: phone.cardID) else {
                throw SandboxError.notFound("no phone with id \(id); `jpki-sandbox phone list` shows them")
            }
            var newest: [CertificateKind: CertificateRecord] = [:]
            for cert in try tx.certificates(phoneID: id) { newest[cert.kind] = cert }
            var roots: [CertificateKind: [UInt8]] = [:]
            for (kind, cert) in newest { roots[kind] = try (root(kind, generation: cert.rootGeneration) ?? root(kind)).certificate.der() }
            return CardContents(card: card, certificates: newest, roots: roots)
        }
    }

    public func phones(residentID: Int64? = nil, cardID: Int64? = nil) throws -> [PhoneDetails] {
        try store.read { tx in
            try tx.phones(residentID: residentID, cardID: cardID).map { PhoneDetails(phone: $0, certificates: try tx.certificates(phoneID: $0.id)) }
        }
    }

    // MARK: Revoke, suspend, resume

    /// `phone revoke`: both phone certificates are revoked (the card's stay as they are).
    public func revokePhone(id: Int64, request: RevocationRequest) throws -> PhoneDetails {
        let details = try phone(id: id)
        if request.reason == .certificateHold {
            throw SandboxError.invalid("certificateHold is a suspension: use `jpki-sandbox phone suspend \(id)`")
        }
        guard details.phone.status != .revoked else {
            throw refusal("phone.revoke", applicant: .self, residentID: details.phone.residentID,
                          "phone \(id) is already revoked (\(details.phone.reason ?? "?")); nothing changed")
        }
        let now = try now()
        return try store.write { tx in
            guard let phone = try tx.phone(id: id), phone.status != .revoked else {
                throw SandboxError.refused("phone \(id) was revoked by another command a moment ago; nothing changed")
            }
            let revoked = try revokePhoneCertificates(tx, phone, reason: request.reason, event: request.event, at: now)
            try Audit.append(tx, at: now, operation: "phone.revoke", applicant: Applicant.`self`.rawValue, residentID: phone.residentID,
                             serials: revoked, fee: 0, outcome: "ok",
                             detail: "phone \(id): \(request.reason.rawValue)" + (request.event.map { " (\($0))" } ?? ""))
            return PhoneDetails(phone: try tx.phone(id: id)!, certificates: try tx.certificates(phoneID: id))
        }
    }

    /// `phone suspend` (一時保留, a lost phone reported by phone): both phone certificates go on hold.
    public func suspendPhone(id: Int64) throws -> PhoneDetails {
        let details = try phone(id: id)
        guard details.phone.status == .active || details.phone.status == .heldWithCard else {
            throw refusal("phone.suspend", applicant: .self, residentID: details.phone.residentID,
                          "phone \(id) is \(details.phone.status.rawValue); only an active phone can be suspended")
        }
        let now = try now()
        return try store.write { tx in
            guard let phone = try tx.phone(id: id), phone.status == .active || phone.status == .heldWithCard else {
                throw SandboxError.refused("phone \(id) changed a moment ago; nothing changed")
            }
            var held: [String] = []
            for cert in try tx.certificates(phoneID: id) where cert.state == .issued && cert.notAfter >= now {
                try tx.setCertificateState(cert.serial, .hold, reason: RevocationReason.certificateHold.rawValue, at: now)
                held.append(cert.serial)
            }
            try tx.setPhoneStatus(id, .suspended, reason: nil, at: now)
            try Audit.append(tx, at: now, operation: "phone.suspend", applicant: Applicant.`self`.rawValue, residentID: phone.residentID,
                             serials: held, fee: 0, outcome: "ok", detail: "phone \(id)")
            return PhoneDetails(phone: try tx.phone(id: id)!, certificates: try tx.certificates(phoneID: id))
        }
    }

    /// `phone resume` (the lost phone found): as the J-LIS page says, the authentication certificate's
    /// hold is lifted, and the signing certificate is reissued: the held one is revoked (superseded)
    /// and a new one, with a new key, is issued on the strength of the card's signing certificate and
    /// its PIN, as at issuance. `signPIN` is the new certificate's PIN; nil keeps the phone's current one.
    public func resumePhone(id: Int64, cardSignPIN: String, signPIN: String?) throws -> PhoneChange {
        let details = try phone(id: id)
        let phone = details.phone
        guard phone.status == .suspended else {
            throw refusal("phone.resume", applicant: .self, residentID: phone.residentID, "phone \(id) is \(phone.status.rawValue), not suspended")
        }
        if let signPIN { try PINPolicy.validate(signPIN, for: .sign) }
        let card = try card(id: phone.cardID)
        let resident = try resident(id: phone.residentID)
        let now = try now()
        let cardSign = try store.read { try $0.certificates(cardID: card.id) }.last { $0.kind == .sign }
        if let why = PhonePolicy.issuanceRefusal(cardSigningStatus: cardSign?.status(at: now), cardStatus: cardStatusText(card, now)) {
            throw refusal("phone.resume", applicant: .self, residentID: phone.residentID,
                          why + "; the signing certificate cannot be reissued, so the phone stays suspended (or give it up: `phone revoke \(id)`)")
        }
        guard let cardSign else { throw SandboxError.refused("card \(card.id) has no signing certificate") }
        let oldSign = details.certificates.last { $0.kind == .sign }
        let pin: PINHash
        if let signPIN { pin = try hashPIN(signPIN) } else if let oldSign { pin = oldSign.pin } else {
            throw SandboxError.invalid("phone \(id) has no signing certificate to carry the PIN from: give the new one with --sign-pin")
        }
        let minted = try mint(.sign, resident: resident, cardID: card.id, pin: pin, notBefore: now,
                              limit: PhonePolicy.limit(cardCertificateNotAfter: cardSign.notAfter), form: phone.platform.form, phoneID: id)
        var change: PhoneChange?
        let check = try verifyPIN(serial: cardSign.serial, pin: cardSignPIN, operation: "phone.resume", check: { tx, current in
            guard current.status(at: now) == "good" else {
                throw SandboxError.refused("the card's signing certificate is \(current.status(at: now)); the phone's cannot be reissued")
            }
            guard try tx.phone(id: id)?.status == .suspended else {
                throw SandboxError.refused("phone \(id) changed a moment ago; nothing changed")
            }
        }, onSuccess: { tx, _, at in
            var released: [String] = [], revoked: [String] = []
            for cert in try tx.certificates(phoneID: id) where cert.state == .hold {
                if cert.kind == .auth {
                    try tx.setCertificateState(cert.serial, .issued, reason: nil, at: nil)
                    released.append(cert.serial)
                } else {
                    try tx.setCertificateState(cert.serial, .revoked, reason: PhonePolicy.resumeSigningReason.rawValue, at: at)
                    revoked.append(cert.serial)
                }
            }
            try tx.insertCertificate(minted)
            try tx.setPhoneStatus(id, .active, reason: nil, at: at)
            try Audit.append(tx, at: at, operation: "phone.resume", applicant: Applicant.`self`.rawValue, residentID: phone.residentID,
                             serials: [minted.serial] + released + revoked, fee: 0, outcome: "ok",
                             detail: "phone \(id): authentication released, signing reissued")
            change = PhoneChange(phone: try tx.phone(id: id)!, certificates: try tx.certificates(phoneID: id), issued: [minted.serial],
                                 revoked: revoked, supersededPhones: [])
        })
        guard check.ok, let change else {
            throw refusal("phone.resume", applicant: .self, residentID: phone.residentID, serials: [cardSign.serial],
                          check.locked ? "the card's signing PIN is locked; reset it at the window (`pin reset \(cardSign.serial)`) first; the phone stays suspended"
                                       : "wrong card signing PIN (\(check.triesLeft) tries left on the card); the phone stays suspended")
        }
        return change
    }

    // MARK: PIN reset

    /// A phone PIN forgotten or locked: reset from the phone with the card and its signing PIN
    /// (digest [high]: "a signing PIN reset needs the card and its signing PIN"; the sandbox asks the
    /// same for the authentication PIN). A wrong card PIN costs a try on the card. The new PIN is
    /// stored, and the phone certificate's counter cleared, in the transaction that accepts the card PIN.
    public func resetPhonePIN(id: Int64, kind: CertificateKind, cardSignPIN: String, newPIN: String) throws -> PINResult {
        let details = try phone(id: id)
        try PINPolicy.validate(newPIN, for: kind)
        guard details.phone.status != .revoked, let target = details.certificates.last(where: { $0.kind == kind && $0.state != .revoked }) else {
            throw refusal("phone.pin-reset", applicant: .self, residentID: details.phone.residentID,
                          "phone \(id) has no \(kind.englishName) that is not revoked; nothing to reset")
        }
        let card = try card(id: details.phone.cardID)
        let now = try now()
        let cardSign = try store.read { try $0.certificates(cardID: card.id) }.last { $0.kind == .sign }
        if let why = PhonePolicy.issuanceRefusal(cardSigningStatus: cardSign?.status(at: now), cardStatus: cardStatusText(card, now)) {
            throw refusal("phone.pin-reset", applicant: .self, residentID: details.phone.residentID, why)
        }
        guard let cardSign else { throw SandboxError.refused("card \(card.id) has no signing certificate") }
        let hash = try hashPIN(newPIN)
        let check = try verifyPIN(serial: cardSign.serial, pin: cardSignPIN, operation: "phone.pin-reset", onSuccess: { tx, _, at in
            try tx.setPIN(target.serial, hash)
            try Audit.append(tx, at: at, operation: "phone.pin-reset", applicant: Applicant.`self`.rawValue, residentID: target.residentID,
                             serials: [target.serial], fee: 0, outcome: "ok", detail: "phone \(id) \(kind.rawValue) PIN reset with the card")
        })
        guard check.ok else {
            throw refusal("phone.pin-reset", applicant: .self, residentID: details.phone.residentID, serials: [cardSign.serial],
                          check.locked ? "the card's signing PIN is locked; reset it at the window (`pin reset \(cardSign.serial)`) first"
                                       : "wrong card signing PIN (\(check.triesLeft) tries left on the card); the phone PIN was not reset")
        }
        return PINResult(serial: target.serial, ok: true, triesLeft: PINPolicy.maxFailures(kind), locked: false)
    }

    // MARK: What the card's changes do to its phones

    /// Inside a card's transaction (`card suspend`, `card resume`, `card revoke`): what happens to the
    /// phones issued from the card, and their certificates. `transition` is the card's own rule for
    /// each certificate. Returns the serials changed.
    ///
    /// - revoked (廃止): every phone of the card is revoked with the card's reason (the issue's rule).
    /// - suspended: the sandbox's choice, `[phone] on_card_suspend`: `keep` (default) leaves the phones
    ///   alone; `hold` holds the active ones with the card (`held-with-card`).
    /// - active (the card released): phones held with the card are released with it; a phone suspended
    ///   on its own stays suspended.
    func cardChangeReachesPhones(_ tx: Transaction, card: CardRecord, to status: CardRecord.Status, at now: Date, event: String?,
                                 transition: (CertificateRecord, Date) -> (CertificateRecord.State, String?)?) throws -> [String] {
        var changed: [String] = []
        for phone in try tx.phones(cardID: card.id) {
            let next: PhoneRecord.Status?
            switch status {
            case .revoked: next = phone.status == .revoked ? nil : .revoked
            case .suspended: next = config.effectivePhone.onCardSuspend == .hold && phone.status == .active ? .heldWithCard : nil
            case .active: next = phone.status == .heldWithCard ? .active : nil
            }
            guard let next else { continue }
            var reason: String?
            for cert in try tx.certificates(phoneID: phone.id) {
                guard let (state, r) = transition(cert, now) else { continue }
                try tx.setCertificateState(cert.serial, state, reason: r, at: state == .issued ? nil : now)
                if state == .revoked { try tx.setRevocationEvent(cert.serial, event); reason = r }
                changed.append(cert.serial)
            }
            try tx.setPhoneStatus(phone.id, next, reason: next == .revoked ? reason : nil, at: now)
        }
        return changed
    }

    /// Inside a renewal's transaction (`card renew`, `cert renew`): the sandbox's choice
    /// `[phone] on_card_renewal`: `revoke` (default) revokes the phone certificates of the renewed
    /// kinds as superseded (the phone is applied for again, digest [medium]); `keep` leaves them to
    /// their own end. A phone left with no live certificate is revoked.
    func cardRenewalReachesPhones(_ tx: Transaction, cardID: Int64, kinds: Set<CertificateKind>, at now: Date) throws -> [String] {
        guard config.effectivePhone.onCardRenewal == .revoke else { return [] }
        var revoked: [String] = []
        for phone in try tx.phones(cardID: cardID) where phone.status != .revoked {
            let certs = try tx.certificates(phoneID: phone.id)
            for cert in certs where kinds.contains(cert.kind) && cert.state != .revoked {
                try tx.setCertificateState(cert.serial, .revoked, reason: RevocationReason.superseded.rawValue, at: now)
                revoked.append(cert.serial)
            }
            try settlePhone(tx, phoneID: phone.id, reason: RevocationReason.superseded.rawValue, at: now)
        }
        return revoked
    }

    // MARK: Helpers

    /// Revokes every certificate of `phone` not yet revoked, and the phone; the serials revoked.
    func revokePhoneCertificates(_ tx: Transaction, _ phone: PhoneRecord, reason: RevocationReason, event: String? = nil, at now: Date) throws -> [String] {
        var revoked: [String] = []
        for cert in try tx.certificates(phoneID: phone.id) where cert.state != .revoked {
            try tx.setCertificateState(cert.serial, .revoked, reason: reason.rawValue, at: now)
            if let event { try tx.setRevocationEvent(cert.serial, event) }
            revoked.append(cert.serial)
        }
        try tx.setPhoneStatus(phone.id, .revoked, reason: reason.rawValue, at: now)
        return revoked
    }

    /// A phone none of whose certificates is left unrevoked (`cert revoke` of each, a renewal) is revoked.
    func settlePhone(_ tx: Transaction, phoneID: Int64, reason: String?, at now: Date) throws {
        guard let phone = try tx.phone(id: phoneID), phone.status != .revoked,
              try tx.certificates(phoneID: phoneID).allSatisfy({ $0.state == .revoked }) else { return }
        try tx.setPhoneStatus(phoneID, .revoked, reason: reason, at: now)
    }

    func cardStatusText(_ card: CardRecord, _ now: Date) -> String {
        card.status == .active && card.notAfter < now ? "expired" : card.status.rawValue
    }
}
