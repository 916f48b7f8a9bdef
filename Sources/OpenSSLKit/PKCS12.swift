internal import COpenSSL
internal import CJPKIShims

/// PKCS#12 files (a key, its certificate and the chain), as OpenSSL 3 writes them by default
/// (PBES2 with AES-256-CBC, HMAC-SHA-256 MAC), which `openssl pkcs12` and Python `cryptography` read.
public enum PKCS12 {
    public static func make(key: PrivateKey, certificate: Certificate, chain: [Certificate], password: String, friendlyName: String) throws(OpenSSLError) -> [UInt8] {
        let stack = try nonNil(jpki_sk_X509_new_null(), "sk_X509_new_null")
        defer { jpki_sk_X509_free(stack) }
        for cert in chain { _ = jpki_sk_X509_push(stack, cert.pointer) }
        let p12 = try nonNil(PKCS12_create(password, friendlyName, key.pointer, certificate.pointer, stack, 0, 0, 0, 0, 0), "PKCS12_create")
        defer { PKCS12_free(p12) }
        return try encodeDER("i2d_PKCS12") { i2d_PKCS12(p12, $0) }
    }

    /// Opens a PKCS#12 file: the key, its certificate and any other certificates.
    public static func open(_ der: [UInt8], password: String) throws(OpenSSLError) -> (key: PrivateKey, certificate: Certificate, chain: [Certificate]) {
        let p12 = try decodeDER(der, "reading PKCS#12") { cursor, count in d2i_PKCS12(nil, cursor, count) }
        defer { PKCS12_free(p12) }
        var key: OpaquePointer?
        var cert: OpaquePointer?
        var ca: OpaquePointer?
        try check(PKCS12_parse(p12, password, &key, &cert, &ca), "PKCS12_parse (wrong password?)")
        var chain: [Certificate] = []
        if let ca {
            for i in 0..<jpki_sk_X509_num(ca) {
                if let c = jpki_sk_X509_value(ca, i) { X509_up_ref(c); chain.append(Certificate(owning: c)) }
            }
            jpki_sk_X509_pop_free(ca)
        }
        return (PrivateKey(owning: try nonNil(key, "PKCS#12 holds no key")), Certificate(owning: try nonNil(cert, "PKCS#12 holds no certificate")), chain)
    }
}
