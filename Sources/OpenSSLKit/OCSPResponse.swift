import DERKit

/// OCSPResponseStatus (RFC 6960 §4.2.1).
public enum OCSPResponseStatus: UInt8, Sendable, CaseIterable {
    case successful = 0, malformedRequest = 1, internalError = 2, tryLater = 3, sigRequired = 5, unauthorized = 6

    public var name: String {
        switch self {
        case .successful: "successful"
        case .malformedRequest: "malformedRequest"
        case .internalError: "internalError"
        case .tryLater: "tryLater"
        case .sigRequired: "sigRequired"
        case .unauthorized: "unauthorized"
        }
    }
}

/// CertStatus (RFC 6960 §4.2.1). Times are seconds since 1970.
///
/// ```
/// CertStatus ::= CHOICE {
///     good        [0]     IMPLICIT NULL,
///     revoked     [1]     IMPLICIT RevokedInfo,
///     unknown     [2]     IMPLICIT UnknownInfo }
/// RevokedInfo ::= SEQUENCE {
///     revocationTime              GeneralizedTime,
///     revocationReason    [0]     EXPLICIT CRLReason OPTIONAL }
/// ```
public enum OCSPCertStatus: Sendable, Hashable {
    case good
    case revoked(time: Int64, reason: Int?)
    case unknown
}

/// One SingleResponse: the CertID as asked, its status and the validity of the answer.
public struct OCSPSingleResponse: Sendable, Hashable {
    public let certIDDER: [UInt8]
    public let status: OCSPCertStatus
    public let thisUpdate: Int64
    public let nextUpdate: Int64?
    public init(certIDDER: [UInt8], status: OCSPCertStatus, thisUpdate: Int64, nextUpdate: Int64?) {
        self.certIDDER = certIDDER; self.status = status; self.thisUpdate = thisUpdate; self.nextUpdate = nextUpdate
    }
}

/// Who signs OCSP responses: a key, the SHA-1 hash of its public key (ResponderID byKey), and the
/// certificates to send along (a delegated responder's certificate; none when the issuer signs).
public struct OCSPSigner: Sendable {
    let key: PrivateKey
    public let keyHash: [UInt8]
    public let certificates: [[UInt8]]

    public init(key: PrivateKey, keyHash: [UInt8], certificates: [Certificate]) throws(OpenSSLError) {
        self.key = key; self.keyHash = keyHash
        var ders: [[UInt8]] = []
        for c in certificates { ders.append(try c.der()) }
        self.certificates = ders
    }
}

/// Encodes OCSP responses (RFC 6960 §4.2.1) with our DER writer and signs them with
/// sha256WithRSAEncryption. What to answer is decided by the caller.
///
/// ```
/// OCSPResponse ::= SEQUENCE {
///     responseStatus         OCSPResponseStatus,
///     responseBytes          [0] EXPLICIT ResponseBytes OPTIONAL }
/// BasicOCSPResponse ::= SEQUENCE {
///     tbsResponseData      ResponseData,
///     signatureAlgorithm   AlgorithmIdentifier,
///     signature            BIT STRING,
///     certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
/// ResponseData ::= SEQUENCE {
///     version              [0] EXPLICIT Version DEFAULT v1,
///     responderID              ResponderID,
///     producedAt               GeneralizedTime,
///     responses                SEQUENCE OF SingleResponse,
///     responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
/// SingleResponse ::= SEQUENCE {
///     certID                       CertID,
///     certStatus                   CertStatus,
///     thisUpdate                   GeneralizedTime,
///     nextUpdate         [0]       EXPLICIT GeneralizedTime OPTIONAL,
///     singleExtensions   [1]       EXPLICIT Extensions OPTIONAL }
/// ```
public enum OCSPResponseEncoder {
    static let basicOID = DER.knownOID("1.3.6.1.5.5.7.48.1.1")
    static let nonceOID = DER.knownOID(OCSPRequest.nonceOID)
    /// sha256WithRSAEncryption with NULL parameters.
    static let sha256WithRSA = DER.sequence([DER.knownOID("1.2.840.113549.1.1.11"), DER.nullValue()])

    /// An unsuccessful response: only the status (RFC 6960 §4.2.1: no responseBytes).
    public static func unsuccessful(_ status: OCSPResponseStatus) -> [UInt8] {
        precondition(status != .successful)
        return DER.sequence([DER.node(DER.enumerated, [status.rawValue])])
    }

    /// A signed, successful response. `nonceExtensionValue` is the request's nonce extnValue, echoed as is.
    public static func successful(signer: OCSPSigner, producedAt: Int64, responses: [OCSPSingleResponse],
                                  nonceExtensionValue: [UInt8]?) throws(OpenSSLError) -> [UInt8] {
        var singles: [[UInt8]] = []
        singles.reserveCapacity(responses.count)
        for r in responses { singles.append(single(r)) }
        var data: [[UInt8]] = [
            DER.explicit(2, DER.octets(signer.keyHash)),                // responderID byKey
            DERTime.encode(producedAt, generalized: true),
            DER.sequence(singles),
        ]
        if let nonce = nonceExtensionValue {
            data.append(DER.explicit(1, DER.sequence([DER.sequence([nonceOID, DER.octets(nonce)])])))
        }
        let tbs = DER.sequence(data)
        let signature = try signer.key.signSHA256(tbs)
        var basic: [[UInt8]] = [tbs, sha256WithRSA, DER.node(DER.bitString, [0] + signature)]
        if !signer.certificates.isEmpty {
            basic.append(DER.explicit(0, DER.sequence(signer.certificates)))
        }
        return DER.sequence([
            DER.node(DER.enumerated, [OCSPResponseStatus.successful.rawValue]),
            DER.explicit(0, DER.sequence([basicOID, DER.octets(DER.sequence(basic))])),
        ])
    }

    static func single(_ r: OCSPSingleResponse) -> [UInt8] {
        let status: [UInt8]
        switch r.status {
        case .good: status = [0x80, 0x00]
        case .unknown: status = [0x82, 0x00]
        case .revoked(let time, let reason):
            var info = DERTime.encode(time, generalized: true)
            if let reason { info += DER.explicit(0, DER.node(DER.enumerated, [UInt8(reason)])) }
            status = DER.node(DER.context(1, constructed: true), info)
        }
        var parts = [r.certIDDER, status, DERTime.encode(r.thisUpdate, generalized: true)]
        if let next = r.nextUpdate { parts.append(DER.explicit(0, DERTime.encode(next, generalized: true))) }
        return DER.sequence(parts)
    }
}
