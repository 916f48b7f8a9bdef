internal import COpenSSL
import DERKit
import Foundation

/// Issues many certificates with one issuer key: the TBSCertificate is encoded here in one pass from
/// the template (DERKit), hashed, and signed on a prepared RSA context (`RSASigningPool`), instead of
/// building an OpenSSL `X509` field by field and letting `X509_sign` fetch the algorithms, make a new
/// context and encode the structure twice per certificate.
///
/// The bytes are the ones `CertificateTemplate.sign(with:)` makes for the same template and key
/// (RSASSA-PKCS1-v1_5 is deterministic); OpenSSLKitTests compares the two byte for byte. Keys other
/// than RSA take that path instead.
public final class CertificateSigner: @unchecked Sendable {
    private let key: PrivateKey
    private let copies: Int
    private let lock = NSLock()
    private var pool: RSASigningPool?
    let isRSA: Bool

    /// `copies`: how many threads may sign at once without waiting (each copy is a copy of the key).
    public init(key: PrivateKey, copies: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.key = key
        self.copies = max(1, copies)
        isRSA = EVP_PKEY_get_base_id(key.pointer) == EVP_PKEY_RSA
    }

    private func signingPool() throws(OpenSSLError) -> RSASigningPool {
        lock.lock(); defer { lock.unlock() }
        if let pool { return pool }
        let made = try RSASigningPool(key: key, copies: copies)
        pool = made
        return made
    }

    /// The DER certificate of `template`, signed with sha256WithRSAEncryption.
    public func signDER(_ template: CertificateTemplate) throws(OpenSSLError) -> [UInt8] {
        guard isRSA else { return try template.sign(with: key).der() }
        let tbs = try template.tbsDER()
        let pool = try signingPool()
        var signature = [UInt8](repeating: 0, count: pool.signatureBytes)
        var failure: OpenSSLError?
        tbs.withUnsafeBytes { message in
            signature.withUnsafeMutableBytes { out in
                do throws(OpenSSLError) { try pool.sign(message, into: out) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        var body = tbs
        body.reserveCapacity(tbs.count + OCSPResponseEncoder.sha256WithRSA.count + signature.count + 8)
        body += OCSPResponseEncoder.sha256WithRSA
        body.append(DER.bitString)
        body += DER.length(signature.count + 1)
        body.append(0)
        body += signature
        return [DER.sequence] + DER.length(body.count) + body
    }

}

extension CertificateTemplate {
    /// The TBSCertificate (RFC 5280 §4.1) in DER, field for field as `sign(with:)` has OpenSSL write it.
    func tbsDER() throws(OpenSSLError) -> [UInt8] {
        let publicKey = try subjectKeyPair?.publicKeyDER() ?? subjectPublicKey
        var body: [UInt8] = []
        body.reserveCapacity(1024 + publicKey.count + extensions.reduce(0) { $0 + $1.value.count + 16 })
        body += DER.explicit(0, DER.integer(2))                      // version v3
        body += DER.unsignedInteger(serial)
        body += OCSPResponseEncoder.sha256WithRSA
        body += issuerDER ?? issuer.der
        var validity: [UInt8] = []
        DERTime.append(Int64(notBefore.timeIntervalSince1970), to: &validity)
        DERTime.append(Int64(notAfter.timeIntervalSince1970), to: &validity)
        body += DER.node(DER.sequence, validity)
        body += subjectDER ?? subject.der
        body += publicKey
        if !extensions.isEmpty {
            var list: [UInt8] = []
            for ext in extensions {
                guard let oid = DER.oid(ext.oid) else { throw OpenSSLError("OBJ_txt2obj(\(ext.oid))") }
                var fields = oid
                if ext.critical { fields += DER.bool(true) }
                fields += DER.octets(ext.value)
                list += DER.node(DER.sequence, fields)
            }
            body += DER.explicit(3, DER.node(DER.sequence, list))
        }
        return DER.node(DER.sequence, body)
    }
}
