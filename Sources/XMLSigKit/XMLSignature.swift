internal import CXMLSec
internal import CXMLSecShims
import Foundation

/// XML-Signature Syntax and Processing (W3C, 2008), the subset the e-filing systems use:
/// C14N 1.0 (inclusive), rsa-sha256 and sha256, same-document references to an element by ID and
/// references to files beside the XML by bare name. libxmlsec1 canonicalises, digests and signs;
/// this type builds the `<Signature>` template and says where the bytes come from.
public enum XMLSignature {
    public static let namespace = "http://www.w3.org/2000/09/xmldsig#"
    public static let c14n10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    public static let rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    public static let sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"

    /// A transform in a `<Reference>`.
    public enum Transform: Sendable {
        /// Canonical XML 1.0 (inclusive, without comments).
        case c14n10
        /// The enveloped-signature transform.
        case enveloped
    }

    /// One `<Reference>`: the URI as written (a `#fragment`, or a file name resolved through `files`)
    /// and its transforms. A file reference without transforms is a digest over the file's raw bytes.
    public struct Reference: Sendable {
        public var uri: String
        public var transforms: [Transform]
        public init(uri: String, transforms: [Transform] = []) { self.uri = uri; self.transforms = transforms }
    }

    /// The shape of a new signature: SignedInfo is always C14N 1.0 / rsa-sha256, digests sha256, and
    /// KeyInfo carries the signer's certificate (`X509Data/X509Certificate`).
    public struct Template: Sendable {
        /// The `Id` attribute of `<Signature>`, if any.
        public var id: String?
        /// The namespace prefix (`dsig` gives `<dsig:Signature xmlns:dsig=…>`); nil for a default namespace.
        public var prefix: String?
        public var references: [Reference]
        public init(id: String? = nil, prefix: String? = nil, references: [Reference]) {
            self.id = id; self.prefix = prefix; self.references = references
        }
    }

    /// Where the new `<Signature>` goes.
    public enum Placement {
        /// As the last child of this element.
        case appendTo(XMLElement)
        /// As the next sibling of this element.
        case after(XMLElement)
    }

    /// What signs: a PEM private key that libxmlsec1 loads, or a signer that only signs a DigestInfo
    /// (the card's primitive, PKCS#1 v1.5): then libxmlsec1 canonicalises SignedInfo and this type asks
    /// the signer for the signature of its SHA-256 DigestInfo and writes it into SignatureValue.
    public struct SigningKey: Sendable {
        enum Signer: Sendable {
            case pem(String)
            case digestInfo(@Sendable ([UInt8]) throws -> [UInt8])
        }
        let signer: Signer
        public let certificateDER: [UInt8]
        public init(privateKeyPEM: String, certificateDER: [UInt8]) {
            self.signer = .pem(privateKeyPEM); self.certificateDER = certificateDER
        }
        public init(certificateDER: [UInt8], signDigestInfo: @escaping @Sendable ([UInt8]) throws -> [UInt8]) {
            self.signer = .digestInfo(signDigestInfo); self.certificateDER = certificateDER
        }
    }

    /// The DER DigestInfo prefix of SHA-256 (RFC 8017 §9.2, note 1).
    static let sha256DigestInfoPrefix: [UInt8] = [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]

