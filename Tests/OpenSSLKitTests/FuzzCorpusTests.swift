import DERKit
import Foundation
import Testing
@testable import OpenSSLKit

/// Replays the fuzzers' committed corpora (Fuzz/Corpus/<target>/) through the same parsers, so that an
/// input that once crashed one (saved there as a regression) is checked by every `swift test`.
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    static func inputs(_ target: String) throws -> [(String, [UInt8])] {
        let folder = corpus.appendingPathComponent(target)
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { name in
            (name, [UInt8](try Data(contentsOf: folder.appendingPathComponent(name))))
        }
    }

    @Test("ocsp-request corpus: every input parses or is refused; the good ones have their CertIDs")
    func ocspRequests() throws {
        let inputs = try Self.inputs("ocsp-request")
        #expect(inputs.count >= 5)
        for (name, bytes) in inputs {
            let request = try? OCSPRequest(der: bytes)
            if name == "params-integer.der" { #expect(request == nil, "odd hash parameters must be refused") }
            if name.hasPrefix("sha") { #expect(request?.certIDs.isEmpty == false, "\(name)") }
        }
    }

    @Test("der corpus: every input reads node by node without trapping")
    func der() throws {
        func walk(_ node: DERNode, _ depth: Int) {
            if node.tag == DER.objectIdentifier { _ = try? node.oidString() }
            guard node.isConstructed, depth < 32, let children = try? node.children() else { return }
            for child in children { walk(child, depth + 1) }
        }
        for (_, bytes) in try Self.inputs("der") {
            var reader = DERReader(bytes)
            while !reader.isAtEnd, let node = try? reader.next() { walk(node, 0) }
        }
    }

    @Test("cms-verify corpus: the seeds verify, with their signer")
    func cms() throws {
        for (name, bytes) in try Self.inputs("cms-verify") {
            guard let n = bytes.first else { continue }
            let rest = bytes.dropFirst()
            let content: [UInt8]? = n == 0 ? nil : Array(rest.prefix(Int(n)))
            let signature = n == 0 ? Array(rest) : Array(rest.dropFirst(Int(n)))
            let verified = try? CMS.verifySignature(signature, detachedContent: content)
            if name == "attached.bin" || name == "detached.bin" { #expect(verified?.signer.serialHex.isEmpty == false, "\(name)") }
        }
    }
}
