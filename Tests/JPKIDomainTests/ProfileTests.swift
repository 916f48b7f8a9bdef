import Foundation
import DERKit
import Testing
@testable import JPKIDomain

struct ProfileTests {
    static let locality = Locality(
        prefecture: .init(code: "11", name: "埼玉県", romanized: "Saitama-ken"),
        municipality: Municipality(code: "11201", name: "川越市", romanized: "Kawagoe-shi"))
    static let resident = Resident(
        id: 1, name: CertificateText(value: "山田\u{3000}太郎", flags: "00000"), dateOfBirth: try! LocalDate(iso: "1980-12-31"),
        sex: .male, address: CertificateText(value: "埼玉県川越市元町１", flags: "000000000"), locality: locality,
        residenceUntil: nil, adultWard: false)

    @Test("keyUsage is exactly 03 02 06 C0 (signing) and 03 02 07 80 (authentication)")
    func keyUsageBytes() {
        let sign = CertificateProfile.leafExtensions(kind: .sign, config: .defaults, resident: Self.resident, subjectKeyIdentifier: [1], authorityKeyIdentifier: [2], issuerAlternativeName: [0x30, 0x00])
        let auth = CertificateProfile.leafExtensions(kind: .auth, config: .defaults, resident: Self.resident, subjectKeyIdentifier: [1], authorityKeyIdentifier: [2], issuerAlternativeName: [0x30, 0x00])
        #expect(sign.first?.value == [0x03, 0x02, 0x06, 0xC0])
        #expect(sign.first?.critical == true)
        #expect(auth.first?.value == [0x03, 0x02, 0x07, 0x80])
    }

    @Test("extension order, criticality and SKI last")
    func order() {
        let sign = CertificateProfile.leafExtensions(kind: .sign, config: .defaults, resident: Self.resident, subjectKeyIdentifier: [1], authorityKeyIdentifier: [2], issuerAlternativeName: [0x30, 0x00])
        #expect(sign.map(\.oid) == ["2.5.29.15", "2.5.29.32", "2.5.29.17", "2.5.29.18", "2.5.29.31", "1.3.6.1.5.5.7.1.1", "2.5.29.35", "2.5.29.14"])
        #expect(sign.filter(\.critical).map(\.oid) == ["2.5.29.15", "2.5.29.32"])
        let auth = CertificateProfile.leafExtensions(kind: .auth, config: .defaults, resident: Self.resident, subjectKeyIdentifier: [1], authorityKeyIdentifier: [2], issuerAlternativeName: [0x30, 0x00])
        #expect(!auth.map(\.oid).contains("2.5.29.17"), "no subjectAltName on the authentication certificate")
        var noOCSP = CAConfiguration.defaults
        noOCSP.ocspInCertificates = false
        let withoutAIA = CertificateProfile.leafExtensions(kind: .auth, config: noOCSP, resident: Self.resident, subjectKeyIdentifier: [1], authorityKeyIdentifier: [2], issuerAlternativeName: [0x30, 0x00])
        #expect(!withoutAIA.map(\.oid).contains("1.3.6.1.5.5.7.1.1"))
    }

    @Test("six otherNames .1 .4 .3 .5 .2 .6, each [0] { OID, [0] UTF8String }")
    func otherNames() throws {
        let san = try DERReader.single(CertificateProfile.basicDetailsAltName(Self.resident))
        let names = try san.children()
        #expect(names.count == 6)
        var oids: [String] = []
        var values: [String] = []
        for name in names {
            #expect(name.tag == 0xA0)
            let parts = try name.children()
            oids.append(try parts[0].oidString())
            #expect(parts[1].tag == 0xA0)
            let inner = try DERReader.single(parts[1].contents)
            #expect(inner.tag == DER.utf8String)
            values.append(String(decoding: inner.contents, as: UTF8.self))
        }
        #expect(oids == [".1", ".4", ".3", ".5", ".2", ".6"].map { "1.2.392.200149.8.5.5" + $0 })
        #expect(values == ["山田\u{3000}太郎", "319801231", "1", "埼玉県川越市元町１", "00000", "000000000"])
    }

    @Test("subjects: C, L (prefecture), L (municipality), CN for signing; C, CN for authentication")
    func subjects() {
        let sign = CertificateProfile.leafSubject(kind: .sign, locality: Self.locality, commonName: "X")
        #expect(sign.description == "C=JP, L=Saitama-ken, L=Kawagoe-shi, CN=X")
        #expect(CertificateProfile.leafSubject(kind: .auth, locality: Self.locality, commonName: "X").description == "C=JP, CN=X")
        #expect(CertificateProfile.crlPartitionName(root: CAConfiguration.defaults.sign, locality: Self.locality).description
            == "C=JP, O=JPKI-SANDBOX, OU=JPKI for digital signature, OU=Japan Agency for Local Authority Information Systems, OU=CRL Distribution Points, OU=Saitama-ken, CN=Kawagoe-shi CRLDP")
    }

    @Test("the subject CN: request time in JST (14 digits), 5-digit sequence, 9-character window code")
    func commonName() {
        let at = Date(timeIntervalSince1970: 1_795_222_923)   // 2026-11-21T01:02:03Z = 10:02:03 JST
        #expect(CertificateProfile.commonName(requestedAt: at, sequence: 42, municipalityCode: "11201") == "2026112110020300042S11201SBX")
        let lateEvening = Date(timeIntervalSince1970: 1_795_273_199)   // 2026-11-21T14:59:59Z = 23:59:59 JST
        #expect(CertificateProfile.commonName(requestedAt: lateEvening, sequence: 123_456, municipalityCode: "13119").hasPrefix("2026112123595923456"))
    }

    @Test func oidEncoding() {
        #expect(DER.oid("1.2.392.200149.8.5.5.1") == [0x06, 0x0A, 0x2A, 0x83, 0x08, 0x8C, 0x9B, 0x55, 0x08, 0x05, 0x05, 0x01])
        #expect(DER.oid("2.5.29.15") == [0x06, 0x03, 0x55, 0x1D, 0x0F])
        #expect(DER.oid("1.2.x") == nil)
        #expect(DER.oid("3.1") == nil)
    }
}
