import DERKit
import Foundation
import JPKIDomain
import OpenSSLKit
import Testing
@testable import JPKICA

/// Issue 11, item 1: our roots against the real J-LIS roots of every generation (`shared/data/jlis-roots/`),
/// structure by structure: everything but the key, the serial, the dates and `O=JPKI-SANDBOX`.
@Suite("Roots as J-LIS makes them")
struct RootFidelityTests {
    static let realRoots = Run.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/jlis-roots")

    /// The differences between two roots, as readable lines; empty when they agree.
    static func differences(ours: Certificate, real: Certificate) throws -> [String] {
        var out: [String] = []
        let a = try DERReader.single(try ours.der()).children()[0].children()
        let b = try DERReader.single(try real.der()).children()[0].children()
        guard a.count == b.count else { return ["TBSCertificate has \(a.count) fields, the real one \(b.count)"] }
        if a[0].encoded != b[0].encoded { out.append("version") }
        if a[2].encoded != b[2].encoded { out.append("signature algorithm") }
        out += try names(a[3], b[3], "issuer") + names(a[5], b[5], "subject")
        if try a[4].children().map(\.tag) != b[4].children().map(\.tag) { out.append("validity time types") }
        let spkiA = try a[6].children(), spkiB = try b[6].children()
        if spkiA[0].encoded != spkiB[0].encoded { out.append("public key algorithm") }
        if spkiA[1].contents.count != spkiB[1].contents.count { out.append("public key size") }
        let extA = try a[7].children()[0].children(), extB = try b[7].children()[0].children()
        func summary(_ e: DERNode) throws -> (String, Bool, [UInt8]) {
            let parts = try e.children()
            let critical = parts.count == 3 && parts[1].contents == [0xFF]
            return (try parts[0].oidString(), critical, parts.last!.contents)
        }
        let sa = try extA.map(summary), sb = try extB.map(summary)
        if sa.map(\.0) != sb.map(\.0) { out.append("extension order \(sa.map(\.0)) vs \(sb.map(\.0))") }
        for (x, y) in zip(sa, sb) where x.0 == y.0 {
            if x.1 != y.1 { out.append("\(x.0) criticality") }
            switch x.0 {
            case "2.5.29.14":   // SKI: method 1, 20 octets
                if try DERReader.single(x.2).contents.count != 20 { out.append("subjectKeyIdentifier length") }
            case "2.5.29.31":   // CDP: fullName DirName = the root's own name
                let dirA = try Self.onlyDirName(x.2), dirB = try Self.onlyDirName(y.2)
                out += try names(dirA, dirB, "cRLDistributionPoints DirName")
            default:
                if x.2 != y.2 { out.append("\(x.0) value") }
            }
        }
        // Ten years, to 23:59:59 JST on the day before the anniversary.
        for (cert, who) in [(ours, "ours"), (real, "real")] {
            let expected = LocalDate(cert.notBefore).addingYears(10).addingDays(-1).endInTokyo
            if cert.notAfter != expected { out.append("\(who): notAfter \(cert.notAfter) is not the day before the 10th anniversary (\(expected))") }
        }
        return out
    }

    /// The DirName inside cRLDistributionPoints: SEQ { SEQ { [0] { [0] { [4] Name } } } }.
    static func onlyDirName(_ value: [UInt8]) throws -> DERNode {
        let point = try DERReader.single(value).children()[0]                     // DistributionPoint
        let fullName = try point.children()[0].children()[0]                       // [0] distributionPoint → [0] fullName
        let general = try fullName.children()[0]                                   // [4] directoryName
        return try general.children()[0]
    }

    /// Compares two Names RDN by RDN: attribute type, string type and value (O may differ in value).
    static func names(_ a: DERNode, _ b: DERNode, _ what: String) throws -> [String] {
        let ra = try a.children(), rb = try b.children()
        guard ra.count == rb.count else { return ["\(what): \(ra.count) RDNs, the real one \(rb.count)"] }
        var out: [String] = []
        for (x, y) in zip(ra, rb) {
            let ax = try x.children()[0].children(), ay = try y.children()[0].children()
            let oid = try ax[0].oidString()
            if oid != (try ay[0].oidString()) { out.append("\(what): attribute \(oid) where the real one has \(try ay[0].oidString())") }
            if ax[1].tag != ay[1].tag { out.append("\(what): \(oid) string type \(ax[1].tag) where the real one has \(ay[1].tag)") }
            if oid != "2.5.4.10" && ax[1].contents != ay[1].contents {
                out.append("\(what): \(oid) = \(String(decoding: ax[1].contents, as: UTF8.self)) where the real one has \(String(decoding: ay[1].contents, as: UTF8.self))")
            }
            if oid == "2.5.4.10" && String(decoding: ax[1].contents, as: UTF8.self) != "JPKI-SANDBOX" { out.append("\(what): O is not JPKI-SANDBOX") }
        }
        return out
    }

