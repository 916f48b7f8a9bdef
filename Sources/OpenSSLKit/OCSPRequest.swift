internal import COpenSSL
import DERKit

/// One CertID of an OCSP request (RFC 6960 §4.1.1):
///
/// ```
/// CertID ::= SEQUENCE {
///     hashAlgorithm       AlgorithmIdentifier,
///     issuerNameHash      OCTET STRING, -- Hash of issuer's DN
///     issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
///     serialNumber        CertificateSerialNumber }
/// ```
public struct OCSPCertID: Sendable, Hashable {
    /// The dotted OID of the hash algorithm (`1.3.14.3.2.26` SHA-1, `2.16.840.1.101.3.4.2.1` SHA-256, …).
    public let hashAlgorithm: String
    public let issuerNameHash: [UInt8]
    public let issuerKeyHash: [UInt8]
    /// The serial's big-endian magnitude without leading zero bytes; nil for a negative serial (never ours).
    public let serialNumber: [UInt8]?
    /// The DER of the whole CertID, which the answer repeats.
    public let der: [UInt8]

    public init(hashAlgorithm: String, issuerNameHash: [UInt8], issuerKeyHash: [UInt8], serialNumber: [UInt8]?, der: [UInt8]) {
        self.hashAlgorithm = hashAlgorithm; self.issuerNameHash = issuerNameHash; self.issuerKeyHash = issuerKeyHash
        self.serialNumber = serialNumber; self.der = der
    }
}

/// A decoded OCSPRequest (RFC 6960 §4.1.1), read by OpenSSL's parser (`d2i_OCSP_REQUEST`), which has
/// long faced hostile input; nothing here trusts the bytes.
///
/// ```
/// OCSPRequest ::= SEQUENCE {
///     tbsRequest                  TBSRequest,
///     optionalSignature   [0]     EXPLICIT Signature OPTIONAL }
/// TBSRequest ::= SEQUENCE {
///     version             [0]     EXPLICIT Version DEFAULT v1,
///     requestorName       [1]     EXPLICIT GeneralName OPTIONAL,
///     requestList                 SEQUENCE OF Request,
///     requestExtensions   [2]     EXPLICIT Extensions OPTIONAL }
/// ```
public struct OCSPRequest: Sendable {
    public static let nonceOID = "1.3.6.1.5.5.7.48.1.2"

    public let certIDs: [OCSPCertID]
    /// The extnValue of the nonce extension (id-pkix-ocsp-nonce) as sent, when there is one.
    public let nonceExtensionValue: [UInt8]?

    /// Parses DER; throws for anything that is not exactly one OCSPRequest with at least one CertID, or whose
    /// CertIDs' hash algorithms carry parameters other than absent or NULL.
    public init(der: [UInt8]) throws(OpenSSLError) {
        guard !der.isEmpty else { throw OpenSSLError("empty OCSP request") }
        let request = try decodeDER(der, "reading an OCSP request") { cursor, count in d2i_OCSP_REQUEST(nil, cursor, count) }
        defer { OCSP_REQUEST_free(request) }
        let count = OCSP_request_onereq_count(request)
        guard count > 0 else { throw OpenSSLError("an OCSP request without any CertID") }
        var ids: [OCSPCertID] = []
        ids.reserveCapacity(Int(count))
        for index in 0..<count {
            guard let one = OCSP_request_onereq_get0(request, index), let cid = OCSP_onereq_get0_id(one) else {
                throw OpenSSLError("reading CertID \(index)")
            }
            var nameHash: UnsafeMutablePointer<ASN1_OCTET_STRING>?
            var algorithm: OpaquePointer?
            var keyHash: UnsafeMutablePointer<ASN1_OCTET_STRING>?
            var serial: UnsafeMutablePointer<ASN1_INTEGER>?
            guard OCSP_id_get0_info(&nameHash, &algorithm, &keyHash, &serial, cid) == 1 else { throw OpenSSLError("OCSP_id_get0_info") }
            let encoded = try encodeDER("i2d_OCSP_CERTID") { i2d_OCSP_CERTID(cid, $0) }
            // RFC 5754 §2: a SHA-2 AlgorithmIdentifier's parameters are absent (or NULL, as RFC 3370 allowed
            // for SHA-1). Anything else would be repeated in the answer's CertID, where strict readers
            // (Python `cryptography`) refuse it: the request is malformed.
            guard Self.hashParametersAbsentOrNull(certID: encoded) else {
                throw OpenSSLError("CertID \(index): hash algorithm parameters other than absent or NULL")
            }
            ids.append(OCSPCertID(hashAlgorithm: Self.hashOID(algorithm), issuerNameHash: Self.bytes(nameHash),
                                  issuerKeyHash: Self.bytes(keyHash), serialNumber: Self.magnitude(serial), der: encoded))
        }
        certIDs = ids
        let nonceIndex = OCSP_REQUEST_get_ext_by_NID(request, NID_id_pkix_OCSP_Nonce, -1)
        if nonceIndex >= 0, let ext = OCSP_REQUEST_get_ext(request, nonceIndex) {
            nonceExtensionValue = Self.bytes(X509_EXTENSION_get_data(ext))
        } else {
            nonceExtensionValue = nil
        }
    }

    /// The nonce itself: the contents of the OCTET STRING in the extnValue (RFC 8954), or the whole
    /// extnValue when a client sent it unwrapped.
    public var nonce: [UInt8]? {
        guard let value = nonceExtensionValue else { return nil }
        if let node = try? DERReader.single(value), node.tag == DER.octetString { return node.contents }
        return value
    }

    /// Whether the CertID's `hashAlgorithm` (its first element) has no parameters or a NULL.
    static func hashParametersAbsentOrNull(certID: [UInt8]) -> Bool {
        guard let certID = try? DERReader.single(certID), let algorithm = try? certID.children().first,
              let parts = try? algorithm.children(), parts.count <= 2 else { return false }
        return parts.count == 1 || (parts[1].tag == DER.null && parts[1].contents.isEmpty)
    }

    /// The dotted OID of a CertID's hash algorithm: the usual ones from a table (no text conversion per request).
    static func hashOID(_ object: OpaquePointer?) -> String {
        switch OBJ_obj2nid(object) {
        case NID_sha1: "1.3.14.3.2.26"
        case NID_sha256: "2.16.840.1.101.3.4.2.1"
        case NID_sha384: "2.16.840.1.101.3.4.2.2"
        case NID_sha512: "2.16.840.1.101.3.4.2.3"
        default: Certificate.oidText(object)
        }
    }

    static func bytes(_ string: UnsafeMutablePointer<ASN1_OCTET_STRING>?) -> [UInt8] {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
    }

    static func magnitude(_ integer: UnsafeMutablePointer<ASN1_INTEGER>?) -> [UInt8]? {
        guard let integer, let bn = ASN1_INTEGER_to_BN(integer, nil) else { return nil }
        defer { BN_free(bn) }
        guard BN_is_negative(bn) == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: Int((BN_num_bits(bn) + 7) / 8))
        guard !out.isEmpty else { return [0] }
        _ = BN_bn2bin(bn, &out)
        return out
    }
}
