import DERKit
import Foundation
import JPKIDomain
import OpenSSLKit

extension SignatureVerifier {
    /// OCSP or CRL, by the URLs written in the certificate (AIA OCSP; the HTTP URI of the CRL
    /// distribution point), answered for the time `at`: a revocation after `at` did not yet apply.
    static func remoteRevocationStatus(of cert: Certificate, issuer: Certificate, source: RevocationSource, at: Date, now: Date) throws -> RevocationAnswer {
        let url: String? = source == .ocsp ? Self.ocspURL(cert) : Self.crlURL(cert)
        guard let url else {
            throw SandboxError("no-url", "the certificate names no \(source == .ocsp ? "OCSP URL (authorityInfoAccess)" : "HTTP CRL distribution point")")
        }
        let status: RevocationClient.Status
        do {
            status = source == .ocsp ? try RevocationClient.ocsp(url: url, certificate: cert, issuer: issuer, now: now)
                                     : try RevocationClient.crl(url: url, certificate: cert, issuer: issuer, now: now)
        } catch {
            throw SandboxError("revocation-unavailable", "\(error.description) (is `jpki-sandbox serve` running? or use --revocation local)")
        }
        switch status {
        case .good: return RevocationAnswer(source: source, status: "good", time: nil, reason: nil)
        case .unknown: return RevocationAnswer(source: source, status: "unknown", time: nil, reason: nil)
        case .revoked(let time, let code):
            let reason = code.flatMap { c in RevocationReason.allCases.first { $0.code == c } }
            if time > at { return RevocationAnswer(source: source, status: "good", time: nil, reason: nil) }
            return RevocationAnswer(source: source, status: reason == .certificateHold ? "suspended" : "revoked", time: time, reason: reason?.rawValue)
        }
    }

    /// The first OCSP URL of the authorityInfoAccess extension.
    static func ocspURL(_ cert: Certificate) -> String? {
        guard let ext = cert.extensions.first(where: { $0.oid == CertificateProfile.OID.authorityInfoAccess }),
              let descriptions = try? DERReader.single(ext.value).children() else { return nil }
        for d in descriptions {
            guard let parts = try? d.children(), parts.count == 2, (try? parts[0].oidString()) == CertificateProfile.OID.ocsp,
                  parts[1].tag == 0x86 else { continue }
            return String(decoding: parts[1].contents, as: UTF8.self)
        }
        return nil
    }

    /// The first HTTP URI of the CRL distribution points' fullNames.
    static func crlURL(_ cert: Certificate) -> String? {
        guard let ext = cert.extensions.first(where: { $0.oid == CertificateProfile.OID.crlDistributionPoints }),
              let points = try? DERReader.single(ext.value).children() else { return nil }
        for point in points {
            guard let dpName = try? point.children().first(where: { $0.tag == 0xA0 }),
                  let fullName = try? dpName.children().first(where: { $0.tag == 0xA0 }),
                  let names = try? fullName.children() else { continue }
            if let uri = names.first(where: { $0.tag == 0x86 }) { return String(decoding: uri.contents, as: UTF8.self) }
        }
        return nil
    }
}
