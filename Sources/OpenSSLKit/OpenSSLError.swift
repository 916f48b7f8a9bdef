internal import COpenSSL
internal import CJPKIShims

/// An error from OpenSSL, with the queue of OpenSSL's own messages drained into it.
public struct OpenSSLError: Error, CustomStringConvertible, Sendable {
    /// What this layer was doing.
    public let operation: String
    /// OpenSSL's error strings, oldest first.
    public let details: [String]
    public let file: String
    public let line: Int

    public var description: String {
        details.isEmpty ? "\(operation) failed" : "\(operation) failed: \(details.joined(separator: "; "))"
    }

    init(_ operation: String, file: String = #fileID, line: Int = #line) {
        self.operation = operation
        self.file = file
        self.line = line
        var details: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            details.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.details = details
    }
}

/// Throws an `OpenSSLError` unless `result` is 1 (OpenSSL's usual success value).
@inline(__always)
func check(_ result: Int32, _ operation: @autoclosure () -> String, file: String = #fileID, line: Int = #line) throws(OpenSSLError) {
    guard result == 1 else { throw OpenSSLError(operation(), file: file, line: line) }
}

@inline(__always)
func nonNil<T>(_ value: T?, _ operation: @autoclosure () -> String, file: String = #fileID, line: Int = #line) throws(OpenSSLError) -> T {
    guard let value else { throw OpenSSLError(operation(), file: file, line: line) }
    return value
}

/// Reads everything written to a memory BIO.
func drain(_ bio: OpaquePointer) -> [UInt8] {
    var pointer: UnsafeMutablePointer<CChar>?
    let count = jpki_BIO_get_mem_data(bio, &pointer)
    guard count > 0, let pointer else { return [] }
    return pointer.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
}

/// Runs `body` with a memory BIO that reads `bytes`.
func withReadBIO<R>(_ bytes: [UInt8], _ body: (OpaquePointer) throws(OpenSSLError) -> R) throws(OpenSSLError) -> R {
    // BIO_new_mem_buf does not copy; BIO_new + BIO_write does, so the BIO owns its bytes.
    let bio = try nonNil(BIO_new(BIO_s_mem()), "BIO_new")
    if !bytes.isEmpty { _ = bytes.withUnsafeBytes { BIO_write(bio, $0.baseAddress, Int32(bytes.count)) } }
    defer { BIO_free(bio) }
    return try body(bio)
}

/// Runs `body` with an empty memory BIO and returns what it wrote.
func withWriteBIO(_ body: (OpaquePointer) throws(OpenSSLError) -> Void) throws(OpenSSLError) -> [UInt8] {
    let bio = try nonNil(BIO_new(BIO_s_mem()), "BIO_new")
    defer { BIO_free(bio) }
    try body(bio)
    return drain(bio)
}

/// The DER encoding produced by an OpenSSL `i2d_*` function.
func encodeDER(_ operation: String, _ i2d: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) throws(OpenSSLError) -> [UInt8] {
    let length = i2d(nil)
    guard length > 0 else { throw OpenSSLError(operation) }
    var bytes = [UInt8](repeating: 0, count: Int(length))
    let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
        return i2d(&cursor)
    }
    guard written == length else { throw OpenSSLError(operation) }
    return bytes
}

/// Calls an OpenSSL `d2i_*` function over `bytes`, requiring that it consume all of them.
func decodeDER(_ bytes: [UInt8], _ operation: String, _ d2i: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> OpaquePointer?) throws(OpenSSLError) -> OpaquePointer {
    let result: (OpaquePointer?, Int) = bytes.withUnsafeBufferPointer { buffer in
        var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
        let object = d2i(&cursor, bytes.count)
        let consumed = cursor.map { $0 - buffer.baseAddress! } ?? 0
        return (object, consumed)
    }
    guard let object = result.0 else { throw OpenSSLError(operation) }
    guard result.1 == bytes.count else {
        throw OpenSSLError("\(operation): \(bytes.count - result.1) trailing bytes after the DER structure")
    }
    return object
}
