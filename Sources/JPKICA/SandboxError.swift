import JPKIDomain

/// An error the sandbox reports to its user: a stable `code` for scripts and a message that says
/// what went wrong and what to do.
public struct SandboxError: Error, CustomStringConvertible, Sendable {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) { self.code = code; self.message = message }

    public var description: String { message }

    public static func notFound(_ what: String) -> SandboxError { SandboxError("not-found", what) }
    public static func invalid(_ what: String) -> SandboxError { SandboxError("invalid-input", what) }
    public static func refused(_ what: String) -> SandboxError { SandboxError("refused", what) }
    public static func config(_ what: String) -> SandboxError { SandboxError("config", what) }

    /// Any error, as the user should see it.
    public static func from(_ error: any Error) -> SandboxError {
        switch error {
        case let e as SandboxError: e
        case let e as DomainError: SandboxError(e.code, e.message)
        default: SandboxError("internal", String(describing: error))
        }
    }
}
