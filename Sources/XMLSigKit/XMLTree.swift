internal import CXMLSec
internal import CXMLSecShims
import Foundation

/// A parsed XML document (libxml2), to be signed or verified in place and written back.
///
/// Not thread-safe: one document is used by one thread at a time.
public final class XMLTree: @unchecked Sendable {
    let doc: UnsafeMutablePointer<xmlDoc>

    /// Parses UTF-8 (or declared-encoding) XML. No network access, no external entities, no DTD.
    public init(bytes: [UInt8]) throws(XMLSigError) {
        guard jpki_xmlsec_init() == 0 else { throw XMLSigError(.xmlsec, "libxmlsec1 could not be initialised") }
        guard !bytes.isEmpty else { throw XMLSigError(.notXML, "the file is empty, not XML") }
        var error = [CChar](repeating: 0, count: 512)
        guard let doc = jpki_xml_parse(bytes, bytes.count, &error, error.count) else {
            throw XMLSigError(.notXML, "not well-formed XML: \(cString(error))")
        }
        self.doc = doc
    }

    deinit { xmlFreeDoc(doc) }

    /// The document as UTF-8 bytes, with an XML declaration.
    public func serialized() -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard jpki_xml_serialize(doc, &out, &length) == 0, let out else { return [] }
        defer { jpki_xml_free_bytes(out) }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }

    /// The document element.
    public var root: XMLElement? {
        xmlDocGetRootElement(doc).map { XMLElement(node: $0, tree: self) }
    }

    /// Every element in document order whose local name and namespace match.
    public func elements(named localName: String, namespace: String?) -> [XMLElement] {
        var found: [XMLElement] = []
        func walk(_ element: XMLElement) {
            if element.localName == localName && element.namespaceURI == namespace { found.append(element) }
            for child in element.children { walk(child) }
        }
        if let root { walk(root) }
        return found
    }

    /// Makes `attribute` of `element` an XML ID, so that a same-document reference `#value` finds it
    /// (libxml2 knows no ID attributes without a DTD, except xml:id). `alias` registers the same element
    /// under a second name, e.g. the percent-encoded form in which e-Gov writes a fragment, which
    /// libxmlsec1 looks up literally.
    public func registerID(_ element: XMLElement, attribute: String, alias: String? = nil) throws(XMLSigError) {
        switch jpki_xml_register_id(doc, element.node, attribute, alias) {
        case 0: return
        case -2: throw XMLSigError(.structure, "the ID \(element.attribute(attribute) ?? "?") is used by two elements")
        default: throw XMLSigError(.structure, "<\(element.localName)> has no attribute \(attribute) to use as an ID")
        }
    }
}

/// An element of an `XMLTree` (which it keeps alive).
public struct XMLElement: @unchecked Sendable {
    let node: UnsafeMutablePointer<xmlNode>
    public let tree: XMLTree

    init(node: UnsafeMutablePointer<xmlNode>, tree: XMLTree) { self.node = node; self.tree = tree }

    public var localName: String { String(cString: node.pointee.name) }
    public var namespaceURI: String? { node.pointee.ns.flatMap { $0.pointee.href }.map { String(cString: $0) } }

    /// The child elements, in order.
    public var children: [XMLElement] {
        var result: [XMLElement] = []
        var child = node.pointee.children
        while let c = child {
            if c.pointee.type == XML_ELEMENT_NODE { result.append(XMLElement(node: c, tree: tree)) }
            child = c.pointee.next
        }
        return result
    }

    /// The first child element with this local name (any namespace when `namespace` is nil).
    public func child(_ localName: String, namespace: String? = nil) -> XMLElement? {
        children.first { $0.localName == localName && (namespace == nil || $0.namespaceURI == namespace) }
    }

    /// An attribute without a namespace.
    public func attribute(_ name: String) -> String? {
        guard let value = xmlGetNoNsProp(node, name) else { return nil }
        defer { jpki_xml_free_bytes(value) }
        return String(cString: value)
    }

    /// The text content of the element and its descendants.
    public var text: String {
        guard let value = xmlNodeGetContent(node) else { return "" }
        defer { jpki_xml_free_bytes(value) }
        return String(cString: value)
    }

    /// Appends a new element in this element's namespace (default namespace in scope).
    @discardableResult
    public func appendChild(_ localName: String) -> XMLElement {
        let child = xmlNewChild(node, node.pointee.ns, localName, nil)!
        return XMLElement(node: child, tree: tree)
    }

    /// Inserts a new element right after this one, in the parent's namespace.
    @discardableResult
    public func insertSiblingAfter(_ localName: String) -> XMLElement {
        let sibling = xmlNewDocNode(tree.doc, node.pointee.parent?.pointee.ns, localName, nil)!
        xmlAddNextSibling(node, sibling)
        return XMLElement(node: sibling, tree: tree)
    }

    public static func == (a: XMLElement, b: XMLElement) -> Bool { a.node == b.node }
}
