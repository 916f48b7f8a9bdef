import Foundation
import JPKIDomain
import JPKIStore

/// The answer to a PIN check, as the card gives it: success, and the tries left.
public struct PINResult: Sendable {
    public let serial: String
    public let ok: Bool
    public let triesLeft: Int
    public let locked: Bool
    /// The PIN was already locked before this try: nothing was compared or counted (a card answers
    /// "blocked" rather than the "no tries left" of the try that locks).
    public var wasLocked = false
}

extension Sandbox {
    /// Checks a PIN like the card: a wrong one costs a try (5 for signing, 3 for authentication), a
    /// right one resets the count, a locked certificate stays locked until `pin reset` (004).
    ///
    /// The lock check, the count and the decision are one step: they happen in one write transaction
    /// (BEGIN IMMEDIATE, so writers in every process queue behind it) against the row as it is then.
    /// The slow PBKDF2 comparison runs before, outside the lock, against the hash read earlier; the
    /// transaction only accepts that comparison if the stored hash is still the same one (a `pin reset`
    /// or `pin change` in between makes it compare again). So however many guesses run at once,
    /// exactly `maxFailures` wrong ones are counted, every later one is answered "locked", and a right
    /// PIN that arrives after the lock is refused.
    ///
    /// - `check` runs first inside the transaction (the certificate's status for `sign`): a throw
    ///   refuses without costing a try.
    /// - `onSuccess` runs inside the same transaction when the PIN matched (`pin change` stores the
    ///   new PIN there). The count is committed before this returns.
    public func verifyPIN(serial: String, pin: String, operation: String = "pin.verify",
                          check: ((Transaction, CertificateRecord) throws -> Void)? = nil,
                          onSuccess: ((Transaction, CertificateRecord, Date) throws -> Void)? = nil) throws -> PINResult {
        var record = try certificate(serial: serial)
        let max = PINPolicy.maxFailures(record.kind)
        while true {
            // Evaluated against the hash as read; a locked PIN is not even compared.
            let compared = record.pin
            let matched: Bool? = record.locked ? nil : try pinMatches(pin, compared)
            let now = try now()
            let outcome: PINResult? = try store.write { tx in
                guard let current = try tx.certificate(serial: record.serial) else {
                    throw SandboxError.notFound("certificate \(record.serial) is gone")
                }
                try check?(tx, current)
                if current.locked {
                    try Audit.append(tx, at: now, operation: operation, applicant: nil, residentID: current.residentID, serials: [current.serial],
                                     fee: 0, outcome: "locked", detail: "PIN locked after \(max) failures")
                    return PINResult(serial: current.serial, ok: false, triesLeft: 0, locked: true, wasLocked: true)
                }
                // Compared against another hash (reset or changed meanwhile), or not compared: again.
                guard current.pin == compared, let matched else { return nil }
                let failures = matched ? 0 : current.pinFailures + 1
                if failures != current.pinFailures { try tx.setPINFailures(current.serial, failures) }
                if matched, let onSuccess {
                    try onSuccess(tx, current, now)
                } else {
                    try Audit.append(tx, at: now, operation: operation, applicant: nil, residentID: current.residentID, serials: [current.serial],
                                     fee: 0, outcome: matched ? "ok" : (failures >= max ? "locked" : "wrong-pin"),
                                     detail: "tries left \(Swift.max(0, max - failures))")
                }
                return PINResult(serial: current.serial, ok: matched, triesLeft: Swift.max(0, max - failures), locked: failures >= max)
            }
            if let outcome { return outcome }
            record = try certificate(serial: record.serial)
        }
    }

    /// 暗証番号の変更: needs the current PIN (a wrong one costs a try). The new PIN is stored in the
    /// transaction that accepts the current one.
    public func changePIN(serial: String, current: String, new: String) throws -> PINResult {
        let record = try certificate(serial: serial)
        try PINPolicy.validate(new, for: record.kind)
        let hash = try hashPIN(new)
        return try verifyPIN(serial: record.serial, pin: current, operation: "pin.change", onSuccess: { tx, current, now in
            try tx.setPIN(current.serial, hash)
            try Audit.append(tx, at: now, operation: "pin.change", applicant: "self", residentID: current.residentID, serials: [current.serial],
                             fee: 0, outcome: "ok", detail: "")
        })
    }

    /// 暗証番号の初期化・再設定 at the window: a new PIN and the lock cleared (004).
    public func resetPIN(serial: String, new: String, applicant: Applicant = .self) throws -> PINResult {
        let record = try certificate(serial: serial)
        let resident = try resident(id: record.residentID)
        if record.form.isPhone, let phone = record.phoneID {
            // A phone PIN is reset from the phone with the card and its signing PIN (digest [high]).
            throw refusal("pin.reset", applicant: applicant, residentID: record.residentID, serials: [record.serial],
                          "\(record.serial) is a smartphone certificate: its PIN is reset with the card, `phone reset-pin \(phone) --kind \(record.kind.rawValue) --card-sign-pin P --new-pin N`")
        }
        try checkApplicant(applicant, resident: resident, today: LocalDate(try now()), operation: "pin.reset")
        try PINPolicy.validate(new, for: record.kind)
        let hash = try hashPIN(new)
        let now = try now()
        try store.write { tx in
            try tx.setPIN(record.serial, hash)
            try Audit.append(tx, at: now, operation: "pin.reset", applicant: applicant.rawValue, residentID: record.residentID,
                             serials: [record.serial], fee: 0, outcome: "ok", detail: "")
        }
        return PINResult(serial: record.serial, ok: true, triesLeft: PINPolicy.maxFailures(record.kind), locked: false)
    }
}
