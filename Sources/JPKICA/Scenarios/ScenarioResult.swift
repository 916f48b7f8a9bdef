import Foundation
import JPKIDomain
import JPKIStore

// The answers of named scenarios (`scenario list`, `scenario create`, `GET /admin/v1/scenarios`,
// `POST /admin/v1/scenarios/{name}`): Codable resources printed through `ResourceJSON` by both faces.
// They embed the shared resources of Resources/Resources.swift. The format of the fixture folder's
// `manifest.json` (`ScenarioManifest`) is documented in docs/scenarios.md.

/// One entry of the scenario catalogue, with whether this sandbox can make it now.
public struct ScenarioInfo: Codable, Sendable, Equatable {
    public var name: String
    /// One line in English.
    public var description: String
    /// The same line in Japanese.
    public var descriptionJa: String
    /// For scenarios that act in the past (expired, renewed, expiring): the day of their earliest step at
    /// the sandbox clock now. The sandbox's roots must have been created by then (`init --at`, docs/scenarios.md).
    public var earliestStep: String?
    /// False when the sandbox is too young for the earliest step; `scenario create` would refuse.
    public var available: Bool
}

/// `scenario list`, `GET /admin/v1/scenarios`.
public struct ScenarioListResource: Codable, Sendable, Equatable {
    public var asOf: String
    public var scenarios: [ScenarioInfo]
}

/// What a relying party must conclude about a certificate at `asOf`, and what `serve` answers for it.
public struct ExpectedVerdict: Codable, Sendable, Equatable {
    /// `good`, `revoked` (a hold included, with reason `certificateHold`), `expired` or `notYetValid`.
    public var verdict: String
    /// The RFC 5280 reason name when `verdict` is `revoked`.
    public var reason: String?
    /// When it was revoked or suspended (ISO 8601, Asia/Tokyo).
    public var revokedAt: String?
    /// What `serve`'s OCSP responder answers now: `good` or `revoked` (an expired certificate that was
    /// never revoked is still `good` there: only `openssl verify` sees the expiry).
    public var ocsp: String
    /// The reason in the OCSP answer (always present for `revoked`, `unspecified` included).
    public var ocspReason: String?
}

/// The files written for one certificate, relative to the output folder.
public struct ScenarioFiles: Codable, Sendable, Equatable {
    /// The certificate alone (PEM).
    public var certificate: String
    /// Key, certificate and root as PKCS#12 (AES-256-CBC, HMAC-SHA-256), with the answer's password.
    public var pkcs12: String
    /// Certificate, unencrypted key and root as PEM (what `export --pem` writes).
    public var pem: String
    /// The root that issued it (PEM).
    public var root: String
}

/// A test identity inline (`includeIdentities`): for API clients that cannot read the server's files.
public struct ScenarioIdentity: Codable, Sendable, Equatable {
    /// The PKCS#12, base64.
    public var pkcs12: String
    /// Certificate, unencrypted key and root as PEM.
    public var pem: String
}

/// One certificate of a scenario: the shared certificate resource (full: serial, PEM, status, reason…),
/// its role in the scenario, the expected verdict and where to ask for revocation.
public struct ScenarioCertificate: Codable, Sendable, Equatable {
    /// `sign`, `auth`, or `sign-superseded` / `auth-superseded` for the certificates a renewal replaced.
    public var label: String
    public var certificate: CertificateResource
    public var expected: ExpectedVerdict
    /// From the certificate's authorityInfoAccess.
    public var ocspUrl: String?
    /// From the certificate's CRL distribution point (the municipality's partition).
    public var crlUrl: String?
    public var files: ScenarioFiles?
    public var identity: ScenarioIdentity?
}

/// The PINs of the scenario's certificates (known to the test identity's user, as on a real card).
public struct ScenarioPINs: Codable, Sendable, Equatable {
    public var sign: String?
    public var auth: String?
}

/// `scenario create NAME`, `POST /admin/v1/scenarios/{name}`.
public struct ScenarioResult: Codable, Sendable, Equatable {
    public var scenario: String
    public var description: String
    /// The sandbox time at which the expected verdicts hold (the end of the scenario's last step).
    public var asOf: String
    public var resident: ResidentResource
    /// The resident's current card (none for agent-pending, whose card is not issued yet).
    public var card: CardResource?
    public var pins: ScenarioPINs
    /// Sign before auth; replaced (superseded) certificates after the current ones.
    public var certificates: [ScenarioCertificate]
    /// agent-pending: the voluntary agent's request awaiting its second visit (the shared request resource).
    public var request: AgentRequestResource.Request?
    /// The expiry notices due for the resident within 3 months (`notices --within 3m`), when any.
    public var notices: [NoticeResource]?
    /// The PKCS#12 password, when identities were written or included.
    public var password: String?
}

/// `manifest.json` of `scenario create --all --out DIR` (docs/scenarios.md). Every path is relative to DIR.
public struct ScenarioManifest: Codable, Sendable, Equatable {
    /// `jpki-sandbox-scenarios/1`.
    public var format: String
    public var asOf: String
    /// `sign` and `auth` → the root PEM files.
    public var roots: [String: String]
    /// The OCSP URL the certificates name (`serve` answers there).
    public var ocspUrl: String?
    public var password: String
    public var scenarios: [ScenarioResult]

    public static let formatName = "jpki-sandbox-scenarios/1"
}
