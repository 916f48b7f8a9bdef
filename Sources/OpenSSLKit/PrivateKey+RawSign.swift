internal import COpenSSL

extension PrivateKey {
    /// The size of this key's signatures in bytes (256 for RSA-2048).
    public var signatureSize: Int { Int(EVP_PKEY_get_size(pointer)) }

    /// RSASSA-PKCS1-v1_5 over a DigestInfo the caller has already built (RFC 8017 §9.2 from step 3 on):
    /// no hash is applied, the input is padded with type-1 padding and raised to the private exponent.
    /// This is what a smart card's COMPUTE DIGITAL SIGNATURE does with the DigestInfo it receives.
    /// The input must leave room for the padding (at most `signatureSize - 11` bytes).
    public func signPKCS1(digestInfo: [UInt8]) throws(OpenSSLError) -> [UInt8] {
        guard !digestInfo.isEmpty, digestInfo.count <= signatureSize - 11 else {
            throw OpenSSLError("a PKCS#1 v1.5 input of \(digestInfo.count) bytes does not fit a \(signatureSize)-byte key (1 to \(signatureSize - 11) bytes)")
        }
        let ctx = try nonNil(EVP_PKEY_CTX_new(pointer, nil), "EVP_PKEY_CTX_new")
        defer { EVP_PKEY_CTX_free(ctx) }
        try check(EVP_PKEY_sign_init(ctx), "EVP_PKEY_sign_init")
        // No signature digest is set, so OpenSSL takes the input as the DigestInfo itself.
        try check(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), "EVP_PKEY_CTX_set_rsa_padding")
        var length = 0
        try check(EVP_PKEY_sign(ctx, nil, &length, digestInfo, digestInfo.count), "EVP_PKEY_sign (size)")
        var signature = [UInt8](repeating: 0, count: length)
        try check(EVP_PKEY_sign(ctx, &signature, &length, digestInfo, digestInfo.count), "EVP_PKEY_sign")
        return Array(signature.prefix(length))
    }
}
