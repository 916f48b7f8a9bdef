internal import COpenSSL

extension Crypto {
    public static func sha384(_ data: [UInt8]) -> [UInt8] { evpDigest(data, EVP_sha384()) }
    public static func sha512(_ data: [UInt8]) -> [UInt8] { evpDigest(data, EVP_sha512()) }

    static func evpDigest(_ data: [UInt8], _ md: OpaquePointer?) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { EVP_Digest($0.baseAddress, data.count, &out, &length, md, nil) }
        precondition(ok == 1, "EVP_Digest failed")
        return Array(out.prefix(Int(length)))
    }
}
