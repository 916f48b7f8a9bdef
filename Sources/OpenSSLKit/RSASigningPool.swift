internal import COpenSSL
import Foundation

/// RSASSA-PKCS1-v1_5 SHA-256 signatures for a responder that signs many small messages: the
/// `EVP_PKEY_CTX` of each key copy is prepared once (sign_init, PKCS#1 padding, SHA-256), so a
/// signature is a SHA-256 of the message and `EVP_PKEY_sign` on the prepared context, what
/// `openssl speed rsa2048` measures, without a fetch of the algorithms and a new context per call.
///
/// Each slot is one copy of the key with its context, used by one thread at a time (its lock):
/// threads that sign at once take different slots (OpenSSL serialises parts of the work on one
/// RSA object, e.g. its blinding).
final class RSASigningPool: @unchecked Sendable {
    private final class Slot: @unchecked Sendable {
        let lock = NSLock()
        let key: PrivateKey
        let context: OpaquePointer
        init(key: PrivateKey) throws(OpenSSLError) {
            self.key = key
            let ctx = try nonNil(EVP_PKEY_CTX_new(key.pointer, nil), "EVP_PKEY_CTX_new")
            guard EVP_PKEY_sign_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0,
                  EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 else {
                EVP_PKEY_CTX_free(ctx)
                throw OpenSSLError("preparing an RSA signing context (EVP_PKEY_sign_init, PKCS#1 padding, SHA-256)")
            }
            context = ctx
        }
        deinit { EVP_PKEY_CTX_free(context) }
    }

    private let slots: [Slot]
    private let turn = Turn()
    /// The size of every signature (the modulus' bytes).
    let signatureBytes: Int

    init(key: PrivateKey, copies: Int) throws(OpenSSLError) {
        var keys = [key]
        if copies > 1 {
            let pem = try key.pem()
            for _ in 1..<copies { keys.append(try PrivateKey(pem: pem)) }
        }
        var slots: [Slot] = []
        for k in keys { slots.append(try Slot(key: k)) }
        self.slots = slots
        signatureBytes = Int(EVP_PKEY_get_size(key.pointer))
    }

    /// Signs `message`, writing exactly `signatureBytes` bytes at `out`.
    func sign(_ message: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) throws(OpenSSLError) {
        precondition(out.count >= signatureBytes)
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let ok = withUnsafeMutableBytes(of: &digest) { d -> Int32 in
            guard SHA256(message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count,
                         d.baseAddress!.assumingMemoryBound(to: UInt8.self)) != nil else { return 0 }
            // A free slot if there is one, else the next in turn (waiting for it).
            let first = turn.next() % slots.count
            var slot = slots[first]
            var taken = false
            for i in 0..<slots.count where slots[(first + i) % slots.count].lock.try() {
                slot = slots[(first + i) % slots.count]; taken = true; break
            }
            if !taken { slot.lock.lock() }
            defer { slot.lock.unlock() }
            var length = out.count
            return EVP_PKEY_sign(slot.context, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &length,
                                 d.baseAddress!.assumingMemoryBound(to: UInt8.self), 32) == 1 && length == signatureBytes ? 1 : 0
        }
        guard ok == 1 else { throw OpenSSLError("EVP_PKEY_sign") }
    }
}
