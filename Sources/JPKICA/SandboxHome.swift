import Foundation
import JPKIDomain

/// The files of one sandbox. The folder is private (0700); CA keys are 0600.
public struct SandboxHome: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url.standardizedFileURL }

    /// `--home`, else `$JPKI_SANDBOX_HOME`, else `./.jpki-sandbox`.
    public static func resolve(_ option: String?) -> SandboxHome {
        let path = option ?? ProcessInfo.processInfo.environment["JPKI_SANDBOX_HOME"] ?? ".jpki-sandbox"
        return SandboxHome(URL(fileURLWithPath: path))
    }

    public var database: URL { url.appendingPathComponent("sandbox.sqlite") }
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

    public var exists: Bool { FileManager.default.fileExists(atPath: database.path) }

    /// Creates a file that only the owner may read (0600), durably, and never over an existing one
    /// (`AtomicFile.create`).
    static func writePrivate(_ bytes: [UInt8], to url: URL) throws {
        try AtomicFile.create(bytes, at: url, mode: 0o600)
    }
}
