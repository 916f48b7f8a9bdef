internal import COpenSSL

/// A CRL as OpenSSL reads it (`X509_CRL`): to check what `CRLBuilder` wrote with a parser we did not write.
public final class CertificateRevocationList: @unchecked Sendable {
    let pointer: OpaquePointer

    public init(der: [UInt8]) throws(OpenSSLError) {
        pointer = try decodeDER(der, "reading a DER CRL") { cursor, count in d2i_X509_CRL(nil, cursor, count) }
    }
    deinit { X509_CRL_free(pointer) }

    /// Whether `issuer`'s key made the CRL's signature.
    public func isSigned(by issuer: Certificate) -> Bool {
        guard let key = X509_get0_pubkey(issuer.pointer) else { return false }
        let ok = X509_CRL_verify(pointer, key) == 1
        ERR_clear_error()
        return ok
    }

    /// Whether the CRL lists the serial (big-endian magnitude).
    public func contains(serial: [UInt8]) -> Bool {
        guard let bn = BN_bin2bn(serial, Int32(serial.count), nil) else { return false }
        defer { BN_free(bn) }
        guard let integer = BN_to_ASN1_INTEGER(bn, nil) else { return false }
        defer { ASN1_INTEGER_free(integer) }
        var entry: OpaquePointer?
        return X509_CRL_get0_by_serial(pointer, &entry, integer) == 1
    }

    public var thisUpdate: Int64 { Int64(Certificate.date(X509_CRL_get0_lastUpdate(pointer)).timeIntervalSince1970) }
    public var nextUpdate: Int64 { Int64(Certificate.date(X509_CRL_get0_nextUpdate(pointer)).timeIntervalSince1970) }
}
