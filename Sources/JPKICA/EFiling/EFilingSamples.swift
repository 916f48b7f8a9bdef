import Foundation
import PDFSigKit

/// Unsigned inputs in the e-filing shapes, for fixtures, the demo and benchmarks. Their content is
/// made up; their structure is the one the signers expect (docs/integration.md).
public enum EFilingSamples {
    /// e-Tax data: `<DATA>` with the e-Tax namespaces and a procedure element `<PTE0010 id="PTE0010">`.
    public static func etax(name: String, income: Int = 5_000_000) -> [UInt8] {
        Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <DATA xmlns="http://xml.e-tax.nta.go.jp/XSD/kyotsu" xmlns:gen="http://xml.e-tax.nta.go.jp/XSD/general" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#" id="DATA"><PTE0010 VR="1.0" id="PTE0010"><CATALOG id="CATALOG"><gen:SOFUSHO>所得税及び復興特別所得税の申告書</gen:SOFUSHO></CATALOG><CONTENTS id="CONTENTS"><gen:NOZEISHA_NM>\(escape(name))</gen:NOZEISHA_NM><gen:SHOTOKU>\(income)</gen:SHOTOKU></CONTENTS></PTE0010></DATA>

            """.utf8)
    }

    /// An e-Gov package: kousei.xml and an application form; `attachmentBytes` > 0 adds a PDF attachment of that size.
    public static func egov(name: String, attachmentBytes: Int = 0) -> EGovPackage {
        let form = "900A010200001000(01).xml"
        let manifest = Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <DataRoot><構成情報 ID="構成情報"><申請書属性情報><申請書様式ID>900A01020000001001</申請書様式ID><申請書ファイル名称>\(form)</申請書ファイル名称></申請書属性情報>\(attachmentBytes > 0 ? "<添付書類属性情報><添付書類ファイル名称>attachment.pdf</添付書類ファイル名称></添付書類属性情報>" : "")</構成情報><署名情報/><その他/></DataRoot>

            """.utf8)
        var files = [form: Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<申請書><申請者氏名>\(escape(name))</申請者氏名></申請書>\n".utf8)]
        if attachmentBytes > 0 { files["attachment.pdf"] = PDFDocument.blank(lines: ["attachment"], padding: attachmentBytes) }
        return EGovPackage(manifest: manifest, files: files)
    }

    /// A one-page PDF (the registration filing), optionally padded to about `padding` more bytes.
    public static func pdf(title: String, padding: Int = 0) -> [UInt8] {
        PDFDocument.blank(lines: ["JPKI Sandbox test document", title], padding: padding)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
