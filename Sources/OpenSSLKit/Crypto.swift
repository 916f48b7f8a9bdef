internal import COpenSSL
import DERKit
import Foundation

/// Hashes, randomness and password hashing from OpenSSL.
public enum Crypto {
    public static func sha256(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha256(), 32) }
    public static func sha1(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha1(), 20) }

    private static func digest(_ data: [UInt8], _ md: OpaquePointer?, _ size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { EVP_Digest($0.baseAddress, data.count, &out, &length, md, nil) }
        precondition(ok == 1 && Int(length) == size, "EVP_Digest failed")
        return Array(out.prefix(Int(length)))
    }

    /// Cryptographically secure random bytes.
    public static func randomBytes(_ count: Int) throws(OpenSSLError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try check(RAND_bytes(&bytes, Int32(count)), "RAND_bytes")
        return bytes
    }

    /// PBKDF2-HMAC-SHA256 (RFC 8018), a deliberately slow, salted password hash.
    public static func pbkdf2SHA256(password: String, salt: [UInt8], iterations: Int, length: Int = 32) throws(OpenSSLError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let pw = Array(password.utf8)
        let ok = pw.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { pc in
                PKCS5_PBKDF2_HMAC(pc.baseAddress, Int32(pw.count), salt, Int32(salt.count), Int32(iterations), EVP_sha256(), Int32(length), &out)
            }
        }
        try check(ok, "PKCS5_PBKDF2_HMAC")
        return out
    }

    /// Compares two byte strings in time independent of where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return CRYPTO_memcmp(a, b, a.count) == 0
    }
}

extension Array where Element == UInt8 {
    /// Upper-case hexadecimal without separators.
    public var hexString: String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out = [UInt8](); out.reserveCapacity(count * 2)
        for b in self { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0x0F)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses hexadecimal text (either case, no separators); nil when it is not hex.
    public init?(hexString: String) {
        let chars = Array(hexString.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        var out = [UInt8](); out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo); i += 2
        }
        self = out
    }
}

/// Key identifiers (RFC 5280 §4.2.1.2, method 1): SHA-1 of the subjectPublicKey BIT STRING's value.
public enum KeyIdentifier {
    public static func method1(subjectPublicKeyInfo spki: [UInt8]) throws -> [UInt8] {
        let info = try DERReader.single(spki).children()
        guard info.count == 2, info[1].tag == DER.bitString, !info[1].contents.isEmpty else {
            throw DERError.unexpected("SubjectPublicKeyInfo")
        }
        return Crypto.sha1(Array(info[1].contents.dropFirst()))
    }
}
