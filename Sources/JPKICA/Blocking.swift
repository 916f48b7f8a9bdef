import Foundation

/// Blocking work (SQLite, RSA key generation, reading a million rows) run on a thread of its own, off
/// the cooperative pool: on a 2-core machine that pool has 2 threads, and one blocked in a busy wait or
/// a key generation halves what answers requests (or stalls them all).
public enum Blocking {
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}
