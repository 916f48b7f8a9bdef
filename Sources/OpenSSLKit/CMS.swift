internal import COpenSSL
internal import CJPKIShims
import DERKit
import Foundation

/// CMS SignedData (RFC 5652), as OpenSSL builds and checks it.
public enum CMS {
    /// Signs `content` with RSASSA-PKCS1-v1_5 and SHA-256. Signed attributes: content-type,
    /// message-digest, signing-time (`signingTime`, not the system clock) and ESS
    /// signing-certificate-v2 (RFC 5035), which makes the result CAdES-BES. Detached unless `attached`.
    public static func sign(content: [UInt8], certificate: Certificate, key: PrivateKey, extraCertificates: [Certificate] = [],
                            signingTime: Date, attached: Bool = false) throws(OpenSSLError) -> [UInt8] {
        let flags = UInt32(CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP) | (attached ? 0 : UInt32(CMS_DETACHED))
        let cms = try nonNil(CMS_sign(nil, nil, nil, nil, flags), "CMS_sign (partial)")
        defer { CMS_ContentInfo_free(cms) }
        let si = try nonNil(CMS_add1_signer(cms, certificate.pointer, key.pointer, EVP_sha256(), flags), "CMS_add1_signer")
        for extra in extraCertificates { try check(CMS_add1_cert(cms, extra.pointer), "CMS_add1_cert") }

        // signing-time from the sandbox clock (OpenSSL would otherwise add the system time).
        guard let time = ASN1_TIME_set(nil, time_t(signingTime.timeIntervalSince1970)) else { throw OpenSSLError("ASN1_TIME_set") }
        defer { ASN1_TIME_free(time) }
        try check(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, ASN1_STRING_type(time), time, -1), "add signing-time")

        // ESS signing-certificate-v2 with a SHA-256 hash of the signer's certificate.
        let ess = try nonNil(OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), certificate.pointer, nil, 0), "OSSL_ESS_signing_cert_v2_new_init")
        defer { ESS_SIGNING_CERT_V2_free(ess) }
        let essDER = try encodeDER("i2d_ESS_SIGNING_CERT_V2") { i2d_ESS_SIGNING_CERT_V2(ess, $0) }
        let sequence = try nonNil(ASN1_STRING_new(), "ASN1_STRING_new")
        defer { ASN1_STRING_free(sequence) }
        try check(ASN1_STRING_set(sequence, essDER, Int32(essDER.count)), "ASN1_STRING_set")
        try check(CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, V_ASN1_SEQUENCE, sequence, -1), "add signing-certificate-v2")

        try withReadBIO(content) { (bio) throws(OpenSSLError) in
            try check(CMS_final(cms, bio, nil, flags), "CMS_final")
        }
        return try encodeDER("i2d_CMS_ContentInfo") { i2d_CMS_ContentInfo(cms, $0) }
    }

    /// What a SignedData says, once its signature over the content has been checked.
    public struct Verified: Sendable {
        public let signer: Certificate
        /// The signed signing-time attribute, if present.
        public let signingTime: Date?
        /// The content (embedded, or the detached content given).
        public let content: [UInt8]
        /// Whether an ESS signing-certificate-v2 attribute is present.
        public let hasSigningCertificateV2: Bool
    }

    public enum VerifyError: Error, CustomStringConvertible, Sendable {
        /// Not a CMS SignedData at all (empty, truncated, something else).
        case malformed(String)
        /// A SignedData whose signature does not match the content or the signer.
        case badSignature(String)

        public var description: String {
            switch self {
            case .malformed(let m): "not a CMS SignedData: \(m)"
            case .badSignature(let m): "the signature does not verify: \(m)"
            }
        }
    }

    /// Checks the signature of exactly one signer over the content (no chain building: the caller
    /// decides trust). `detachedContent` is required for a detached signature.
    public static func verifySignature(_ der: [UInt8], detachedContent: [UInt8]?) throws(VerifyError) -> Verified {
        guard !der.isEmpty else { throw .malformed("the file is empty") }
        let cms: OpaquePointer
        do { cms = try decodeDER(der, "d2i_CMS_ContentInfo") { cursor, count in d2i_CMS_ContentInfo(nil, cursor, count) } } catch {
            throw .malformed(error.description)
        }
        defer { CMS_ContentInfo_free(cms) }
        guard OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed else { throw .malformed("it is CMS, but not SignedData") }
        let isDetached = CMS_is_detached(cms) == 1
        if isDetached && detachedContent == nil { throw .malformed("the signature is detached: give the signed file") }

        let outBIO = BIO_new(BIO_s_mem())!
        defer { BIO_free(outBIO) }
        let flags = UInt32(CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY)
        let ok: Int32
        if isDetached, let detachedContent {
            ok = (try? withReadBIO(detachedContent) { bio in CMS_verify(cms, nil, nil, bio, outBIO, flags) }) ?? 0
        } else {
            ok = CMS_verify(cms, nil, nil, nil, outBIO, flags)
        }
        guard ok == 1 else {
            let reason = OpenSSLError("CMS_verify").description
            // Structure problems (no signer, unsupported) are malformed; a digest or signature mismatch is a bad signature.
            if reason.contains("digest failure") || reason.contains("verification failure") || reason.contains("signature") {
                throw .badSignature(reason)
            }
            throw .malformed(reason)
        }
        guard let signers = CMS_get0_signers(cms), jpki_cms_signer_count(signers) == 1, let x = jpki_sk_X509_value(signers, 0) else {
            throw .malformed("exactly one signer is expected")
        }
        X509_up_ref(x)
        jpki_sk_X509_free(signers)
        let signer = Certificate(owning: x)

        var signingTime: Date?
        var hasESS = false
        if let siPointer = jpki_cms_first_signer_info(cms) {
            if let t = CMS_signed_get0_data_by_OBJ(siPointer, OBJ_nid2obj(NID_pkcs9_signingTime), -3, V_ASN1_UTCTIME) {
                signingTime = Certificate.date(t.assumingMemoryBound(to: ASN1_TIME.self))
            } else if let t = CMS_signed_get0_data_by_OBJ(siPointer, OBJ_nid2obj(NID_pkcs9_signingTime), -3, V_ASN1_GENERALIZEDTIME) {
                signingTime = Certificate.date(t.assumingMemoryBound(to: ASN1_TIME.self))
            }
            hasESS = CMS_signed_get_attr_by_NID(siPointer, NID_id_smime_aa_signingCertificateV2, -1) >= 0
        }
        return Verified(signer: signer, signingTime: signingTime, content: isDetached ? (detachedContent ?? []) : drain(outBIO),
                        hasSigningCertificateV2: hasESS)
    }
}
