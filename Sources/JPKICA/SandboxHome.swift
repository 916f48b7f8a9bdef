import Foundation
import JPKIDomain

/// The files of one sandbox. The folder is private (0700); CA keys are 0600.
public struct SandboxHome: Sendable {
    public let url: URL
    /// `--database postgres://…`: the register in PostgreSQL; nil: what the home records (`database.url`,
    /// written by `init`), else the home's SQLite.
    public let databaseOption: String?

    public init(_ url: URL, database: String? = nil) {
        self.url = url.standardizedFileURL
        self.databaseOption = database.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `--home`, else `$JPKI_SANDBOX_HOME`, else `./.jpki-sandbox`.
    public static func resolve(_ option: String?, database: String? = nil) -> SandboxHome {
        let path = option ?? ProcessInfo.processInfo.environment["JPKI_SANDBOX_HOME"] ?? ".jpki-sandbox"
        return SandboxHome(URL(fileURLWithPath: path), database: database)
    }

    public var database: URL { url.appendingPathComponent("sandbox.sqlite") }
    /// The PostgreSQL URL of a home whose register is in PostgreSQL (written by `init`, 0600: it may
    /// hold a password). Its presence, like the SQLite file's, is what "a sandbox exists" means.
    public var databaseURLFile: URL { url.appendingPathComponent("database.url") }

    /// The PostgreSQL register's URL: `--database`, else the one `init` recorded; nil for SQLite.
    public var postgresURL: String? {
        if let databaseOption { return databaseOption }
        guard let data = FileManager.default.contents(atPath: databaseURLFile.path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
    public var municipalities: URL { url.appendingPathComponent("municipalities.json") }
    public var keysFolder: URL { url.appendingPathComponent("keys") }
    public func rootKey(_ kind: CertificateKind) -> URL { keysFolder.appendingPathComponent("\(kind.rawValue)-root.key") }
    public func rootCertificate(_ kind: CertificateKind) -> URL { url.appendingPathComponent("\(kind.rawValue)-root.pem") }
    /// A root generation's key and certificate: generation 1 is `sign-root.key` / `sign-root.pem` (what
    /// `init` has always written), a later one `sign-root-g<N>.key` / `sign-root-g<N>.pem`.
    public func rootKey(_ kind: CertificateKind, generation: Int) -> URL {
        generation <= 1 ? rootKey(kind) : keysFolder.appendingPathComponent("\(kind.rawValue)-root-g\(generation).key")
    }
    public func rootCertificate(_ kind: CertificateKind, generation: Int) -> URL {
        generation <= 1 ? rootCertificate(kind) : url.appendingPathComponent("\(kind.rawValue)-root-g\(generation).pem")
    }

    public var exists: Bool {
        FileManager.default.fileExists(atPath: database.path) || FileManager.default.fileExists(atPath: databaseURLFile.path)
    }

    /// Creates a file that only the owner may read (0600), durably, and never over an existing one
    /// (`AtomicFile.create`).
    static func writePrivate(_ bytes: [UInt8], to url: URL) throws {
        try AtomicFile.create(bytes, at: url, mode: 0o600)
    }
}
