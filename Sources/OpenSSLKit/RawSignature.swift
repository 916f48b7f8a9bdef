internal import COpenSSL

extension PrivateKey {
    /// The size of this key's signatures in bytes (256 for RSA-2048).
    public var signatureSize: Int { Int(EVP_PKEY_get_size(pointer)) }

    /// The card's signing primitive: RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.1, EMSA-PKCS1-v1_5 step 2 onward)
    /// over a DigestInfo the caller built, with no hashing here:
    ///
    ///     DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }
    ///
    /// `EVP_PKEY_sign` with `RSA_PKCS1_PADDING` and no message digest set pads and signs the bytes as given.
    public func signDigestInfo(_ digestInfo: [UInt8]) throws(OpenSSLError) -> [UInt8] {
        guard !digestInfo.isEmpty, digestInfo.count <= bits / 8 - 11 else {
            throw OpenSSLError("the DigestInfo must be 1 to \(bits / 8 - 11) bytes for a \(bits)-bit key, not \(digestInfo.count)")
        }
        let ctx = try nonNil(EVP_PKEY_CTX_new(pointer, nil), "EVP_PKEY_CTX_new")
        defer { EVP_PKEY_CTX_free(ctx) }
        try check(EVP_PKEY_sign_init(ctx), "EVP_PKEY_sign_init")
        guard EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 else { throw OpenSSLError("EVP_PKEY_CTX_set_rsa_padding") }
        var length = 0
        try check(EVP_PKEY_sign(ctx, nil, &length, digestInfo, digestInfo.count), "EVP_PKEY_sign (size)")
        var signature = [UInt8](repeating: 0, count: length)
        try check(EVP_PKEY_sign(ctx, &signature, &length, digestInfo, digestInfo.count), "EVP_PKEY_sign")
        return Array(signature.prefix(length))
    }
}
