/// The revocation reasons the J-LIS CPS uses (§4.9.9), with their RFC 5280 CRLReason codes.
public enum RevocationReason: String, Sendable, Codable, CaseIterable {
    /// Destroyed before delivery.
    case unspecified
    /// Lost, stolen, PIN leaked, misuse.
    case keyCompromise
    /// Any basic detail changed (move, marriage, …), death.
    case affiliationChanged
    /// Renewed.
    case superseded
    /// The holder stopped using it.
    case cessationOfOperation
    /// Suspended (一時停止); can be released.
    case certificateHold

    /// CRLReason (RFC 5280 §5.3.1).
    public var code: Int {
        switch self {
        case .unspecified: 0
        case .keyCompromise: 1
        case .affiliationChanged: 3
        case .superseded: 4
        case .cessationOfOperation: 5
        case .certificateHold: 6
        }
    }

    /// What the window hears, mapped onto the CPS reasons (digest: lifecycle events).
    public static let windowEvents: [String: RevocationReason] = [
        "lost": .keyCompromise, "stolen": .keyCompromise, "pin-leaked": .keyCompromise, "misuse": .keyCompromise,
        "stop": .cessationOfOperation, "voluntary-stop": .cessationOfOperation, "damaged": .cessationOfOperation,
        "destroyed-before-delivery": .unspecified, "moved": .affiliationChanged, "death": .affiliationChanged,
    ]

    /// An RFC 5280 reason name (any case) or a window event (`lost`, `stolen`, `pin-leaked`, `misuse`, `stop`, …).
    public init(parsing text: String) throws(DomainError) {
        if let r = RevocationReason.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) { self = r; return }
        if let r = Self.windowEvents[text.lowercased()] { self = r; return }
        throw .invalidInput("unknown reason \"\(text)\"; use one of \(RevocationReason.allCases.map(\.rawValue).joined(separator: ", ")) or a window event (\(Self.windowEvents.keys.sorted().joined(separator: ", ")))")
    }
}

/// A revocation as asked for at the window: the CPS reason and, when the clerk named one, the event
/// (`lost`, `stolen`, …). The event matters for fees: only a lost or stolen card costs a reissue fee.
public struct RevocationRequest: Sendable, Equatable {
    public let reason: RevocationReason
    public let event: String?

    public init(reason: RevocationReason, event: String? = nil) { self.reason = reason; self.event = event }

    public init(parsing text: String) throws(DomainError) {
        reason = try RevocationReason(parsing: text)
        event = RevocationReason.windowEvents[text.lowercased()] != nil ? text.lowercased() : nil
    }

    /// 紛失・盗難: the card itself is gone (002, 004: 紛失による再発行は有料).
    public var cardLost: Bool { event == "lost" || event == "stolen" }
}

/// The renewal window (004): from the day less than three months remain until the last valid day.
/// "5月26日が有効期限の場合は、2月27日から手続きできます".
public enum RenewalWindow {
    public static func opens(lastValidDay: LocalDate) -> LocalDate {
        lastValidDay.addingMonths(-3).addingDays(1)
    }

    public enum Position: Equatable, Sendable { case beforeWindow(opens: LocalDate), inWindow, expired }

    public static func position(today: LocalDate, lastValidDay: LocalDate) -> Position {
        if today > lastValidDay { return .expired }
        let opens = opens(lastValidDay: lastValidDay)
        return today < opens ? .beforeWindow(opens: opens) : .inWindow
    }
}
