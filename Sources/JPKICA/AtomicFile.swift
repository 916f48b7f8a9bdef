import Foundation

/// Every file the sandbox writes (exported identities, signatures, CRLs, roots, keys, mail forms) goes
/// through here, so that none can be redirected or seen half-written:
///
/// 1. a temporary file is created in the target's folder under an unpredictable name (`.jpki-tmp-` and 128
///    random bits), with `O_CREAT | O_EXCL | O_NOFOLLOW`: a file or symlink planted at any name is never
///    opened, so a planted link cannot receive the bytes;
/// 2. it gets the mode asked (0600 for anything secret) with `fchmod`, before a byte is written;
/// 3. the bytes are written and `fsync`ed;
/// 4. it is renamed over the target (`rename` replaces a symlink at the target itself, never follows it), or,
///    for `create`, linked to the target only when nothing is there; the folder is then `fsync`ed.
///
/// A run killed between 1 and 4 leaves a `.jpki-tmp-*` file; the next write into that folder removes those
/// older than a minute (younger ones may belong to a run still going).
public enum AtomicFile {
    /// The prefix of every temporary file, recognised by the clean-up.
    public static let temporaryPrefix = ".jpki-tmp-"
    /// Leftovers older than this are a killed run's, and removed.
    public static let leftoverAge: TimeInterval = 60

    /// Writes `bytes` to `url`, replacing what is there (a file or a symlink, never what a link points to).
    public static func write(_ bytes: [UInt8], to url: URL, mode: mode_t) throws {
        try store(bytes, at: url, mode: mode, replacing: true)
    }

    /// Writes `bytes` to `url` only if nothing (not even a dangling symlink) is there yet.
    public static func create(_ bytes: [UInt8], at url: URL, mode: mode_t) throws {
        try store(bytes, at: url, mode: mode, replacing: false)
    }

    /// Removes this folder's temporary files older than `leftoverAge` (the leftovers of killed runs).
    public static func removeLeftovers(in folder: URL, now: Date = Date()) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasPrefix(temporaryPrefix) {
            let path = folder.appendingPathComponent(name).path
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
            if now.timeIntervalSince(modified) > leftoverAge { unlink(path) }
        }
    }

    private static func store(_ bytes: [UInt8], at url: URL, mode: mode_t, replacing: Bool) throws {
        let target = url.standardizedFileURL
        let folder = target.deletingLastPathComponent()
        removeLeftovers(in: folder)
        let (fd, temp) = try createTemporary(in: folder, for: target, mode: mode)
        var committed = false
        defer { if !committed { unlink(temp) } }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { throw failure("set the mode of", target) }
            guard writeAll(fd, bytes), fsync(fd) == 0 else { throw failure("write", target) }
        }
        if replacing {
            guard rename(temp, target.path) == 0 else { throw failure("replace", target) }
        } else {
            // link(2) fails with EEXIST when anything, a dangling symlink included, has the name.
            guard link(temp, target.path) == 0 else { throw failure("create", target) }
            unlink(temp)
        }
        committed = true
        syncFolder(folder)
    }

    /// Opens a new temporary file beside `target`; retries on the (2⁻¹²⁸-unlikely) name clash.
    private static func createTemporary(in folder: URL, for target: URL, mode: mode_t) throws -> (Int32, String) {
        for _ in 0..<8 {
            var random = SystemRandomNumberGenerator()
            let name = temporaryPrefix + String(format: "%016llx%016llx", random.next() as UInt64, random.next() as UInt64)
            let path = folder.appendingPathComponent(name).path
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0o777)
            if fd >= 0 { return (fd, path) }
            guard errno == EEXIST else { throw failure("create a temporary file for", target) }
        }
        throw failure("create a temporary file for", target)
    }

    /// Makes the rename durable: the folder's entry is on disk once this returns (best effort).
    private static func syncFolder(_ folder: URL) {
        let fd = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func failure(_ verb: String, _ target: URL) -> SandboxError {
        SandboxError("io", "cannot \(verb) \(target.path): \(String(cString: strerror(errno)))")
    }
}

/// Writes all of `bytes` to `fd`, retrying short writes and interruptions. (Outside `AtomicFile`, whose
/// own `write` would otherwise hide the system call.)
private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
}
