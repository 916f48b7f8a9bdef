import Foundation
import OpenSSLKit
import Testing
@testable import XMLSigKit

/// The wrapper alone: a throwaway key and self-signed certificate made by /usr/bin/openssl.
struct XMLSignatureTests {
    struct Identity {
        let key: XMLSignature.SigningKey
        let pem: String
        init() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xmlsig-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.appendingPathComponent("k.pem").path,
                           "-out", dir.appendingPathComponent("c.pem").path, "-subj", "/CN=xmlsig test", "-days", "2"]
            p.standardError = FileHandle.nullDevice
            try p.run(); p.waitUntilExit()
            let cert = try Certificate(pemOrDER: [UInt8](try Data(contentsOf: dir.appendingPathComponent("c.pem"))))
            pem = try String(contentsOf: dir.appendingPathComponent("k.pem"), encoding: .utf8)
            key = .init(privateKeyPEM: pem, certificateDER: try cert.der())
        }
    }

    static let etax = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DATA xmlns="http://xml.e-tax.nta.go.jp/XSD/kyotsu" xmlns:gen="http://xml.e-tax.nta.go.jp/XSD/general" id="DATA"><PTE0010 VR="1.0" id="PTE0010"><CATALOG id="CATALOG"><gen:a>1</gen:a></CATALOG><CONTENTS id="CONTENTS">申告</CONTENTS></PTE0010></DATA>
        """

    @Test("not XML, and empty input, are notXML errors with the parser's message")
    func notXML() {
        #expect { try XMLTree(bytes: Array("%PDF-1.7".utf8)) } throws: { ($0 as? XMLSigError)?.code == .notXML }
        #expect { try XMLTree(bytes: []) } throws: { ($0 as? XMLSigError)?.code == .notXML }
        #expect { try XMLTree(bytes: Array("<a><b></a>".utf8)) } throws: { ($0 as? XMLSigError)?.message.contains("line 1") == true }
    }

    @Test("a same-document reference by a registered id: signs, verifies, and names the reference after a change")
    func sameDocument() throws {
        let id = try Identity()
        let tree = try XMLTree(bytes: Array(Self.etax.utf8))
        let procedure = try #require(tree.root?.child("PTE0010"))
        try tree.registerID(procedure, attribute: "id")
        let sig = try XMLSignature.sign(tree, template: .init(prefix: "dsig", references: [.init(uri: "#PTE0010", transforms: [.c14n10])]),
                                        at: .after(procedure), key: id.key)
        #expect(sig.localName == "Signature")
        #expect(XMLSignature.certificates(of: sig) == [id.key.certificateDER])
        #expect(try XMLSignature.verify(sig, certificateDER: id.key.certificateDER) == .valid)

        // Round trip through bytes, then one changed character in the signed element.
        let bytes = tree.serialized()
        let reread = try XMLTree(bytes: bytes)
        try reread.registerID(try #require(reread.root?.child("PTE0010")), attribute: "id")
        let sig2 = try #require(reread.elements(named: "Signature", namespace: XMLSignature.namespace).first)
        #expect(try XMLSignature.verify(sig2, certificateDER: id.key.certificateDER) == .valid)
        let changed = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "申告", with: "申吿")
        let tampered = try XMLTree(bytes: Array(changed.utf8))
        try tampered.registerID(try #require(tampered.root?.child("PTE0010")), attribute: "id")
        let sig3 = try #require(tampered.elements(named: "Signature", namespace: XMLSignature.namespace).first)
        #expect(try XMLSignature.verify(sig3, certificateDER: id.key.certificateDER) == .invalid(reference: "#PTE0010"))
    }

    @Test("a percent-encoded fragment (via an ID alias) and files by bare name over their raw bytes")
    func percentEncodedAndFiles() throws {
        let id = try Identity()
        let xml = #"<?xml version="1.0" encoding="UTF-8"?><DataRoot><構成情報 ID="構成情報"><x>1</x></構成情報><署名情報/></DataRoot>"#
        let tree = try XMLTree(bytes: Array(xml.utf8))
        let part = try #require(tree.root?.child("構成情報"))
        let encoded = "%E6%A7%8B%E6%88%90%E6%83%85%E5%A0%B1"
        try tree.registerID(part, attribute: "ID", alias: encoded)
        let files: [String: [UInt8]] = ["申請書.xml": Array("<a/>\n".utf8), "b.pdf": [0, 1, 2, 0xFF]]
        let template = XMLSignature.Template(id: "20261201100000", references: [.init(uri: "#" + encoded, transforms: [.c14n10])]
            + files.keys.sorted().map { .init(uri: $0) })
        let sig = try XMLSignature.sign(tree, template: template, at: .appendTo(try #require(tree.root?.child("署名情報"))), key: id.key, files: files)
        #expect(XMLSignature.references(of: sig) == ["#" + encoded, "b.pdf", "申請書.xml"])
        #expect(try XMLSignature.verify(sig, certificateDER: id.key.certificateDER, files: files) == .valid)
        var changed = files
        changed["b.pdf"] = [0, 1, 2, 0xFE]
        #expect(try XMLSignature.verify(sig, certificateDER: id.key.certificateDER, files: changed) == .invalid(reference: "b.pdf"))
        var missing = files
        missing["申請書.xml"] = nil
        #expect { try XMLSignature.verify(sig, certificateDER: id.key.certificateDER, files: missing) } throws: {
            ($0 as? XMLSigError)?.message.contains("申請書.xml") == true
        }
    }

    @Test("a signature checked with another key is invalid without a failing reference")
    func wrongKey() throws {
        let id = try Identity(), other = try Identity()
        let tree = try XMLTree(bytes: Array(Self.etax.utf8))
        let procedure = try #require(tree.root?.child("PTE0010"))
        try tree.registerID(procedure, attribute: "id")
        let sig = try XMLSignature.sign(tree, template: .init(references: [.init(uri: "#PTE0010")]), at: .after(procedure), key: id.key)
        #expect(try XMLSignature.verify(sig, certificateDER: other.key.certificateDER) == .invalid(reference: nil))
    }
}

extension XMLSignatureTests {
    @Test("verify refuses a reference that asks for an XPath transform (a verifier runs no programs from a signature)")
    func noXPath() throws {
        let id = try Identity()
        let tree = try XMLTree(bytes: Array(Self.etax.utf8))
        let procedure = try #require(tree.root?.child("PTE0010"))
        try tree.registerID(procedure, attribute: "id")
        try XMLSignature.sign(tree, template: .init(prefix: "dsig", references: [.init(uri: "#PTE0010", transforms: [.c14n10])]), at: .after(procedure), key: id.key)
        let xpath = #"<dsig:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><dsig:XPath>true()</dsig:XPath></dsig:Transform>"#
        let text = String(decoding: tree.serialized(), as: UTF8.self)
            .replacingOccurrences(of: "<dsig:Transforms>\n", with: "<dsig:Transforms>\n" + xpath)
        #expect(text.contains("REC-xpath"))
        let changed = try XMLTree(bytes: Array(text.utf8))
        try changed.registerID(try #require(changed.root?.child("PTE0010")), attribute: "id")
        let sig = try #require(changed.elements(named: "Signature", namespace: XMLSignature.namespace).first)
        #expect { try XMLSignature.verify(sig, certificateDER: id.key.certificateDER) } throws: { ($0 as? XMLSigError)?.code == .xmlsec }
    }
}

extension XMLSignatureTests {
    @Test("a signer that only signs a DigestInfo (the card's primitive) makes the same verifiable signature")
    func digestInfoSigner() throws {
        let id = try Identity()
        let key = try PrivateKey(pem: id.pem)
        let tree = try XMLTree(bytes: Array(Self.etax.utf8))
        let procedure = try #require(tree.root?.child("PTE0010"))
        try tree.registerID(procedure, attribute: "id")
        nonisolated(unsafe) var seen: [UInt8] = []
        let card = XMLSignature.SigningKey(certificateDER: id.key.certificateDER) { digestInfo in
            seen = digestInfo
            return try key.signDigestInfo(digestInfo)
        }
        let sig = try XMLSignature.sign(tree, template: .init(prefix: "dsig", references: [.init(uri: "#PTE0010", transforms: [.c14n10])]), at: .after(procedure), key: card)
        #expect(seen.count == 51 && seen.starts(with: [0x30, 0x31, 0x30, 0x0D]))
        #expect(XMLSignature.certificates(of: sig) == [id.key.certificateDER])
        #expect(try XMLSignature.verify(sig, certificateDER: id.key.certificateDER) == .valid)
        // The same template signed with the PEM key gives the same SignatureValue (PKCS#1 v1.5 is deterministic).
        let tree2 = try XMLTree(bytes: Array(Self.etax.utf8))
        let procedure2 = try #require(tree2.root?.child("PTE0010"))
        try tree2.registerID(procedure2, attribute: "id")
        let sig2 = try XMLSignature.sign(tree2, template: .init(prefix: "dsig", references: [.init(uri: "#PTE0010", transforms: [.c14n10])]), at: .after(procedure2), key: id.key)
        #expect(sig.child("SignatureValue")?.text.filter { !$0.isWhitespace } == sig2.child("SignatureValue")?.text.filter { !$0.isWhitespace })
        // A signer that fails leaves no half-made signature behind.
        let failing = XMLSignature.SigningKey(certificateDER: id.key.certificateDER) { _ in throw XMLSigError(.xmlsec, "card removed") }
        #expect { try XMLSignature.sign(tree2, template: .init(references: [.init(uri: "#PTE0010")]), at: .after(procedure2), key: failing) } throws: {
            ($0 as? XMLSigError)?.message.contains("card removed") == true
        }
        #expect(tree2.elements(named: "Signature", namespace: XMLSignature.namespace).count == 1)
    }
}