    @Test("a new sandbox's roots match every real generation (2015, 2019, 2023) structure by structure", arguments: [
        ("sign", "sign-g1-2015.pem"), ("sign", "sign-g2-2019.pem"), ("sign", "sign-g3-2023.pem"),
        ("auth", "auth-g1-2015.pem"), ("auth", "auth-g2-2019.pem"), ("auth", "auth-g3-2023.pem"),
    ])
    func matchesRealRoot(kind: String, file: String) throws {
        let real = Self.realRoots.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: real.path) else {
            Issue.record("the real J-LIS roots are not at \(Self.realRoots.path)")
            return
        }
        let home = TempHome()
        try home.initialize(at: "2023-07-16T09:50:27+09:00")
        let ours = try Certificate(pem: String(contentsOf: home.root(kind), encoding: .utf8))
        let theirs = try Certificate(pem: String(contentsOf: real, encoding: .utf8))
        let diff = try Self.differences(ours: ours, real: theirs)
        #expect(diff.isEmpty, "\(file): \(diff.joined(separator: "; "))")
    }

    @Test("the comparison fails on a difference: the old 20-year, re-ordered, PrintableString root is told apart")
    func comparisonCanFail() throws {
        let home = TempHome()
        try home.initialize(at: "2023-07-16T09:50:27+09:00")
        // Re-sign our root with basicConstraints before subjectAltName, as the sandbox used to.
        let ours = try Certificate(pem: String(contentsOf: home.root("sign"), encoding: .utf8))
        let key = try PrivateKey(pem: String(contentsOf: home.sandbox.appendingPathComponent("keys/sign-root.key"), encoding: .utf8))
        var extensions = ours.extensions.map { CertificateExtension(oid: $0.oid, critical: $0.critical, value: $0.value) }
        extensions.swapAt(1, 2)
        let config = CAConfiguration.defaults.sign
        let swapped = try CertificateTemplate(serial: [1], notBefore: ours.notBefore, notAfter: ours.notAfter.addingTimeInterval(86_400),
                                              issuer: config.subject, subject: config.subject, subjectPublicKey: try ours.publicKeyDER(),
                                              extensions: extensions).sign(with: key)
        let real = try Certificate(pem: String(contentsOf: Self.realRoots.appendingPathComponent("sign-g3-2023.pem"), encoding: .utf8))
        let diff = try Self.differences(ours: swapped, real: real)
        #expect(diff.contains { $0.hasPrefix("extension order") })
        #expect(diff.contains { $0.contains("day before the 10th anniversary") })
    }

    @Test("leaves: issuer byte-identical to the root's subject, issuerAltName = the root's subjectAltName")
    func leavesCopyTheRoot() throws {
        let home = TempHome()
        try home.initialize()
        let resident = try home.addResident(at: "2026-11-22")
        let issued = try home.cli(["card", "issue", "--resident", String(resident), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2026-11-22"])
        #expect(issued.status == 0, "\(issued.stdout)\(issued.stderr)")
        for cert in issued.json["certificates"] as? [[String: Any]] ?? [] {
            let kind = cert["kind"] as? String ?? ""
            let leaf = try Certificate(pem: try home.cli(["cert", "show", cert["serial"] as? String ?? "", "--json"]).json["pem"] as? String ?? "")
            let root = try Certificate(pem: String(contentsOf: home.root(kind), encoding: .utf8))
            #expect(leaf.issuerDER == root.subjectDER)
            let ian = leaf.extensions.first { $0.oid == "2.5.29.18" }?.value
            let san = root.extensions.first { $0.oid == "2.5.29.17" }?.value
            #expect(ian != nil && ian == san, "\(kind): issuerAltName differs from the root's subjectAltName")
        }
    }
}
