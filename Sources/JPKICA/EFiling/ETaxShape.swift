import Foundation
import XMLSigKit

/// e-Tax data (.xtx): `<DATA>` whose first element child is the procedure element (e.g. `<PTE0010
/// id="PTE0010">`). The signature is the next child of `DATA` after the procedure element (after any
/// signatures already there), with one Reference `#<id>` to it: C14N 1.0 inclusive (the namespaces
/// declared on DATA are carried into both canonical forms), sha256, rsa-sha256, the certificate in
/// KeyInfo. See ../shared docs efiling-signatures.md ("e-Tax").
enum ETaxShape {
    static let prefix = "dsig"

    static func parse(_ xml: [UInt8]) throws -> XMLTree {
        let tree: XMLTree
        do { tree = try XMLTree(bytes: xml) } catch { throw SandboxError("not-xml", "the e-Tax file is not XML: \(error.message)") }
        _ = try procedure(tree)
        return tree
    }

    /// The procedure element: DATA's first element child that carries `id` and is not a signature.
    static func procedure(_ tree: XMLTree) throws -> XMLElement {
        guard let root = tree.root, root.localName == "DATA" else {
            throw SandboxError("not-etax", "not e-Tax data: the root element must be <DATA> (found <\(tree.root?.localName ?? "?")>)")
        }
        guard let procedure = root.children.first(where: { $0.namespaceURI != XMLSignature.namespace }),
              let id = procedure.attribute("id"), !id.isEmpty else {
            throw SandboxError("not-etax", "not e-Tax data: <DATA>'s first child must be the procedure element with an id attribute (e.g. <PTE0010 id=\"PTE0010\">)")
        }
        return procedure
    }

    static func sign(_ tree: XMLTree, key: XMLSignature.SigningKey) throws -> [UInt8] {
        let procedure = try procedure(tree)
        try registerIDs(tree)
        let id = procedure.attribute("id")!
        // After the procedure element and any signature already there (a second signer).
        let siblings = tree.root!.children
        var anchor = procedure
        if let i = siblings.firstIndex(where: { $0 == procedure }) {
            for s in siblings[(i + 1)...] { if s.localName == "Signature" && s.namespaceURI == XMLSignature.namespace { anchor = s } else { break } }
        }
        do {
            try XMLSignature.sign(tree, template: .init(prefix: prefix, references: [.init(uri: "#" + id, transforms: [.c14n10])]),
                                  at: .after(anchor), key: key)
        } catch { throw SandboxError("sign-failed", error.message) }
        return tree.serialized()
    }

    /// Every element with an `id` attribute becomes an XML ID (what `xmlsec1 --id-attr:id` does).
    static func registerIDs(_ tree: XMLTree) throws {
        func walk(_ e: XMLElement) throws {
            if e.attribute("id") != nil {
                do { try tree.registerID(e, attribute: "id") } catch { throw SandboxError("invalid-etax", error.message) }
            }
            for c in e.children { try walk(c) }
        }
        if let root = tree.root { try walk(root) }
    }
}
