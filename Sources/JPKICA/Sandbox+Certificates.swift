import DERKit
import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

extension Sandbox {
    /// Normalises a serial as users type it (any case, optional colons) to the stored form.
    public static func normalizeSerial(_ text: String) throws -> String {
        let hex = text.replacingOccurrences(of: ":", with: "").uppercased()
        guard !hex.isEmpty, hex.count <= 64, hex.allSatisfy(\.isHexDigit) else {
            throw SandboxError.invalid("\"\(text)\" is not a serial number (hexadecimal, e.g. 5A0F…)")
        }
        return hex
    }

    public func certificate(serial text: String) throws -> CertificateRecord {
        let serial = try Self.normalizeSerial(text)
        guard let record = try store.read({ try $0.certificate(serial: serial) }) else {
            throw SandboxError.notFound("no certificate with serial \(serial); `jpki-sandbox cert list` shows them")
        }
        return record
    }

    public func certificates(residentID: Int64? = nil, kind: CertificateKind? = nil, limit: Int = 1000) throws -> [CertificateRecord] {
        try store.read { try $0.certificates(residentID: residentID, kind: kind, limit: limit) }
    }

    /// A PKCS#12 with the certificate's key, the certificate and its root (export). Audited: a leaf's
    /// key leaves the home only through here and `exportPEMBundle` (root and responder keys never do).
    public func exportPKCS12(serial: String, password: String) throws -> [UInt8] {
        guard !password.isEmpty else { throw SandboxError.invalid("give a non-empty --password for the PKCS#12 file") }
        let record = try certificate(serial: serial)
        let p12 = try pkcs12(record, password: password)
        try auditExport(record, format: "pkcs12")
        return p12
    }

    /// The certificate, its key and its root as PEM text (export --pem). Audited.
    public func exportPEMBundle(serial: String) throws -> String {
        let record = try certificate(serial: serial)
        let bundle = try pemBundle(record)
        try auditExport(record, format: "pem")
        return bundle
    }

    /// The PKCS#12 bytes, unaudited: for callers that write their own audit entry first (scenarios).
    func pkcs12(_ record: CertificateRecord, password: String) throws -> [UInt8] {
        guard !password.isEmpty else { throw SandboxError.invalid("give a non-empty --password for the PKCS#12 file") }
        let cert = try Certificate(der: record.der)
        let key = try PrivateKey(pem: record.keyPEM)
        return try PKCS12.make(key: key, certificate: cert, chain: [issuingRoot(record).certificate], password: password,
                               friendlyName: "JPKI Sandbox \(record.kind.englishName) \(record.serial)")
    }

    /// The PEM bundle, unaudited (see `pkcs12`).
    func pemBundle(_ record: CertificateRecord) throws -> String {
        try Certificate(der: record.der).pem() + record.keyPEM + issuingRoot(record).pem
    }

    func auditExport(_ record: CertificateRecord, format: String) throws {
        let now = try now()
        try store.write { tx in
            try Audit.append(tx, at: now, operation: "export", applicant: nil, residentID: record.residentID, serials: [record.serial],
                             fee: 0, outcome: "ok", detail: "\(record.kind.rawValue) identity exported as \(format)")
        }
    }
}

extension Sandbox {
    /// The root generation that issued a certificate (the current one for a record that names none
    /// this sandbox has).
    public func issuingRoot(_ record: CertificateRecord) -> RootCA {
        root(record.kind, generation: record.rootGeneration) ?? root(record.kind)
    }
}
