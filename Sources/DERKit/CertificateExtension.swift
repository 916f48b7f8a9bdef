/// One X.509 v3 extension: its OID, criticality and the DER of its value (the extnValue contents).
public struct CertificateExtension: Sendable, Hashable {
    public let oid: String
    public let critical: Bool
    public let value: [UInt8]
    public init(oid: String, critical: Bool, value: [UInt8]) {
        self.oid = oid; self.critical = critical; self.value = value
    }
}
