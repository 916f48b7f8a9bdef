import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit
import PDFSigKit
import XMLSigKit

/// The card's signing key for one signature, after the card's checks. Every format (CMS, e-Tax,
/// e-Gov, PDF, raw) signs through one of these, so the checks and the audit entry are the same.
public struct SigningIdentity: @unchecked Sendable {
    public let record: CertificateRecord
    public let certificate: Certificate
    let key: PrivateKey
    /// The sandbox clock when the card was asked to sign.
    public let signingTime: Date

    /// The card's primitive: PKCS#1 v1.5 over a DigestInfo.
    public func signDigestInfo(_ digestInfo: [UInt8]) throws -> [UInt8] { try key.signDigestInfo(digestInfo) }

    /// CMS SignedData (CAdES-BES) over `content`.
    public func cms(_ content: [UInt8], attached: Bool = false) throws -> [UInt8] {
        try CMS.sign(content: content, certificate: certificate, key: key, signingTime: signingTime, attached: attached)
    }

    /// The card as XMLSigKit takes it: the certificate, and the DigestInfo primitive (libxmlsec1
    /// canonicalises SignedInfo; the card signs its SHA-256 DigestInfo, as a real card would).
    var xmlKey: XMLSignature.SigningKey {
        get throws {
            let key = self.key
            return XMLSignature.SigningKey(certificateDER: try certificate.der()) { try key.signDigestInfo($0) }
        }
    }
}

/// The signature shapes `sign --format` writes.
public enum FilingFormat: String, Sendable, CaseIterable {
    case cms, etax, egov, pdf, raw
}

extension Sandbox {
    /// The one gate of 署名 for every format: the certificate must be a usable signing certificate
    /// (not revoked, suspended, expired or on a dead card) and the PIN right, checked like the card
    /// (a wrong one costs a try, the fifth locks). The PIN check writes the `sign` audit entry.
    public func signingIdentity(serial: String, pin: String) throws -> SigningIdentity {
        let (record, key) = try usableKey(serial: serial, pin: pin, kind: .sign, operation: "sign")
        return SigningIdentity(record: record, certificate: try Certificate(der: record.der), key: key, signingTime: try now())
    }

    /// `sign --format etax`: the e-Tax data with a signature after its procedure element.
    public func signETax(serial: String, pin: String, xml: [UInt8]) throws -> [UInt8] {
        let tree = try ETaxShape.parse(xml)
        let identity = try signingIdentity(serial: serial, pin: pin)
        return try ETaxShape.sign(tree, key: try identity.xmlKey)
    }

    /// `sign --format egov`: kousei.xml of the package with a further `<Signature>` in `<署名情報>`.
    public func signEGov(serial: String, pin: String, package: EGovPackage, cosign: Bool, unescapedFragment: Bool = false) throws -> EGovPackage {
        let tree = try EGovShape.parse(package)
        try EGovShape.checkCanSign(tree, cosign: cosign)
        let identity = try signingIdentity(serial: serial, pin: pin)
        return try EGovShape.sign(tree, package: package, key: try identity.xmlKey, signingTime: identity.signingTime, unescapedFragment: unescapedFragment)
    }

    /// `sign --format raw`: PKCS#1 v1.5 over the DigestInfo given (the card's primitive).
    public func signRaw(serial: String, pin: String, digestInfo: [UInt8]) throws -> (SigningIdentity, [UInt8]) {
        guard (19...128).contains(digestInfo.count) else {
            throw SandboxError.invalid("a DigestInfo is 19 to 128 bytes (SHA-256: 51 bytes, 3031300d…0420 + the digest); got \(digestInfo.count)")
        }
        let identity = try signingIdentity(serial: serial, pin: pin)
        return (identity, try identity.signDigestInfo(digestInfo))
    }
}

extension Sandbox {
    /// `sign --format pdf`: an incremental update adding a signature field. `filter` is the /Filter
    /// name (`Adobe.PPKLite` unless given, `MOJSignDoc` for the Ministry of Justice's plug-in);
    /// `pades` writes /SubFilter /ETSI.CAdES.detached instead of /adbe.pkcs7.detached. No timestamp.
    public func signPDF(serial: String, pin: String, pdf: [UInt8], filter: String?, pades: Bool) throws -> (pdf: [UInt8], field: String) {
        if let filter, filter.isEmpty || !filter.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }) {
            throw SandboxError.invalid("--filter must be a PDF name such as MOJSignDoc or Adobe.PPKLite")
        }
        do { _ = try PDFDocument(bytes: pdf) } catch { throw SandboxError(error.code == .unsupported ? "unsupported-pdf" : "not-pdf", "cannot sign this PDF: \(error.message)") }
        let identity = try signingIdentity(serial: serial, pin: pin)
        let options = PDFSignature.Options(filter: filter ?? "Adobe.PPKLite", subFilter: pades ? "ETSI.CAdES.detached" : "adbe.pkcs7.detached",
                                           signingTime: identity.signingTime)
        do {
            return try PDFSignature.sign(pdf, options: options) { try identity.cms($0) }
        } catch let error as PDFError {
            throw SandboxError("sign-failed", error.message)
        }
    }
}
