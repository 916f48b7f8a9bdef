import Foundation
import OpenSSLKit
import PDFSigKit
import XMLSigKit

/// One signature of a filing and its verdict. `label` says which one (the e-Gov `Id`, the e-Tax
/// reference, the PDF field name).
public struct FilingSignature: Sendable {
    public let label: String
    public let verdict: SignatureVerdict
}

/// What `verify` found in a filing: every signature it carries, in document order.
public struct FilingVerification: Sendable {
    public let format: FilingFormat
    public let signatures: [FilingSignature]

    /// The filing's verdict: the first signature that is not valid, else the first signature.
    public var overall: SignatureVerdict {
        (signatures.first { $0.verdict.status != .valid } ?? signatures[0]).verdict
    }
}

extension FilingFormat {
    /// Which shape a file or folder is: a folder or a manifest with `<DataRoot>` is e-Gov, `%PDF-` is
    /// a PDF, XML with `<DATA>` is e-Tax. Anything else is not a filing (a detached CMS signature is
    /// verified with `--signature`).
    public static func detect(_ url: URL) throws -> FilingFormat {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw SandboxError("not-found", "no such file or folder: \(url.path)")
        }
        if isDirectory.boolValue || url.lastPathComponent == EGovPackage.manifestName { return .egov }
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw SandboxError("not-found", "cannot read \(url.path)") }
        let head = [UInt8]((try? handle.read(upToCount: 1024)) ?? Data())
        try? handle.close()
        if head.isEmpty { throw SandboxError("unrecognized-input", "\(url.path) is empty: not an e-Tax file, an e-Gov package or a PDF") }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .egov }
        if Array(head.prefix(1024)).firstRange(of: Array("%PDF-".utf8)) != nil { return .pdf }
        let text = String(decoding: head, as: UTF8.self)
        if text.contains("<DataRoot") { return .egov }
        if text.contains("<DATA") { return .etax }
        if text.contains("<") && (text.hasPrefix("<?xml") || text.hasPrefix("\u{FEFF}<") || text.hasPrefix("<")) {
            throw SandboxError("unrecognized-input", "\(url.path) is XML but neither e-Tax data (<DATA>) nor an e-Gov kousei.xml (<DataRoot>)")
        }
        throw SandboxError("unrecognized-input", "\(url.path) is not an e-Tax file, an e-Gov package or a PDF; for a detached CMS signature give --signature FILE")
    }
}

extension SignatureVerifier {
    /// Verifies every signature of a filing: each signature's cryptography (libxmlsec1, or the PDF's
    /// byte range and CMS), then the signer as `verify` judges any signer (chain, validity, revocation).
    public func verifyFiling(_ url: URL, format: FilingFormat? = nil, at checkedAt: Date, revocation: RevocationSource) throws -> FilingVerification {
        let format = try format ?? FilingFormat.detect(url)
        let found: [FilingSignature]
        switch format {
        case .etax: found = try verifyETax(url, at: checkedAt, revocation: revocation)
        case .egov: found = try verifyEGov(url, at: checkedAt, revocation: revocation)
        case .pdf: found = try verifyPDF(url, at: checkedAt, revocation: revocation)
        case .cms, .raw: throw SandboxError.invalid("--format \(format.rawValue) is verified with --signature (cms) or openssl (raw)")
        }
        guard !found.isEmpty else {
            return FilingVerification(format: format, signatures: [FilingSignature(label: "-", verdict: invalid("the \(format.displayName) carries no signature", at: checkedAt))])
        }
        return FilingVerification(format: format, signatures: found)
    }

    func invalid(_ message: String, signer: Certificate? = nil, signingTime: Date? = nil, at: Date) -> SignatureVerdict {
        SignatureVerdict(status: .invalid, message: message, signer: signer, signerKind: signer == nil ? nil : .sign, basicDetails: nil,
                         signingTime: signingTime, checkedAt: at, revocation: nil)
    }

    func verifyETax(_ url: URL, at: Date, revocation: RevocationSource) throws -> [FilingSignature] {
        let bytes = try readFiling(url)
        let tree: XMLTree
        do { tree = try XMLTree(bytes: bytes) } catch {
            return [FilingSignature(label: "-", verdict: invalid("the e-Tax file is not XML (\(error.message))", at: at))]
        }
        do { _ = try ETaxShape.procedure(tree); try ETaxShape.registerIDs(tree) } catch {
            return [FilingSignature(label: "-", verdict: invalid(SandboxError.from(error).message, at: at))]
        }
        return try tree.elements(named: "Signature", namespace: XMLSignature.namespace).map { signature in
            FilingSignature(label: XMLSignature.references(of: signature).first ?? "-",
                            verdict: try verifyXML(signature, files: [:], at: at, revocation: revocation))
        }
    }

