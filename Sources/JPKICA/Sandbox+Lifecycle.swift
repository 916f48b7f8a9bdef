import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

extension Sandbox {
    // MARK: Refusals

    /// Records a refused operation in the audit log (its only trace) and returns the error to throw.
    func refusal(_ operation: String, applicant: Applicant?, residentID: Int64?, serials: [String] = [], _ message: String) -> SandboxError {
        do {
            let now = try now()
            try store.write { tx in
                try Audit.append(tx, at: now, operation: operation, applicant: applicant?.rawValue, residentID: residentID,
                                 serials: serials, fee: 0, outcome: "refused", detail: message)
            }
        } catch {
            logger.error("could not audit a refusal", metadata: ["error": "\(error)"])
        }
        return SandboxError.refused(message)
    }

    // MARK: Revocation

    /// 失効: revokes one certificate (cert revoke).
    public func revokeCertificate(serial text: String, reason: RevocationReason, applicant: Applicant = .self) throws -> CertificateRecord {
        try revokeCertificate(serial: text, request: RevocationRequest(reason: reason), applicant: applicant)
    }

    public func revokeCertificate(serial text: String, request: RevocationRequest, applicant: Applicant = .self) throws -> CertificateRecord {
        let reason = request.reason
        let record = try certificate(serial: text)
        try checkApplicant(applicant, resident: try resident(id: record.residentID), today: LocalDate(try now()), operation: "cert.revoke")
        if reason == .certificateHold {
            if record.form.isPhone, let phone = record.phoneID {
                throw SandboxError.invalid("certificateHold is a suspension of the whole phone: use `jpki-sandbox phone suspend \(phone)`")
            }
            throw SandboxError.invalid("certificateHold is a suspension of the whole card: use `jpki-sandbox card suspend \(record.cardID)`")
        }
        if record.state == .revoked {
            throw refusal("cert.revoke", applicant: applicant, residentID: record.residentID, serials: [record.serial],
                          "certificate \(record.serial) was already revoked on \(record.revokedAt.map(ISOTime.display) ?? "?") (\(record.reason ?? "?")); nothing changed")
        }
        let now = try now()
        let updated = try store.write { tx in
            guard try tx.certificate(serial: record.serial)?.state != .revoked else {
                throw SandboxError.refused("certificate \(record.serial) was revoked by another command a moment ago; nothing changed")
            }
            try tx.setCertificateState(record.serial, .revoked, reason: reason.rawValue, at: now)
            try tx.setRevocationEvent(record.serial, request.event)
            if let phone = record.phoneID { try settlePhone(tx, phoneID: phone, reason: reason.rawValue, at: now) }
            try Audit.append(tx, at: now, operation: "cert.revoke", applicant: applicant.rawValue, residentID: record.residentID,
                             serials: [record.serial], fee: 0, outcome: "ok", detail: reason.rawValue + (request.event.map { " (\($0))" } ?? ""))
            return try tx.certificate(serial: record.serial)!
        }
        return updated
    }

    // MARK: Cards

    /// 一時停止: puts every good certificate of the card on hold (certificateHold).
    public func suspendCard(id: Int64, applicant: Applicant = .self) throws -> (CardRecord, [CertificateRecord]) {
        let card = try card(id: id)
        guard card.status == .active else {
            throw refusal("card.suspend", applicant: applicant, residentID: card.residentID,
                          "card \(id) is \(card.status.rawValue); only an active card can be suspended")
        }
        return try changeCard(card, to: .suspended, operation: "card.suspend", applicant: applicant, detail: "card \(id)") { cert, now in
            cert.state == .issued && cert.notAfter >= now ? (.hold, RevocationReason.certificateHold.rawValue) : nil
        }
    }

    /// One transaction for a card's status and its certificates' states, audited; listeners told after the commit.
    /// `transition` says what each certificate becomes (nil: unchanged).
    private func changeCard(_ card: CardRecord, to status: CardRecord.Status, operation: String, applicant: Applicant, detail: String,
                            event: String? = nil, transition: (CertificateRecord, Date) -> (CertificateRecord.State, String?)?) throws -> (CardRecord, [CertificateRecord]) {
        let now = try now()
        let result = try store.write { tx in
            var changed: [String] = []
            for cert in try tx.certificates(cardID: card.id) {
                guard let (state, reason) = transition(cert, now) else { continue }
                try tx.setCertificateState(cert.serial, state, reason: reason, at: state == .issued ? nil : now)
                if state == .revoked { try tx.setRevocationEvent(cert.serial, event) }
                changed.append(cert.serial)
            }
            // The phones issued from the card (Sandbox+Phone.swift says what follows the card).
            changed += try cardChangeReachesPhones(tx, card: card, to: status, at: now, event: event, transition: transition)
            try tx.setCardStatus(card.id, status, at: now)
            try Audit.append(tx, at: now, operation: operation, applicant: applicant.rawValue, residentID: card.residentID,
                             serials: changed, fee: 0, outcome: "ok", detail: detail)
            return (try tx.card(id: card.id)!, try tx.certificates(cardID: card.id), changed)
        }
        return (result.0, result.1)
    }

