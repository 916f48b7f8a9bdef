import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// The append-only audit log. Each entry carries the SHA-256 of the entry before it, so an edit
/// anywhere breaks the chain from there on.
public enum Audit {
    public static let genesis = String(repeating: "0", count: 64)

    static func hash(_ entry: AuditEntry) -> String {
        Crypto.sha256(Array(entry.canonicalText.utf8)).hexString.lowercased()
    }

    /// Appends an entry inside the caller's transaction.
    public static func append(_ tx: Transaction, at sandboxTime: Date, operation: String, applicant: String?, residentID: Int64?,
                              serials: [String], fee: Int, outcome: String, detail: String) throws {
        var entry = AuditEntry(sandboxTime: ISOTime.storage(sandboxTime), realTime: ISOTime.storage(Date()), operation: operation,
                               applicant: applicant, residentID: residentID, serials: serials, fee: fee, outcome: outcome,
                               detail: detail, previousHash: try tx.lastAuditHash() ?? genesis, hash: "", actor: AuditActor.name)
        entry.hash = hash(entry)
        try tx.insertAudit(entry)
    }

    /// Checks the chain; nil when intact, else the first entry that does not match.
    public static func verify(_ entries: [AuditEntry]) -> (id: Int64, problem: String)? {
        var previous = genesis
        for e in entries {
            if e.previousHash != previous { return (e.id ?? 0, "its previous-hash does not match the entry before it") }
            if hash(e) != e.hash { return (e.id ?? 0, "its content does not match its hash (edited)") }
            previous = e.hash
        }
        return nil
    }
}

/// Who acts through a face that names its users: the admin API binds the token's name around each
/// call to the CA services (`AuditActor.$name.withValue(name) { … }`), and every audit entry written
/// meanwhile carries it. The CLI binds nothing (nil): its user is whoever holds the home.
public enum AuditActor {
    @TaskLocal public static var name: String?
}
