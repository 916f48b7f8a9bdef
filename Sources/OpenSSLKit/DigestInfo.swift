/// DigestInfo (RFC 8017 §9.2): what PKCS#1 v1.5 signs, and what a card's signing primitive takes.
public enum DigestInfo {
    /// The DER DigestInfo of a SHA-256 digest: the fixed 19-byte prefix of RFC 8017 §9.2, note 1, then the digest.
    public static func sha256(digest: [UInt8]) -> [UInt8] {
        [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20] + digest
    }
}
