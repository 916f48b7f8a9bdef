import Foundation
import JPKICA

/// Which cards are in a reader, for `card eject`: one pid file per inserted card,
/// `HOME/cards/CARD-ID.pid`, holding the pid of the `card insert` process and its reader. Written
/// with O_EXCL, so one card is in at most one reader; a file left by a process that died is replaced.
public struct InsertedCards: Sendable {
    public let folder: URL
    /// `card`, or `phone` for phones inserted as virtual cards (`phone insert`, `HOME/phones/PHONE-ID.pid`).
    public let noun: String

    public init(home: SandboxHome) { folder = home.url.appendingPathComponent("cards"); noun = "card" }

    /// The phones inserted as virtual cards (`phone insert`).
    public init(phonesOf home: SandboxHome) { folder = home.url.appendingPathComponent("phones"); noun = "phone" }

    public func pidFile(_ cardID: Int64) -> URL { folder.appendingPathComponent("\(cardID).pid") }

    /// The pid and reader of the process holding the card, if one is alive.
    public func holder(_ cardID: Int64) -> (pid: pid_t, reader: String)? {
        guard let text = try? String(contentsOf: pidFile(cardID), encoding: .utf8) else { return nil }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard let first = fields.first, let pid = pid_t(first), pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return nil }
        return (pid, fields.count > 1 ? String(fields[1]) : "?")
    }

    /// Records this process as holding the card; refuses when a live process already does.
    public func claim(_ cardID: Int64, reader: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for _ in 0..<2 {
            let fd = open(pidFile(cardID).path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd >= 0 {
                defer { close(fd) }
                let line = Array("\(getpid()) \(reader)\n".utf8)
                _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                return
            }
            if let holder = holder(cardID) {
                throw SandboxError("card-inserted", "\(noun) \(cardID) is already inserted (pid \(holder.pid), reader \(holder.reader)); `\(noun) eject \(cardID)` first")
            }
            try? FileManager.default.removeItem(at: pidFile(cardID)) // left by a process that died
        }
        throw SandboxError("io", "cannot create \(pidFile(cardID).path)")
    }

    /// Forgets the claim of this process.
    public func release(_ cardID: Int64) {
        if let text = try? String(contentsOf: pidFile(cardID), encoding: .utf8), text.hasPrefix("\(getpid()) ") {
            try? FileManager.default.removeItem(at: pidFile(cardID))
        }
    }

    /// Asks the holder to eject the card (SIGTERM) and waits up to `timeout` for it to let go.
    public func eject(_ cardID: Int64, timeout: TimeInterval = 10) throws -> pid_t {
        guard let holder = holder(cardID) else {
            try? FileManager.default.removeItem(at: pidFile(cardID))
            throw SandboxError("not-inserted", "\(noun) \(cardID) is not in a reader (no live `\(noun) insert \(cardID)` for this home)")
        }
        guard kill(holder.pid, SIGTERM) == 0 else {
            throw SandboxError("io", "cannot signal pid \(holder.pid): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !FileManager.default.fileExists(atPath: pidFile(cardID).path) || kill(holder.pid, 0) != 0 { return holder.pid }
            usleep(50_000)
        }
        throw SandboxError("timeout", "pid \(holder.pid) did not eject \(noun) \(cardID) within \(Int(timeout)) s")
    }
}
