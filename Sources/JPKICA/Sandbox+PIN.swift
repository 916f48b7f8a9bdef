import Foundation
import JPKIDomain
import JPKIStore

/// The answer to a PIN check, as the card gives it: success, and the tries left.
public struct PINResult: Sendable {
    public let serial: String
    public let ok: Bool
    public let triesLeft: Int
    public let locked: Bool
}

extension Sandbox {
    /// Checks a PIN like the card: a wrong one costs a try (5 for signing, 3 for authentication), a
    /// right one resets the count, a locked certificate stays locked until `pin reset` (004).
    /// The count is committed before this returns.
    public func verifyPIN(serial: String, pin: String, operation: String = "pin.verify") throws -> PINResult {
        let record = try certificate(serial: serial)
        let max = PINPolicy.maxFailures(record.kind)
        if record.locked {
            let now = try now()
            try store.write { tx in
                try Audit.append(tx, at: now, operation: operation, applicant: nil, residentID: record.residentID, serials: [record.serial],
                                 fee: 0, outcome: "locked", detail: "PIN locked after \(max) failures")
            }
            return PINResult(serial: record.serial, ok: false, triesLeft: 0, locked: true)
        }
        let ok = try pinMatches(pin, record.pin)
        let failures = ok ? 0 : record.pinFailures + 1
        let now = try now()
        try store.write { tx in
            // Re-read inside the transaction so two concurrent wrong PINs both count.
            let current = try tx.certificate(serial: record.serial)?.pinFailures ?? record.pinFailures
            let newFailures = ok ? 0 : current + 1
            try tx.setPINFailures(record.serial, newFailures)
            try Audit.append(tx, at: now, operation: operation, applicant: nil, residentID: record.residentID, serials: [record.serial],
                             fee: 0, outcome: ok ? "ok" : (newFailures >= max ? "locked" : "wrong-pin"),
                             detail: "tries left \(Swift.max(0, max - newFailures))")
        }
        return PINResult(serial: record.serial, ok: ok, triesLeft: Swift.max(0, max - failures), locked: failures >= max)
    }

    /// 暗証番号の変更: needs the current PIN (a wrong one costs a try).
    public func changePIN(serial: String, current: String, new: String) throws -> PINResult {
        let record = try certificate(serial: serial)
        try PINPolicy.validate(new, for: record.kind)
        let check = try verifyPIN(serial: serial, pin: current, operation: "pin.change")
        guard check.ok else { return check }
        let hash = try hashPIN(new)
        let now = try now()
        try store.write { tx in
            try tx.setPIN(record.serial, hash)
            try Audit.append(tx, at: now, operation: "pin.change", applicant: "self", residentID: record.residentID, serials: [record.serial],
                             fee: 0, outcome: "ok", detail: "")
        }
        return check
    }

    /// 暗証番号の初期化・再設定 at the window: a new PIN and the lock cleared (004).
    public func resetPIN(serial: String, new: String, applicant: Applicant = .self) throws -> PINResult {
        let record = try certificate(serial: serial)
        let resident = try resident(id: record.residentID)
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
