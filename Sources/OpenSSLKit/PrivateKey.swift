internal import COpenSSL
import DERKit
import Foundation

/// An RSA private key held by OpenSSL (`EVP_PKEY`).
public final class PrivateKey: @unchecked Sendable {
    // EVP_PKEY is safe to use from several threads once built: every operation below makes its own context.
    let pointer: OpaquePointer
    /// The public half's SubjectPublicKeyInfo, made once (the key never changes).
    private let publicDERLock = NSLock()
    private var publicDER: [UInt8]?

    init(owning pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// Generates a new RSA key with public exponent 65537.
    public static func generateRSA(bits: Int = 2048) throws(OpenSSLError) -> PrivateKey {
        let ctx = try nonNil(EVP_PKEY_CTX_new_from_name(nil, "RSA", nil), "EVP_PKEY_CTX_new_from_name(RSA)")
        defer { EVP_PKEY_CTX_free(ctx) }
        try check(EVP_PKEY_keygen_init(ctx), "EVP_PKEY_keygen_init")
        guard EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) > 0 else { throw OpenSSLError("set RSA key size") }
        var key: OpaquePointer?
        try check(EVP_PKEY_generate(ctx, &key), "EVP_PKEY_generate")
        return PrivateKey(owning: try nonNil(key, "EVP_PKEY_generate"))
    }

    /// Reads a PEM private key (PKCS#8 or traditional), unencrypted.
    public convenience init(pem: String) throws(OpenSSLError) {
        let key = try withReadBIO(Array(pem.utf8)) { (bio) throws(OpenSSLError) -> OpaquePointer in
            try nonNil(PEM_read_bio_PrivateKey(bio, nil, nil, nil), "reading a PEM private key")
        }
        self.init(owning: key)
    }

    /// The key as unencrypted PKCS#8 PEM.
    public func pem() throws(OpenSSLError) -> String {
        let bytes = try withWriteBIO { (bio) throws(OpenSSLError) in
            try check(PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil), "PEM_write_bio_PrivateKey")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The DER SubjectPublicKeyInfo of the public half.
    ///
    /// For RSA it is written here from the modulus and exponent (rsaEncryption, NULL parameters,
    /// RSAPublicKey), as i2d_PUBKEY writes it, without OpenSSL 3's encoder lookup, which costs about
    /// a third of a certificate's issuance; and it is kept, since issuance asks twice per certificate.
    public func publicKeyDER() throws(OpenSSLError) -> [UInt8] {
        publicDERLock.lock(); defer { publicDERLock.unlock() }
        if let publicDER { return publicDER }
        let made: [UInt8]
        if let rsa = rsaSubjectPublicKeyInfo() { made = rsa } else { made = try encodedPublicKeyDER() }
        publicDER = made
        return made
    }

    /// OpenSSL's encoder: for keys other than RSA, and for the test that compares it with `publicKeyDER()`.
    func encodedPublicKeyDER() throws(OpenSSLError) -> [UInt8] {
        try encodeDER("i2d_PUBKEY") { i2d_PUBKEY(pointer, $0) }
    }

    private func rsaSubjectPublicKeyInfo() -> [UInt8]? {
        guard EVP_PKEY_get_base_id(pointer) == EVP_PKEY_RSA else { return nil }
        func parameter(_ name: String) -> [UInt8]? {
            var bn: OpaquePointer?
            guard EVP_PKEY_get_bn_param(pointer, name, &bn) == 1, let bn else { return nil }
            defer { BN_free(bn) }
            var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(bn) + 7) / 8))
            guard BN_bn2bin(bn, &bytes) == Int32(bytes.count) else { return nil }
            return bytes
        }
        guard let n = parameter("n"), let e = parameter("e") else { return nil }
        let rsaPublicKey = DER.sequence([DER.unsignedInteger(n), DER.unsignedInteger(e)])
        return DER.sequence([DER.sequence([DER.knownOID("1.2.840.113549.1.1.1"), DER.nullValue()]),
                             DER.node(DER.bitString, [0] + rsaPublicKey)])
    }

    /// The key size in bits.
    public var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message` (the DigestInfo is built by OpenSSL).
    public func signSHA256(_ message: [UInt8]) throws(OpenSSLError) -> [UInt8] {
        let ctx = try nonNil(EVP_MD_CTX_new(), "EVP_MD_CTX_new")
        defer { EVP_MD_CTX_free(ctx) }
        try check(EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, pointer), "EVP_DigestSignInit")
        var length = 0
        try check(EVP_DigestSign(ctx, nil, &length, message, message.count), "EVP_DigestSign (size)")
        var signature = [UInt8](repeating: 0, count: length)
        try check(EVP_DigestSign(ctx, &signature, &length, message, message.count), "EVP_DigestSign")
        return Array(signature.prefix(length))
    }
}

extension PrivateKey {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over the concatenation of `pieces`, without concatenating them
    /// (a CRL of a million entries is hashed where it lies).
    public func signSHA256(pieces: [[UInt8]]) throws(OpenSSLError) -> [UInt8] {
        let ctx = try nonNil(EVP_MD_CTX_new(), "EVP_MD_CTX_new")
        defer { EVP_MD_CTX_free(ctx) }
        try check(EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, pointer), "EVP_DigestSignInit")
        for piece in pieces where !piece.isEmpty {
            try check(piece.withUnsafeBytes { EVP_DigestSignUpdate(ctx, $0.baseAddress, $0.count) }, "EVP_DigestSignUpdate")
        }
        var length = 0
        try check(EVP_DigestSignFinal(ctx, nil, &length), "EVP_DigestSignFinal (size)")
        var signature = [UInt8](repeating: 0, count: length)
        try check(EVP_DigestSignFinal(ctx, &signature, &length), "EVP_DigestSignFinal")
        return Array(signature.prefix(length))
    }
}

/// A public key held by OpenSSL.
public final class PublicKey: @unchecked Sendable {
    let pointer: OpaquePointer
    init(owning pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// Reads a DER SubjectPublicKeyInfo.
    public convenience init(der: [UInt8]) throws(OpenSSLError) {
        let key = try decodeDER(der, "reading a SubjectPublicKeyInfo") { cursor, count in d2i_PUBKEY(nil, cursor, count) }
        self.init(owning: key)
    }

    public func der() throws(OpenSSLError) -> [UInt8] {
        try encodeDER("i2d_PUBKEY") { i2d_PUBKEY(pointer, $0) }
    }

    /// Checks an RSASSA-PKCS1-v1_5 SHA-256 signature. False for a wrong signature; throws only when OpenSSL fails.
    public func verifySHA256(signature: [UInt8], message: [UInt8]) throws(OpenSSLError) -> Bool {
        let ctx = try nonNil(EVP_MD_CTX_new(), "EVP_MD_CTX_new")
        defer { EVP_MD_CTX_free(ctx) }
        try check(EVP_DigestVerifyInit(ctx, nil, EVP_sha256(), nil, pointer), "EVP_DigestVerifyInit")
        let result = EVP_DigestVerify(ctx, signature, signature.count, message, message.count)
        ERR_clear_error()
        return result == 1
    }
}