    /// 一時停止解除: at the window with the card and a PIN of either certificate (002).
    public func resumeCard(id: Int64, pin: String, applicant: Applicant = .self) throws -> (CardRecord, [CertificateRecord]) {
        let card = try card(id: id)
        try checkApplicant(applicant, resident: try resident(id: card.residentID), today: LocalDate(try now()), operation: "card.resume")
        guard card.status == .suspended else {
            throw refusal("card.resume", applicant: applicant, residentID: card.residentID, "card \(id) is \(card.status.rawValue), not suspended")
        }
        // A 4-digit PIN is the authentication PIN; anything else is the signing PIN. It is checked as
        // the card checks it: a wrong one costs a try, a locked certificate's PIN releases nothing.
        let certs = try store.read { try $0.certificates(cardID: id) }
        let kind: CertificateKind = (pin.count == 4 && pin.allSatisfy(\.isASCII) && pin.allSatisfy(\.isNumber)) ? .auth : .sign
        guard let target = certs.filter({ $0.kind == kind && $0.state == .hold }).last else {
            throw refusal("card.resume", applicant: applicant, residentID: card.residentID,
                          "card \(id) has no suspended \(kind.englishName) to check that PIN against")
        }
        let check = try verifyPIN(serial: target.serial, pin: pin, operation: "card.resume")
        guard check.ok else {
            throw refusal("card.resume", applicant: applicant, residentID: card.residentID, serials: [target.serial],
                          check.locked ? "the \(kind.englishName)'s PIN is locked; reset it at the window (`pin reset \(target.serial)`) first; the suspension stays"
                                       : "wrong PIN (\(check.triesLeft) tries left); the suspension stays")
        }
        return try changeCard(card, to: .active, operation: "card.resume", applicant: applicant, detail: "card \(id)") { cert, _ in
            cert.state == .hold ? (.issued, nil) : nil
        }
    }

    /// 廃止: the card is given up; both certificates are revoked.
    public func revokeCard(id: Int64, reason: RevocationReason = .cessationOfOperation, applicant: Applicant = .self) throws -> (CardRecord, [CertificateRecord]) {
        try revokeCard(id: id, request: RevocationRequest(reason: reason), applicant: applicant)
    }

    public func revokeCard(id: Int64, request: RevocationRequest, applicant: Applicant = .self) throws -> (CardRecord, [CertificateRecord]) {
        let reason = request.reason
        let card = try card(id: id)
        try checkApplicant(applicant, resident: try resident(id: card.residentID), today: LocalDate(try now()), operation: "card.revoke")
        guard card.status != .revoked else {
            throw refusal("card.revoke", applicant: applicant, residentID: card.residentID, "card \(id) is already revoked")
        }
        let applied = reason == .certificateHold ? RevocationReason.cessationOfOperation : reason
        return try changeCard(card, to: .revoked, operation: "card.revoke", applicant: applicant,
                              detail: "card \(id): \(applied.rawValue)" + (request.event.map { " (\($0))" } ?? ""), event: request.event) { cert, _ in
            cert.state != .revoked ? (.revoked, applied.rawValue) : nil
        }
    }

    func pinMatches(_ pin: String, _ stored: PINHash) throws -> Bool {
        let hash = try Crypto.pbkdf2SHA256(password: pin, salt: stored.salt, iterations: stored.iterations, length: stored.hash.count)
        return Crypto.constantTimeEqual(hash, stored.hash)
    }

    // MARK: Clock

    /// Sets the persisted clock so that it reads `instant` now and runs on from there.
    public func setClock(to instant: Date) throws -> Date {
        _ = try SupportedDates.instant(instant, what: "the sandbox clock")
        // Not rounded: `now()` floors to whole seconds, so the clock reads `instant` from this moment on.
        let offset = instant.timeIntervalSinceNow
        try store.write { tx in
            try tx.setMeta(Self.clockOffsetKey, offset == 0 ? nil : String(offset))
            try Audit.append(tx, at: instant, operation: "clock.set", applicant: nil, residentID: nil, serials: [], fee: 0,
                             outcome: "ok", detail: ISOTime.storage(instant))
        }
        return instant
    }

