internal import CZlib
import Foundation

/// A zip archive (PKWARE APPNOTE 6.3): enough to read an application package (stored or deflated
/// entries, no encryption, no zip64) and to write one (stored entries).
public enum ZipArchive {
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ d: String) { description = d }
    }

    /// The files of the archive by name (folders left out), from its central directory.
    public static func read(_ bytes: [UInt8]) throws(Error) -> [String: [UInt8]] {
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        // End of central directory: signature 50 4B 05 06, within the last 64 KiB + 22 bytes.
        guard bytes.count >= 22 else { throw Error("not a zip archive (too short)") }
        var eocd = -1
        var i = bytes.count - 22
        while i >= max(0, bytes.count - 22 - 65_535) {
            if bytes[i] == 0x50 && bytes[i + 1] == 0x4B && bytes[i + 2] == 0x05 && bytes[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw Error("not a zip archive (no end of central directory: truncated?)") }
        let count = u16(eocd + 10), size = u32(eocd + 12), offset = u32(eocd + 16)
        guard offset + size <= eocd else { throw Error("the central directory does not fit the file") }
        var files: [String: [UInt8]] = [:]
        var p = offset
        for _ in 0..<count {
            guard p + 46 <= bytes.count, u32(p) == 0x0201_4B50 else { throw Error("damaged central directory") }
            let flags = u16(p + 8), method = u16(p + 10), compressed = u32(p + 20), uncompressed = u32(p + 24)
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32), local = u32(p + 42)
            guard p + 46 + nameLength <= bytes.count else { throw Error("damaged central directory") }
            let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            p += 46 + nameLength + extraLength + commentLength
            if name.hasSuffix("/") { continue }
            guard flags & 1 == 0 else { throw Error("\(name) is encrypted") }
            guard local + 30 <= bytes.count, u32(local) == 0x0403_4B50 else { throw Error("damaged local header of \(name)") }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard start + compressed <= bytes.count else { throw Error("\(name) is truncated") }
            let data = Array(bytes[start..<(start + compressed)])
            switch method {
            case 0: files[name] = data
            case 8: files[name] = try inflate(data, expected: uncompressed, name: name)
            default: throw Error("\(name) uses compression method \(method) (only stored and deflate are read)")
            }
        }
        return files
    }

    static func inflate(_ data: [UInt8], expected: Int, name: String) throws(Error) -> [UInt8] {
        guard expected < 1 << 30 else { throw Error("\(name) is too large") }
        var out = [UInt8](repeating: 0, count: max(expected, 1))
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw Error("zlib init failed") }
        defer { inflateEnd(&stream) }
        var input = data
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == expected else { throw Error("\(name) does not inflate (damaged or truncated)") }
        return out.count == expected ? out : []
    }

    /// An archive of stored (uncompressed) entries, in name order, names in UTF-8 (flag bit 11).
    public static func write(_ files: [String: [UInt8]]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }
        let names = files.keys.sorted()
        for name in names {
            let data = files[name]!, nameBytes = Array(name.utf8)
            let crc = data.withUnsafeBufferPointer { Int(crc32(0, $0.baseAddress, uInt($0.count))) }
            let common = le16(20) + le16(0x0800) + le16(0) + le16(0) + le16(0x21) + le32(crc) + le32(data.count) + le32(data.count) + le16(nameBytes.count) + le16(0)
            // Made by Unix (host 3), so that unzip takes the names as the UTF-8 bytes they are (it reads
            // DOS-made names as CP437), with mode 0644 in the external attributes.
            central += le32(0x0201_4B50) + le16(0x0314) + common + le16(0) + le16(0) + le16(0) + le32(0o100644 << 16) + le32(out.count) + nameBytes
            out += le32(0x0403_4B50) + common + nameBytes + data
        }
        let centralOffset = out.count
        out += central
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(names.count) + le16(names.count) + le32(central.count) + le32(centralOffset) + le16(0)
        return out
    }
}
