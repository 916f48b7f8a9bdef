import DERKit
import Foundation

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
/// The parts of every response that depend on the signer alone are encoded once, here.
public struct OCSPSigner: Sendable {
    /// Copies of the one key with their signing contexts prepared once (see `RSASigningPool`).
    let pool: RSASigningPool
    public let keyHash: [UInt8]
    public let certificates: [[UInt8]]
    /// ResponderID byKey: `[2] EXPLICIT OCTET STRING`.
    let responderID: [UInt8]
    /// What follows the signature in a BasicOCSPResponse: `[0] EXPLICIT SEQUENCE OF Certificate`, or nothing.
    let certificatesField: [UInt8]

    public init(key: PrivateKey, keyHash: [UInt8], certificates: [Certificate], copies: Int = 4) throws(OpenSSLError) {
        pool = try RSASigningPool(key: key, copies: max(1, copies))
        self.keyHash = keyHash
        var ders: [[UInt8]] = []
        for c in certificates { ders.append(try c.der()) }
        self.certificates = ders
        responderID = DER.explicit(2, DER.octets(keyHash))
        certificatesField = ders.isEmpty ? [] : DER.explicit(0, DER.sequence(ders))
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
    ///
    /// Written in one pass into one buffer, the lengths computed first; the signature is written in
    /// place over the bytes of ResponseData already laid out.
    public static func successful(signer: OCSPSigner, producedAt: Int64, responses: [OCSPSingleResponse],
                                  nonceExtensionValue: [UInt8]?) throws(OpenSSLError) -> [UInt8] {
        var singles: [UInt8] = []
        singles.reserveCapacity(responses.reduce(0) { $0 + $1.certIDDER.count + 64 })
        for r in responses { appendSingle(r, to: &singles) }
        let nonce = nonceExtensionValue.map { DER.explicit(1, DER.sequence([DER.sequence([nonceOID, DER.octets($0)])])) } ?? []
        let signatureBytes = signer.pool.signatureBytes
        // Lengths, innermost first.
        let tbsContent = signer.responderID.count + 17 + tlvSize(singles.count) + nonce.count
        let basicContent = tlvSize(tbsContent) + sha256WithRSA.count + tlvSize(1 + signatureBytes) + signer.certificatesField.count
        let responseBytesContent = basicOID.count + tlvSize(tlvSize(basicContent))
        let responseContent = 3 + tlvSize(tlvSize(responseBytesContent))
        var out: [UInt8] = []
        out.reserveCapacity(tlvSize(responseContent))
        appendHeader(DER.sequence, responseContent, to: &out)
        out += [DER.enumerated, 1, OCSPResponseStatus.successful.rawValue]
        appendHeader(DER.context(0, constructed: true), tlvSize(responseBytesContent), to: &out)
        appendHeader(DER.sequence, responseBytesContent, to: &out)
        out += basicOID
        appendHeader(DER.octetString, tlvSize(basicContent), to: &out)
        appendHeader(DER.sequence, basicContent, to: &out)
        let tbsStart = out.count
        appendHeader(DER.sequence, tbsContent, to: &out)
        out += signer.responderID
        DERTime.append(producedAt, generalized: true, to: &out)
        appendHeader(DER.sequence, singles.count, to: &out)
        out += singles
        out += nonce
        let tbsEnd = out.count
        out += sha256WithRSA
        appendHeader(DER.bitString, 1 + signatureBytes, to: &out)
        out.append(0)
        let signatureStart = out.count
        out += repeatElement(0, count: signatureBytes)
        out += signer.certificatesField
        assert(out.count == tlvSize(responseContent))
        let signed = out.withUnsafeMutableBytes { buffer -> Bool in
            let tbs = UnsafeRawBufferPointer(rebasing: buffer[tbsStart..<tbsEnd])
            let signature = UnsafeMutableRawBufferPointer(rebasing: buffer[signatureStart..<signatureStart + signatureBytes])
            return (try? signer.pool.sign(tbs, into: signature)) != nil
        }
        guard signed else { throw OpenSSLError("signing an OCSP response") }
        return out
    }

    /// The size of a TLV whose contents are `count` bytes.
    @inline(__always)
    static func tlvSize(_ count: Int) -> Int {
        count < 0x80 ? 2 + count : count < 0x100 ? 3 + count : count < 0x10000 ? 4 + count : 5 + count
    }

    /// A tag and the DER length of `count` bytes of contents (up to 2^24 - 1).
    @inline(__always)
    static func appendHeader(_ tag: UInt8, _ count: Int, to out: inout [UInt8]) {
        out.append(tag)
        if count < 0x80 { out.append(UInt8(count)) }
        else if count < 0x100 { out.append(0x81); out.append(UInt8(count)) }
        else if count < 0x10000 { out.append(0x82); out.append(UInt8(count >> 8)); out.append(UInt8(count & 0xFF)) }
        else { precondition(count < 0x100_0000); out.append(0x83); out.append(UInt8(count >> 16)); out.append(UInt8(count >> 8 & 0xFF)); out.append(UInt8(count & 0xFF)) }
    }

    static func single(_ r: OCSPSingleResponse) -> [UInt8] {
        var out: [UInt8] = []
        appendSingle(r, to: &out)
        return out
    }

    static func appendSingle(_ r: OCSPSingleResponse, to out: inout [UInt8]) {
        // CertStatus: good [0] NULL, unknown [2] NULL, revoked [1] { GeneralizedTime, [0] { ENUMERATED } }.
        let statusSize: Int
        switch r.status {
        case .good, .unknown: statusSize = 2
        case .revoked(_, let reason): statusSize = tlvSize(17 + (reason == nil ? 0 : 5))
        }
        let content = r.certIDDER.count + statusSize + 17 + (r.nextUpdate == nil ? 0 : 19)
        appendHeader(DER.sequence, content, to: &out)
        out += r.certIDDER
        switch r.status {
        case .good: out += [0x80, 0x00]
        case .unknown: out += [0x82, 0x00]
        case .revoked(let time, let reason):
            appendHeader(DER.context(1, constructed: true), 17 + (reason == nil ? 0 : 5), to: &out)
            DERTime.append(time, generalized: true, to: &out)
            if let reason { out += [DER.context(0, constructed: true), 3, DER.enumerated, 1, UInt8(reason)] }
        }
        DERTime.append(r.thisUpdate, generalized: true, to: &out)
        if let next = r.nextUpdate {
            out += [DER.context(0, constructed: true), 17]
            DERTime.append(next, generalized: true, to: &out)
        }
    }
}

/// A counter shared between threads.
final class Turn: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value &+= 1; return value & Int.max }
}
