import Foundation
import JPKIDomain
import OpenSSLKit

extension Sandbox {
    /// OCSP or CRL, by the URLs in the certificate. Until the revocation services exist this reports
    /// that it cannot ask.
    func remoteRevocationStatus(of cert: Certificate, source: RevocationSource, at: Date) throws -> RevocationAnswer {
        throw SandboxError("unsupported", "--revocation \(source.rawValue) needs the revocation services (serve); use --revocation local")
    }
}
