internal import COpenSSL
import DERKit
import Foundation

/// Everything a certificate says, and the key that signs it. The extensions are added in the order
/// given, with the exact value bytes given: the profile is decided above this layer.
public struct CertificateTemplate: Sendable {
    public var serial: [UInt8]
    public var notBefore: Date
    public var notAfter: Date
    public var issuer: DistinguishedName
    /// The issuer's Name exactly as its certificate encodes it; when set, it is used instead of
    /// encoding `issuer` (a leaf's issuer must be byte-identical to its root's subject).
    public var issuerDER: [UInt8]?
    public var subject: DistinguishedName
    /// The subject's Name exactly as given; when set, it is used instead of encoding `subject` (a new
    /// root generation repeats its predecessor's subject byte for byte).
    public var subjectDER: [UInt8]?
    /// DER SubjectPublicKeyInfo (ignored when `subjectKeyPair` is given).
    public var subjectPublicKey: [UInt8]
    /// The subject's key pair, when the caller holds it: its public half is used as is, saving a
    /// decode of `subjectPublicKey` (OpenSSL 3's decoder setup is a large share of issuance time).
    public var subjectKeyPair: PrivateKey?
    public var extensions: [CertificateExtension]

    public init(serial: [UInt8], notBefore: Date, notAfter: Date, issuer: DistinguishedName, subject: DistinguishedName,
                subjectPublicKey: [UInt8], extensions: [CertificateExtension]) {
        self.serial = serial; self.notBefore = notBefore; self.notAfter = notAfter
        self.issuer = issuer; self.subject = subject; self.subjectPublicKey = subjectPublicKey
        self.extensions = extensions
    }

    public init(serial: [UInt8], notBefore: Date, notAfter: Date, issuer: DistinguishedName, subject: DistinguishedName,
                subjectKeyPair: PrivateKey, extensions: [CertificateExtension]) {
        self.init(serial: serial, notBefore: notBefore, notAfter: notAfter, issuer: issuer, subject: subject,
                  subjectPublicKey: [], extensions: extensions)
        self.subjectKeyPair = subjectKeyPair
    }

    /// Builds the certificate and signs it with sha256WithRSAEncryption.
    public func sign(with key: PrivateKey) throws(OpenSSLError) -> Certificate {
        let x = try nonNil(X509_new(), "X509_new")
        let certificate = Certificate(owning: x)   // frees x on any error below
        try check(X509_set_version(x, 2), "X509_set_version")

        guard let bn = BN_bin2bn(serial, Int32(serial.count), nil) else { throw OpenSSLError("BN_bin2bn") }
        defer { BN_free(bn) }
        guard let serialInteger = BN_to_ASN1_INTEGER(bn, nil) else { throw OpenSSLError("BN_to_ASN1_INTEGER") }
        defer { ASN1_INTEGER_free(serialInteger) }
        try check(X509_set_serialNumber(x, serialInteger), "X509_set_serialNumber")

        guard ASN1_TIME_set(X509_getm_notBefore(x), time_t(notBefore.timeIntervalSince1970)) != nil,
              ASN1_TIME_set(X509_getm_notAfter(x), time_t(notAfter.timeIntervalSince1970)) != nil
        else { throw OpenSSLError("ASN1_TIME_set") }

        let issuerName: X509Name
        if let issuerDER { issuerName = try X509Name(der: issuerDER) } else { issuerName = try X509Name(issuer) }
        let subjectName: X509Name
        if let subjectDER { subjectName = try X509Name(der: subjectDER) } else { subjectName = try X509Name(subject) }
        try check(X509_set_issuer_name(x, issuerName.pointer), "X509_set_issuer_name")
        try check(X509_set_subject_name(x, subjectName.pointer), "X509_set_subject_name")

        if let subjectKeyPair {
            // X509_set_pubkey takes only the public half of the EVP_PKEY.
            try check(X509_set_pubkey(x, subjectKeyPair.pointer), "X509_set_pubkey")
        } else {
            let publicKey = try PublicKey(der: subjectPublicKey)
            try check(X509_set_pubkey(x, publicKey.pointer), "X509_set_pubkey")
        }

        for ext in extensions {
            try addExtension(ext, to: x)
        }
        guard X509_sign(x, key.pointer, EVP_sha256()) > 0 else { throw OpenSSLError("X509_sign") }
        return certificate
    }

    private func addExtension(_ ext: CertificateExtension, to x: OpaquePointer) throws(OpenSSLError) {
        guard let object = OBJ_txt2obj(ext.oid, 1) else { throw OpenSSLError("OBJ_txt2obj(\(ext.oid))") }
        defer { ASN1_OBJECT_free(object) }
        guard let octets = ASN1_OCTET_STRING_new() else { throw OpenSSLError("ASN1_OCTET_STRING_new") }
        defer { ASN1_OCTET_STRING_free(octets) }
        try check(ASN1_OCTET_STRING_set(octets, ext.value, Int32(ext.value.count)), "ASN1_OCTET_STRING_set")
        guard let created = X509_EXTENSION_create_by_OBJ(nil, object, ext.critical ? 1 : 0, octets) else {
            throw OpenSSLError("X509_EXTENSION_create_by_OBJ(\(ext.oid))")
        }
        defer { X509_EXTENSION_free(created) }
        try check(X509_add_ext(x, created, -1), "X509_add_ext(\(ext.oid))")
    }
}

/// An OpenSSL X509_NAME made from our DER encoding, so that the bytes are exactly ours.
final class X509Name {
    let pointer: OpaquePointer
    convenience init(_ name: DistinguishedName) throws(OpenSSLError) {
        try self.init(der: name.der)
    }
    init(der: [UInt8]) throws(OpenSSLError) {
        pointer = try decodeDER(der, "reading a Name") { cursor, count in d2i_X509_NAME(nil, cursor, count) }
    }
    deinit { X509_NAME_free(pointer) }
}
