import Foundation
import OpenSSLKit

/// Where the card's new key pairs come from. The card makes its own in reality; here key generation
/// is the slow part of issuance (about 50–150 ms for RSA-2048), so it can be done ahead of time.
public protocol KeySource: Sendable {
    func nextKey() throws -> PrivateKey
}

/// Generates each key when it is asked for.
public struct FreshKeys: KeySource {
    public init() {}
    public func nextKey() throws -> PrivateKey { try PrivateKey.generateRSA(bits: 2048) }
}

/// Keys generated in advance, on every core, handed out once each; when empty it generates on demand.
public final class KeyPool: KeySource, @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [PrivateKey] = []

    public init() {}

    /// Generates `count` RSA-2048 keys on `threads` threads (default: all cores) and adds them to the pool.
    public func fill(_ count: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        let perThread = (count + threads - 1) / max(threads, 1)
        let results = UnsafeMutableBufferPointer<[PrivateKey]>.allocate(capacity: threads)
        results.initialize(repeating: [])
        defer { results.deinitialize(); results.deallocate() }
        let failures = NSLock()
        nonisolated(unsafe) var failure: (any Error)?
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let n = min(perThread, max(0, count - t * perThread))
            var made: [PrivateKey] = []
            made.reserveCapacity(n)
            do {
                for _ in 0..<n { made.append(try PrivateKey.generateRSA(bits: 2048)) }
            } catch {
                failures.lock(); failure = error; failures.unlock()
            }
            slots[t] = made
        }
        if let failure { throw failure }
        lock.lock(); defer { lock.unlock() }
        for made in results { keys.append(contentsOf: made) }
    }

    public var count: Int { lock.lock(); defer { lock.unlock() }; return keys.count }

    public func nextKey() throws -> PrivateKey {
        lock.lock()
        if let key = keys.popLast() { lock.unlock(); return key }
        lock.unlock()
        return try PrivateKey.generateRSA(bits: 2048)
    }
}
