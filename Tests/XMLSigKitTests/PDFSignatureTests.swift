import Foundation
import PDFSigKit
import Testing

/// PDFSigKit alone: the incremental update's structure and the byte-range check, with a stand-in
/// "signature" (any DER) so that no key is needed.
struct PDFSignatureTests {
    static let fakeCMS: [UInt8] = [0x30, 0x03, 0x02, 0x01, 0x05]

    @Test("an incremental update keeps the original bytes, adds a field, and a second update adds Signature2")
    func incremental() throws {
        let original = PDFDocument.blank(lines: ["hello"])
        var covered: [UInt8] = []
        let (once, field1) = try PDFSignature.sign(original, options: .init(signingTime: Date(timeIntervalSince1970: 1_800_000_000))) { covered = $0; return Self.fakeCMS }
        #expect(field1 == "Signature1")
        #expect(Array(once.prefix(original.count)) == original)
        let (twice, field2) = try PDFSignature.sign(once, options: .init(filter: "MOJSignDoc", signingTime: Date())) { _ in Self.fakeCMS }
        #expect(field2 == "Signature2")
        #expect(Array(twice.prefix(once.count)) == once)
        let found = try PDFSignature.embedded(in: twice)
        #expect(found.map(\.field) == ["Signature1", "Signature2"])
        #expect(found[0].signedBytes == covered)
        #expect(found[0].cms == Self.fakeCMS)
        #expect(!found[0].coversWholeFile && found[1].coversWholeFile)
        #expect(found[1].filter == "MOJSignDoc" && found[1].subFilter == "adbe.pkcs7.detached")
        #expect(found[0].signingTime == Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test("not a PDF, a truncated PDF and a PDF without signatures")
    func badInput() throws {
        #expect { try PDFSignature.embedded(in: Array("<xml/>".utf8)) } throws: { ($0 as? PDFError)?.code == .malformed }
        let (signed, _) = try PDFSignature.sign(PDFDocument.blank(lines: ["x"]), options: .init(signingTime: Date())) { _ in Self.fakeCMS }
        #expect { try PDFSignature.embedded(in: Array(signed.prefix(signed.count - 40))) } throws: { ($0 as? PDFError)?.code == .malformed }
        #expect(try PDFSignature.embedded(in: PDFDocument.blank(lines: ["x"])).isEmpty)
    }
}