    func verifyEGov(_ url: URL, at: Date, revocation: RevocationSource) throws -> [FilingSignature] {
        let package: EGovPackage
        do { package = try EGovPackage(folder: url) } catch let error as SandboxError where error.code == "damaged-package" {
            return [FilingSignature(label: "-", verdict: invalid("the zipped package cannot be read: \(error.message)", at: at))]
        }
        let tree: XMLTree
        do { tree = try EGovShape.parse(package) } catch {
            return [FilingSignature(label: "-", verdict: invalid(SandboxError.from(error).message, at: at))]
        }
        return try EGovShape.signatures(tree).map { signature in
            FilingSignature(label: signature.attribute("Id") ?? "-", verdict: try verifyXML(signature, files: package.files, at: at, revocation: revocation))
        }
    }

    /// One XMLDSig: the certificate in KeyInfo, the signature with its key, then the signer's trust.
    func verifyXML(_ signature: XMLElement, files: [String: [UInt8]], at: Date, revocation: RevocationSource) throws -> SignatureVerdict {
        guard let der = XMLSignature.certificates(of: signature).first else {
            return invalid("the signature has no X509Certificate in KeyInfo", at: at)
        }
        guard let signer = try? Certificate(der: der) else { return invalid("the X509Certificate in KeyInfo is not a certificate", at: at) }
        let check: XMLSignature.Check
        do { check = try XMLSignature.verify(signature, certificateDER: der, files: files) } catch {
            return invalid(error.code == .structure ? "\(error.message) (a listed file is missing)" : error.message, signer: signer, at: at)
        }
        switch check {
        case .valid:
            return try judge(signer: signer, signingTime: nil, at: at, revocation: revocation)
        case .invalid(let reference?):
            return invalid("the reference \(reference) no longer matches its digest: the content was changed after signing", signer: signer, at: at)
        case .invalid(nil):
            return invalid("the SignatureValue does not verify with the certificate in KeyInfo (signed by another key, or SignedInfo changed)", signer: signer, at: at)
        }
    }

    func readFiling(_ url: URL) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw SandboxError("not-found", "cannot read \(url.path)") }
        return [UInt8](data)
    }
}

extension FilingFormat {
    var displayName: String {
        switch self { case .etax: "e-Tax file"; case .egov: "e-Gov package"; case .pdf: "PDF"; case .cms: "CMS signature"; case .raw: "raw signature" }
    }
}

extension SignatureVerifier {
    /// Each signature field of a PDF: the byte range's shape, the CMS over the bytes it covers
    /// (existing code, `CMS.verifySignature`), then the signer. The signing time is the CMS
    /// signing-time attribute, else the dictionary's /M (inside the byte range, so signed too).
    func verifyPDF(_ url: URL, at: Date, revocation: RevocationSource) throws -> [FilingSignature] {
        let bytes = try readFiling(url)
        let embedded: [PDFSignature.Embedded]
        do { embedded = try PDFSignature.embedded(in: bytes) } catch {
            return [FilingSignature(label: "-", verdict: invalid("the PDF cannot be read: \(error.message)", at: at))]
        }
        return try embedded.map { e in
            let label = e.field + (e.coversWholeFile ? "" : " (covers an earlier revision)")
            let verified: CMS.Verified
            do { verified = try CMS.verifySignature(e.cms, detachedContent: e.signedBytes) } catch let error as CMS.VerifyError {
                switch error {
                case .badSignature:
                    return FilingSignature(label: label, verdict: invalid("the byte range \(e.byteRange) of \(e.field) no longer matches the signature: the document was changed after signing", at: at))
                case .malformed(let m):
                    return FilingSignature(label: label, verdict: invalid("the /Contents of \(e.field) is not a CMS signature: \(m)", at: at))
                }
            }
            return FilingSignature(label: label, verdict: try judge(signer: verified.signer, signingTime: verified.signingTime ?? e.signingTime,
                                                                    at: at, revocation: revocation))
        }
    }
}
