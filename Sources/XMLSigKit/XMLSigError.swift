/// What went wrong in XMLSigKit, with where (as in OpenSSLKit's `OpenSSLError`).
public struct XMLSigError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The bytes are not well-formed XML.
        case notXML
        /// The XML is well-formed but not what the caller asked for (an element or attribute missing).
        case structure
        /// libxmlsec1 failed to sign or to process a signature (a bad key, an unsupported algorithm,
        /// a reference that names no file).
        case xmlsec
    }
    public let code: Code
    public let message: String
    public let location: String

    init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code; self.message = message; self.location = "\(file):\(line)"
    }

    public var description: String { message }
}

/// A NUL-terminated C buffer as a String.
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
