import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// What `keys fill` did, or the pool's state (`keys status`).
public struct KeyPoolResource: Sendable, Codable {
    public let added: Int
    public let available: Int
    public let seconds: Double
    public let keysPerSecond: Double
}

extension Sandbox {
    /// The most keys the pool holds: `keys fill` and `serve` stop there.
    public static let keyPoolLimit = 1_000_000

    /// Keys in the persistent pool (made in advance, not yet used).
    public func keyPoolCount() throws -> Int { try store.read { try $0.poolKeyCount() } }

    /// `keys status`.
    public func keyPoolStatus() throws -> KeyPoolResource {
        KeyPoolResource(added: 0, available: try keyPoolCount(), seconds: 0, keysPerSecond: 0)
    }

    /// `keys fill --count N`: makes N RSA-2048 key pairs on `threads` threads (default: every core)
    /// and stores them in the pool, in chunks of `chunk` keys (one transaction each, so an interrupt
    /// keeps what was made). Keys are stored as certificates store theirs (PEM in the owner-only database).
    public func fillKeyPool(count: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount, chunk: Int = 64,
                            progress: (Int) -> Void = { _ in }) throws -> KeyPoolResource {
        guard count >= 0 else { throw SandboxError.invalid("--count must be 0 or more") }
        let available = try keyPoolCount()
        guard available + count <= Self.keyPoolLimit else {
            throw SandboxError.invalid("the pool holds \(available) keys; at most \(Self.keyPoolLimit) are kept")
        }
        let started = Date()
        var added = 0
        while added < count {
            let n = min(chunk, count - added)
            let pems = try Self.generateKeyPEMs(n, threads: threads)
            let now = try now()
            try store.write { tx in
                try tx.addPoolKeys(pems, at: now)
                try Audit.append(tx, at: now, operation: "keys.fill", applicant: nil, residentID: nil, serials: [], fee: 0,
                                 outcome: "ok", detail: "\(pems.count) keys added to the pool")
            }
            added += n
            progress(added)
        }
        let seconds = Date().timeIntervalSince(started)
        return KeyPoolResource(added: added, available: try keyPoolCount(), seconds: seconds,
                               keysPerSecond: Double(added) / max(seconds, 0.001))
    }

    /// Background filling (`serve`): one chunk of a few keys, made on one low-priority thread, while
    /// the pool has fewer than `target`; nothing is audited (the pool is not part of the register).
    /// Returns how many keys were added.
    public func topUpKeyPool(target: Int, chunk: Int = 4) throws -> Int {
        let available = try keyPoolCount()
        guard available < target else { return 0 }
        let pems = try Self.generateKeyPEMs(min(chunk, target - available), threads: 1)
        let now = try now()
        try store.write { tx in try tx.addPoolKeys(pems, at: now) }
        return pems.count
    }

    static func generateKeyPEMs(_ count: Int, threads: Int) throws -> [String] {
        final class Slots: @unchecked Sendable {
            var results: [Result<String, any Error>?]
            init(_ n: Int) { results = Array(repeating: nil, count: n) }
        }
        let slots = Slots(count)
        let lock = NSLock()
        if threads <= 1 {
            for i in 0..<count { slots.results[i] = Result { try PrivateKey.generateRSA(bits: 2048).pem() } }
        } else {
            DispatchQueue.concurrentPerform(iterations: count) { i in
                let r = Result { try PrivateKey.generateRSA(bits: 2048).pem() }
                lock.lock(); slots.results[i] = r; lock.unlock()
            }
        }
        return try slots.results.map { try $0!.get() }
    }

    /// The refusal for a certificate whose key other certificates share (`populate --shared-keys`):
    /// such a key proves nothing, so neither `sign` nor the virtual card uses it. Inside the caller's
    /// transaction, with the other checks.
    static func checkOwnKey(_ tx: Transaction, serial: String) throws {
        if let index = try tx.sharedKeyIndex(serial: serial) {
            throw SandboxError("shared-key", "certificate \(serial) was made by `populate --shared-keys` with shared key #\(index): its key is not its own, so it never signs")
        }
    }
}

extension Sandbox {
    /// What `cert show` says of a certificate with a shared key; nil for a key of its own.
    public func sharedKeyNote(serial: String) throws -> String? {
        try store.read { try $0.sharedKeyIndex(serial: serial) }.map {
            "shared key #\($0) (populate --shared-keys): other certificates have the same key; sign and the virtual card refuse it"
        }
    }
}
