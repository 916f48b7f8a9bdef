/// The two certificates on every card.
public enum CertificateKind: String, Sendable, Codable, CaseIterable {
    /// 署名用電子証明書: signs documents; carries the four basic details.
    case sign
    /// 利用者証明用電子証明書: proves who logs in; carries no personal details.
    case auth

    public var japaneseName: String {
        switch self {
        case .sign: "署名用電子証明書"
        case .auth: "利用者証明用電子証明書"
        }
    }

    public var englishName: String {
        switch self {
        case .sign: "signing certificate"
        case .auth: "authentication certificate"
        }
    }
}
