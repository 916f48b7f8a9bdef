import Foundation
import JPKICA
import OpenSSLKit

/// A signed-in browser: the token it signed in with (kept in memory only, to look it up again on every
/// request: a revoked token ends its sessions at once), the token's name and role, the CSRF token bound
/// to this session, when it ends, and the message to show on the next page.
struct ConsoleSession: Sendable {
    let id: String
    let token: String
    let name: String
    var role: TokenRole
    let csrf: String
    let expires: Date
    var flash: ConsoleFlash?
}

struct ConsoleFlash: Sendable {
    enum Kind: String, Sendable { case ok, error, info }
    let kind: Kind
    let title: String
    let text: String
}

/// The console's sessions, server-side and in memory (a restart signs everyone out): a random 256-bit
/// id in the cookie, everything else here.
final class ConsoleSessionStore: @unchecked Sendable {
    static let lifetime: TimeInterval = 8 * 3600
    static let maximumSessions = 10_000
    private let lock = NSLock()
    private var sessions: [String: ConsoleSession] = [:]

    static func randomID() throws -> String {
        try Crypto.randomBytes(32).map { String(format: "%02x", $0) }.joined()
    }

    func create(token: String, name: String, role: TokenRole) throws -> ConsoleSession {
        let session = ConsoleSession(id: try Self.randomID(), token: token, name: name, role: role, csrf: try Self.randomID(),
                                     expires: Date().addingTimeInterval(Self.lifetime), flash: nil)
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        if sessions.count >= Self.maximumSessions { sessions = sessions.filter { $0.value.expires > now } }
        if sessions.count >= Self.maximumSessions, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) {
            sessions[oldest.key] = nil
        }
        sessions[session.id] = session
        return session
    }

    func get(_ id: String) -> ConsoleSession? {
        lock.lock(); defer { lock.unlock() }
        guard let s = sessions[id] else { return nil }
        if s.expires <= Date() { sessions[id] = nil; return nil }
        return s
    }

    func remove(_ id: String) {
        lock.lock(); defer { lock.unlock() }
        sessions[id] = nil
    }

    func update(_ id: String, _ change: (inout ConsoleSession) -> Void) {
        lock.lock(); defer { lock.unlock() }
        if var s = sessions[id] { change(&s); sessions[id] = s }
    }

    /// The message for this page, taken (shown once).
    func takeFlash(_ id: String) -> ConsoleFlash? {
        lock.lock(); defer { lock.unlock() }
        let f = sessions[id]?.flash
        sessions[id]?.flash = nil
        return f
    }

    /// Constant-time comparison of two tokens.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
