import DERKit

/// Builds an X.509 v2 CRL (RFC 5280 §5.1) byte by byte and signs it with sha256WithRSAEncryption.
///
/// OpenSSL's `X509_CRL` keeps every entry as a separate object and sorts them; for a million entries
/// that is slow and large. Here entries are appended straight into one DER buffer (about 45 bytes
/// each) and the whole list is hashed once. Which entries and extensions a CRL carries is decided by
/// the caller; this type only knows X.509.
///
/// ```
/// CertificateList  ::=  SEQUENCE  {
///      tbsCertList          TBSCertList,
///      signatureAlgorithm   AlgorithmIdentifier,
///      signatureValue       BIT STRING  }
/// TBSCertList  ::=  SEQUENCE  {
///      version                 Version OPTIONAL, -- if present, MUST be v2
///      signature               AlgorithmIdentifier,
///      issuer                  Name,
///      thisUpdate              Time,
///      nextUpdate              Time OPTIONAL,
///      revokedCertificates     SEQUENCE OF SEQUENCE  {
///           userCertificate         CertificateSerialNumber,
///           revocationDate          Time,
///           crlEntryExtensions      Extensions OPTIONAL } OPTIONAL,
///      crlExtensions           [0]  EXPLICIT Extensions OPTIONAL }
/// ```
public struct CRLBuilder: Sendable {
    public let issuer: [UInt8]
    public let thisUpdate: Int64
    public let nextUpdate: Int64
    private var entries: [UInt8] = []
    public private(set) var entryCount = 0

    /// `issuer` is the DER Name of the issuer; times are seconds since 1970.
    public init(issuer: [UInt8], thisUpdate: Int64, nextUpdate: Int64, expectedEntries: Int = 0) {
        self.issuer = issuer; self.thisUpdate = thisUpdate; self.nextUpdate = nextUpdate
        entries.reserveCapacity(expectedEntries * 48)
    }

    // reasonCode (2.5.29.21) with an ENUMERATED of one byte: Extension { extnID, extnValue OCTET STRING }.
    private static let reasonPrefix: [UInt8] = [0x30, 0x0C, 0x30, 0x0A, 0x06, 0x03, 0x55, 0x1D, 0x15, 0x04, 0x03, 0x0A, 0x01]

    /// Adds a revoked certificate. `serial` is the big-endian magnitude; `reasonCode` nil leaves the
    /// reasonCode extension out (RFC 5280 §5.3.1 prefers that to `unspecified`).
    public mutating func add(serial: [UInt8], revocationDate: Int64, reasonCode: Int?) {
        var magnitude = serial.drop(while: { $0 == 0 })
        if magnitude.isEmpty { magnitude = [0] }
        let pad = magnitude.first! & 0x80 != 0 ? 1 : 0
        let integerLength = magnitude.count + pad
        let timeLength = Self.timeLength(revocationDate)
        let contents = 2 + integerLength + timeLength + (reasonCode != nil ? 14 : 0)
        entries.append(DER.sequence)
        Self.appendLength(contents, to: &entries)
        entries.append(DER.integer)
        Self.appendLength(integerLength, to: &entries)
        if pad == 1 { entries.append(0) }
        entries.append(contentsOf: magnitude)
        DERTime.append(revocationDate, to: &entries)
        if let reasonCode {
            entries.append(contentsOf: Self.reasonPrefix)
            entries.append(UInt8(truncatingIfNeeded: reasonCode))
        }
        entryCount += 1
    }

    /// The signed CRL in DER. `extensions` become crlExtensions in the order given.
    public func sign(with key: PrivateKey, extensions: [CertificateExtension]) throws(OpenSSLError) -> [UInt8] {
        var head: [UInt8] = DER.integer(1) + OCSPResponseEncoder.sha256WithRSA + issuer
        head += DERTime.encode(thisUpdate) + DERTime.encode(nextUpdate)
        var tail: [UInt8] = []
        if !extensions.isEmpty {
            tail = DER.explicit(0, DER.sequence(extensions.map { ext in
                DER.sequence([DER.knownOID(ext.oid)] + (ext.critical ? [DER.bool(true)] : []) + [DER.octets(ext.value)])
            }))
        }
        let listHeader: [UInt8] = entryCount > 0 ? [DER.sequence] + DER.length(entries.count) : []
        let tbsContents = head.count + listHeader.count + (entryCount > 0 ? entries.count : 0) + tail.count
        let tbsHeader = [DER.sequence] + DER.length(tbsContents)
        let body = entryCount > 0 ? entries : []
        // Hashed in place; the entries are copied once, into the result.
        let signature = try key.signSHA256(pieces: [tbsHeader, head, listHeader, body, tail])
        let bitString = DER.node(DER.bitString, [0] + signature)
        let contents = tbsHeader.count + tbsContents + OCSPResponseEncoder.sha256WithRSA.count + bitString.count
        var out: [UInt8] = []
        out.reserveCapacity(contents + 8)
        out.append(DER.sequence)
        out += DER.length(contents)
        for piece in [tbsHeader, head, listHeader, body, tail, OCSPResponseEncoder.sha256WithRSA, bitString] { out += piece }
        return out
    }

    @inline(__always)
    static func timeLength(_ seconds: Int64) -> Int {
        // UTCTime 2 + 13 from 1950 through 2049, else GeneralizedTime 2 + 15.
        (-631_152_000..<2_524_608_000).contains(seconds) ? 15 : 17
    }

    @inline(__always)
    static func appendLength(_ count: Int, to out: inout [UInt8]) {
        if count < 0x80 { out.append(UInt8(count)) } else { out += DER.length(count) }
    }
}