    /// Adds a `<Signature>` built from `template` at `placement` and signs it. `files` are the bytes of
    /// the files that non-fragment references name; nothing else is read. IDs that fragment references
    /// use must be registered first (`XMLTree.registerID`). Returns the new `<Signature>` element.
    @discardableResult
    public static func sign(_ tree: XMLTree, template: Template, at placement: Placement, key: SigningKey,
                            files: [String: [UInt8]] = [:]) throws(XMLSigError) -> XMLElement {
        guard let signature = xmlSecTmplSignatureCreateNsPref(tree.doc, jpki_xmlsec_c14n10(), jpki_xmlsec_rsa_sha256(),
                                                              template.id, template.prefix) else {
            throw XMLSigError(.xmlsec, "cannot create the <Signature> template")
        }
        switch placement {
        case .appendTo(let parent): xmlAddChild(parent.node, signature)
        case .after(let sibling): xmlAddNextSibling(sibling.node, signature)
        }
        let element = XMLElement(node: signature, tree: tree)
        for reference in template.references {
            guard let ref = xmlSecTmplSignatureAddReference(signature, jpki_xmlsec_sha256(), nil, reference.uri, nil) else {
                throw XMLSigError(.xmlsec, "cannot add the reference \(reference.uri)")
            }
            for transform in reference.transforms {
                let id = switch transform { case .c14n10: jpki_xmlsec_c14n10(); case .enveloped: jpki_xmlsec_enveloped() }
                guard xmlSecTmplReferenceAddTransform(ref, id) != nil else { throw XMLSigError(.xmlsec, "cannot add a transform to \(reference.uri)") }
            }
        }
        guard let keyInfo = xmlSecTmplSignatureEnsureKeyInfo(signature, nil), let x509 = xmlSecTmplKeyInfoAddX509Data(keyInfo),
              xmlSecTmplX509DataAddCertificate(x509) != nil else {
            throw XMLSigError(.xmlsec, "cannot add KeyInfo")
        }
        try withFiles(files) { (list) throws(XMLSigError) in
            var error = [CChar](repeating: 0, count: 512)
            func fail(_ message: String) -> XMLSigError {
                xmlUnlinkNode(signature); xmlFreeNode(signature)
                return XMLSigError(.xmlsec, message)
            }
            switch key.signer {
            case .pem(let pemText):
                let pem = Array(pemText.utf8)
                let rc = jpki_xmlsec_sign(signature, pem, pem.count, key.certificateDER, key.certificateDER.count, list, list.count, &error, error.count)
                guard rc == 0 else { throw fail("libxmlsec1 could not sign: \(cString(error))") }
            case .digestInfo(let signDigestInfo):
                var digest = [UInt8](repeating: 0, count: 32)
                let rc = jpki_xmlsec_sign_external(signature, key.certificateDER, key.certificateDER.count, list, list.count, &digest, &error, error.count)
                guard rc == 0 else { throw fail("libxmlsec1 could not sign: \(cString(error))") }
                let value: [UInt8]
                do { value = try signDigestInfo(sha256DigestInfoPrefix + digest) } catch {
                    throw fail("the signer could not sign the DigestInfo: \(error)")
                }
                guard let node = element.child("SignatureValue", namespace: namespace) else { throw fail("no SignatureValue") }
                xmlNodeSetContent(node.node, Data(value).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed]))
            }
        }
        return element
    }

    /// The outcome of checking one signature's cryptography (not the signer's trust).
    public enum Check: Sendable, Equatable {
        case valid
        /// The signature does not verify; `reference` is the URI of the first reference whose digest
        /// does not match, or nil when the references match but the SignatureValue does not.
        case invalid(reference: String?)
    }

    /// Verifies `signature` with the public key of `certificateDER` (usually the certificate its
    /// KeyInfo carries: deciding whether to trust it is the caller's job). A reference to a file not in
    /// `files` is an error that names it.
    public static func verify(_ signature: XMLElement, certificateDER: [UInt8], files: [String: [UInt8]] = [:]) throws(XMLSigError) -> Check {
        for uri in references(of: signature) where !uri.isEmpty && !uri.hasPrefix("#") {
            if files[uri] == nil && files[uri.removingPercentEncoding ?? uri] == nil {
                throw XMLSigError(.structure, "the reference \(uri) names a file that is not in the package")
            }
        }
        return try withFiles(files) { (list) throws(XMLSigError) -> Check in
            var valid: Int32 = 0
            var failed = [CChar](repeating: 0, count: 1024), error = [CChar](repeating: 0, count: 512)
            let rc = jpki_xmlsec_verify(signature.node, certificateDER, certificateDER.count, list, list.count, &valid, &failed, failed.count, &error, error.count)
            guard rc == 0 else { throw XMLSigError(.xmlsec, "the signature cannot be processed: \(cString(error))") }
            if valid == 1 { return .valid }
            let uri = cString(failed)
            return .invalid(reference: uri.isEmpty ? nil : uri)
        }
    }

    /// The `URI` of each `<Reference>` in `SignedInfo`, in order.
    public static func references(of signature: XMLElement) -> [String] {
        signature.child("SignedInfo", namespace: namespace)?.children
            .filter { $0.localName == "Reference" && $0.namespaceURI == namespace }
            .map { $0.attribute("URI") ?? "" } ?? []
    }

    /// The DER certificates in `KeyInfo/X509Data/X509Certificate`, in order.
    public static func certificates(of signature: XMLElement) -> [[UInt8]] {
        guard let keyInfo = signature.child("KeyInfo", namespace: namespace) else { return [] }
        return keyInfo.children.filter { $0.localName == "X509Data" && $0.namespaceURI == namespace }
            .flatMap { $0.children.filter { $0.localName == "X509Certificate" } }
            .compactMap { Data(base64Encoded: $0.text, options: .ignoreUnknownCharacters).map { [UInt8]($0) } }
    }

    /// Keeps the names and bytes alive for the C call.
    private static func withFiles<T>(_ files: [String: [UInt8]], _ body: ([jpki_xmlsec_file]) throws(XMLSigError) -> T) throws(XMLSigError) -> T {
        let names = files.keys.sorted()
        let cNames = names.map { strdup($0)! }
        defer { cNames.forEach { free($0) } }
        let buffers = names.map { name -> UnsafeMutableBufferPointer<UInt8> in
            let bytes = files[name]!
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
            _ = buffer.initialize(from: bytes)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        let list = (0..<names.count).map { i in
            jpki_xmlsec_file(name: cNames[i], bytes: UnsafePointer(buffers[i].baseAddress), length: files[names[i]]!.count)
        }
        return try body(list)
    }
}