    /// `clock advance`: the clock moved on by a duration as testers type it (`1d`, `3m`, `P1Y`); the admin API
    /// and the console call this.
    public func advanceClock(by duration: String) throws -> Date {
        try setClock(to: try SandboxDuration(parsing: duration).added(to: try now()))
    }

    /// Back to real time.
    public func resetClock() throws -> Date {
        try store.write { tx in
            try tx.setMeta(Self.clockOffsetKey, nil)
            try Audit.append(tx, at: Date(), operation: "clock.reset", applicant: nil, residentID: nil, serials: [], fee: 0, outcome: "ok", detail: "")
        }
        return Date()
    }
}

/// A duration as testers type it: `90d`, `3m` (months), `1y`, `2w`, `12h`, `30min`, or ISO 8601 `P1Y2M3DT4H`.
public struct SandboxDuration: Sendable, Equatable {
    public var years = 0, months = 0, days = 0, seconds = 0

    public init(parsing text: String) throws(DomainError) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("P") {
            var number = ""
            var inTime = false
            for c in t.dropFirst() {
                if c.isNumber { number.append(c); continue }
                if c == "T" { inTime = true; continue }
                guard let n = Int(number) else { throw .invalidInput("\"\(text)\" is not an ISO 8601 duration like P3M or P1DT2H") }
                number = ""
                switch (c, inTime) {
                case ("Y", false): years = try Self.sum(years, n, 1, text)
                case ("M", false): months = try Self.sum(months, n, 1, text)
                case ("W", false): days = try Self.sum(days, n, 7, text)
                case ("D", false): days = try Self.sum(days, n, 1, text)
                case ("H", true): seconds = try Self.sum(seconds, n, 3600, text)
                case ("M", true): seconds = try Self.sum(seconds, n, 60, text)
                case ("S", true): seconds = try Self.sum(seconds, n, 1, text)
                default: throw .invalidInput("\"\(text)\" is not an ISO 8601 duration like P3M or P1DT2H")
                }
            }
            guard number.isEmpty, t.count > 1 else { throw .invalidInput("\"\(text)\" is not an ISO 8601 duration like P3M or P1DT2H") }
            return
        }
        let digits = t.prefix(while: \.isNumber)
        guard let n = Int(digits) else { throw .invalidInput("\"\(text)\" is not a duration: use e.g. 90d, 3m, 1y, 2w, 12h, 30min or P3M") }
        switch t.dropFirst(digits.count).lowercased() {
        case "y": years = n
        case "m", "mo": months = n
        case "w": days = try Self.sum(0, n, 7, text)
        case "d": days = n
        case "h": seconds = try Self.sum(0, n, 3600, text)
        case "min": seconds = try Self.sum(0, n, 60, text)
        case "s": seconds = n
        default: throw .invalidInput("\"\(text)\" is not a duration: use e.g. 90d, 3m, 1y, 2w, 12h, 30min or P3M")
        }
    }

    /// `total + n × unit`, or an error when that does not fit (a duration nobody can mean).
    private static func sum(_ total: Int, _ n: Int, _ unit: Int, _ text: String) throws(DomainError) -> Int {
        let (product, o1) = n.multipliedReportingOverflow(by: unit)
        let (result, o2) = total.addingReportingOverflow(product)
        guard !o1, !o2 else { throw .badDate("\"\(text)\" is too long a duration") }
        return result
    }

    /// `date` moved forward by this duration on the Tokyo calendar; a `bad-date` error when the result
    /// leaves the range the sandbox clock may read (`SupportedDates`).
    public func added(to date: Date) throws(DomainError) -> Date {
        let limit = SupportedDates.lastDay.year - SupportedDates.firstDay.year + 1
        guard years <= limit, months / 12 <= limit, days / 366 <= limit, seconds / 31_622_400 <= limit,
              let moved = LocalDate.tokyo.date(byAdding: DateComponents(year: years, month: months, day: days, second: seconds), to: date)
        else {
            throw .badDate("moving the clock by \(years)y \(months)m \(days)d \(seconds)s leaves the supported range \(SupportedDates.firstDay) to \(SupportedDates.lastDay)")
        }
        return try SupportedDates.instant(moved, what: "the clock moved by that duration")
    }
}
