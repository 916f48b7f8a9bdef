/// A rule of the domain said no. `code` is stable for scripts; `message` says why and what to do.
public enum DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Input that is malformed (a date, a PIN outside the policy, an unknown address).
    case invalidInput(String)
    /// Well-formed input that a rule refuses (too young, outside the renewal window…).
    case refused(String)
    /// A well-formed date outside the range the sandbox computes with (`SupportedDates`).
    case badDate(String)

    public var code: String {
        switch self {
        case .invalidInput: "invalid-input"
        case .refused: "refused"
        case .badDate: "bad-date"
        }
    }

    public var message: String {
        switch self {
        case .invalidInput(let m), .refused(let m), .badDate(let m): m
        }
    }

    public var description: String { message }
}
