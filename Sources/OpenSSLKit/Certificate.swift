internal import COpenSSL
internal import CJPKIShims
import DERKit
import Foundation

/// An X.509 certificate held by OpenSSL (`X509`).
public final class Certificate: @unchecked Sendable {
    // An X509 is only read after construction, which OpenSSL allows from several threads.
    let pointer: OpaquePointer

    init(owning pointer: OpaquePointer) { self.pointer = pointer }
    deinit { X509_free(pointer) }

    public convenience init(der: [UInt8]) throws(OpenSSLError) {
        let x = try decodeDER(der, "reading a DER certificate") { cursor, count in d2i_X509(nil, cursor, count) }
        self.init(owning: x)
    }

    /// Reads the first certificate of PEM text.
    public convenience init(pem: String) throws(OpenSSLError) {
        let x = try withReadBIO(Array(pem.utf8)) { (bio) throws(OpenSSLError) -> OpaquePointer in
            try nonNil(PEM_read_bio_X509(bio, nil, nil, nil), "reading a PEM certificate")
        }
        self.init(owning: x)
    }

    /// Reads PEM or DER, whichever the bytes are.
    public convenience init(pemOrDER bytes: [UInt8]) throws(OpenSSLError) {
        if bytes.starts(with: Array("-----BEGIN".utf8)) || bytes.first != 0x30 {
            try self.init(pem: String(decoding: bytes, as: UTF8.self))
        } else {
            try self.init(der: bytes)
        }
    }

    public func der() throws(OpenSSLError) -> [UInt8] {
        try encodeDER("i2d_X509") { i2d_X509(pointer, $0) }
    }

    public func pem() throws(OpenSSLError) -> String {
        let bytes = try withWriteBIO { (bio) throws(OpenSSLError) in
            try check(PEM_write_bio_X509(bio, pointer), "PEM_write_bio_X509")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The serial number as upper-case hexadecimal without separators or leading zeros.
    public var serialHex: String {
        guard let bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(pointer), nil) else { return "" }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return "" }
        defer { jpki_OPENSSL_free(hex) }
        return String(cString: hex)
    }

    public var notBefore: Date { Self.date(X509_get0_notBefore(pointer)) }
    public var notAfter: Date { Self.date(X509_get0_notAfter(pointer)) }

    static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date {
        var tm = tm()
        guard let time, ASN1_TIME_to_tm(time, &tm) == 1 else { return .distantPast }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tm)))
    }

    /// The subject in certificate order, `C=JP, O=…, CN=…`, UTF-8 kept as is.
    public var subjectText: String { Self.text(X509_get_subject_name(pointer)) }
    public var issuerText: String { Self.text(X509_get_issuer_name(pointer)) }

    public var subjectDER: [UInt8] { (try? encodeDER("i2d_X509_NAME") { i2d_X509_NAME(X509_get_subject_name(pointer), $0) }) ?? [] }
    public var issuerDER: [UInt8] { (try? encodeDER("i2d_X509_NAME") { i2d_X509_NAME(X509_get_issuer_name(pointer), $0) }) ?? [] }

    static func text(_ name: OpaquePointer?) -> String {
        let flags = jpki_name_print_flags()
        let bytes = (try? withWriteBIO { bio in _ = X509_NAME_print_ex(bio, name, 0, flags) }) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    public func publicKey() throws(OpenSSLError) -> PublicKey {
        PublicKey(owning: try nonNil(X509_get_pubkey(pointer), "X509_get_pubkey"))
    }

    /// The DER SubjectPublicKeyInfo.
    public func publicKeyDER() throws(OpenSSLError) -> [UInt8] {
        try publicKey().der()
    }

    /// Whether `issuer`'s key made this certificate's signature.
    public func isSigned(by issuer: Certificate) -> Bool {
        guard let key = X509_get0_pubkey(issuer.pointer) else { return false }
        let ok = X509_verify(pointer, key) == 1
        ERR_clear_error()
        return ok
    }

    /// The extensions in certificate order: OID, criticality and the DER of the value.
    public var extensions: [(oid: String, critical: Bool, value: [UInt8])] {
        (0..<jpki_X509_get_ext_count(pointer)).compactMap { index in
            guard let ext = X509_get_ext(pointer, index) else { return nil }
            let oid = Self.oidText(X509_EXTENSION_get_object(ext))
            let data = X509_EXTENSION_get_data(ext)
            let bytes = data.map { d in Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(d), count: Int(ASN1_STRING_length(d)))) } ?? []
            return (oid, X509_EXTENSION_get_critical(ext) == 1, bytes)
        }
    }

    /// The value of the SubjectKeyIdentifier, if present.
    public var subjectKeyIdentifier: [UInt8]? {
        guard let ext = extensions.first(where: { $0.oid == "2.5.29.14" }),
              let node = try? DERReader.single(ext.value), node.tag == DER.octetString else { return nil }
        return node.contents
    }

    static func oidText(_ object: OpaquePointer?) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        let n = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
        guard n > 0 else { return "" }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Checks the chain `self` → `root` with OpenSSL's verifier at time `at` (X509_verify_cert).
    /// Returns nil when it verifies, else OpenSSL's reason.
    public func verificationError(root: Certificate, at date: Date) -> String? {
        guard let store = X509_STORE_new() else { return "X509_STORE_new failed" }
        defer { X509_STORE_free(store) }
        X509_STORE_add_cert(store, root.pointer)
        guard let ctx = X509_STORE_CTX_new() else { return "X509_STORE_CTX_new failed" }
        defer { X509_STORE_CTX_free(ctx) }
        guard X509_STORE_CTX_init(ctx, store, pointer, nil) == 1 else { return "X509_STORE_CTX_init failed" }
        X509_STORE_CTX_set_time(ctx, 0, time_t(date.timeIntervalSince1970))
        if X509_verify_cert(ctx) == 1 { return nil }
        let code = X509_STORE_CTX_get_error(ctx)
        ERR_clear_error()
        return String(cString: X509_verify_cert_error_string(Int(code)))
    }
}

/// Splits PEM text holding several certificates.
public func certificates(fromPEM pem: String) throws(OpenSSLError) -> [Certificate] {
    var out: [Certificate] = []
    let marker = "-----END CERTIFICATE-----"
    var rest = Substring(pem)
    while let start = rest.range(of: "-----BEGIN CERTIFICATE-----"), let end = rest.range(of: marker, range: start.upperBound..<rest.endIndex) {
        out.append(try Certificate(pem: String(rest[start.lowerBound..<end.upperBound])))
        rest = rest[end.upperBound...]
    }
    return out
}
