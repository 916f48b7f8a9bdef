/// An X.501 Name as an ordered list of single-attribute RDNs, e.g. `C=JP, O=JPKI, OU=…`.
public struct DistinguishedName: Sendable, Hashable, CustomStringConvertible, Codable {
    public struct Attribute: Sendable, Hashable, Codable {
        public let oid: String
        public let value: String
        public init(oid: String, value: String) { self.oid = oid; self.value = value }
    }

    public static let shortNames: [(String, String)] = [
        ("C", "2.5.4.6"), ("ST", "2.5.4.8"), ("L", "2.5.4.7"), ("O", "2.5.4.10"),
        ("OU", "2.5.4.11"), ("CN", "2.5.4.3"), ("SERIALNUMBER", "2.5.4.5"),
    ]

    public var attributes: [Attribute]

    public init(_ attributes: [Attribute]) { self.attributes = attributes }

    /// Parses `["C=JP", "O=JPKI", …]` (or one comma-separated string). Types are C, ST, L, O, OU, CN,
    /// SERIALNUMBER or a dotted OID. Commas inside values are not supported.
    public init(parsing parts: [String]) throws(DERError) {
        var attributes: [Attribute] = []
        for part in parts {
            guard let eq = part.firstIndex(of: "=") else { throw .unexpected("TYPE=value in \"\(part)\"") }
            let type = part[..<eq].trimmingSpaces().uppercased()
            let value = part[part.index(after: eq)...].trimmingSpaces()
            guard !value.isEmpty else { throw .unexpected("a value in \"\(part)\"") }
            if let known = Self.shortNames.first(where: { $0.0 == type }) {
                attributes.append(Attribute(oid: known.1, value: value))
            } else if DER.oid(type) != nil {
                attributes.append(Attribute(oid: type, value: value))
            } else {
                throw .unexpected("attribute type (C, ST, L, O, OU, CN or an OID) in \"\(part)\"")
            }
        }
        guard !attributes.isEmpty else { throw .unexpected("at least one attribute") }
        self.attributes = attributes
    }

    public init(parsing text: String) throws(DERError) {
        try self.init(parsing: text.split(separator: ",").map(String.init))
    }

    public var description: String {
        attributes.map { attr in
            let name = Self.shortNames.first(where: { $0.1 == attr.oid })?.0 ?? attr.oid
            return "\(name)=\(attr.value)"
        }.joined(separator: ", ")
    }

    /// The DER Name. countryName is a PrintableString (X.520 requires it); organizationName and
    /// organizationalUnitName are UTF8String, as in every name of the J-LIS roots (subject, issuer,
    /// CRL distribution point); other values are PrintableString when every character allows it,
    /// UTF8String otherwise.
    public var der: [UInt8] {
        DER.sequence(attributes.map { attr in
            let utf8 = attr.oid == "2.5.4.10" || attr.oid == "2.5.4.11" || !Self.isPrintable(attr.value)
            let value = (attr.oid == "2.5.4.6" || !utf8) ? DER.printable(attr.value) : DER.utf8(attr.value)
            return DER.set([DER.sequence([DER.knownOID(attr.oid), value])])
        })
    }

    /// Whether every character is in the PrintableString repertoire (X.680 §41.4).
    public static func isPrintable(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy { c in
            switch c {
            case "A"..."Z", "a"..."z", "0"..."9", " ", "'", "(", ")", "+", ",", "-", ".", "/", ":", "=", "?": true
            default: false
            }
        }
    }

    /// Appends one attribute, returning the longer name.
    public func appending(_ oid: String, _ value: String) -> DistinguishedName {
        DistinguishedName(attributes + [Attribute(oid: oid, value: value)])
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
