import DERKit
import Foundation
import Testing
@testable import OpenSSLKit

/// The DER our CRLs and OCSP answers are made of, read back by OpenSSL.
struct RevocationEncodingTests {
    @Test("times: UTCTime through 2049, GeneralizedTime from 2050 and for OCSP (RFC 5280 §4.1.2.5)")
    func times() {
        #expect(DERTime.encode(0) == [0x17, 13] + Array("700101000000Z".utf8))
        #expect(DERTime.encode(1_795_222_801) == [0x17, 13] + Array("261121010001Z".utf8))
        #expect(DERTime.encode(2_524_607_999) == [0x17, 13] + Array("491231235959Z".utf8))
        #expect(DERTime.encode(2_524_608_000) == [0x18, 15] + Array("20500101000000Z".utf8))
        #expect(DERTime.encode(951_782_400, generalized: true) == [0x18, 15] + Array("20000229000000Z".utf8))
    }

    @Test("a CRL of 10,000 entries: OpenSSL parses it, checks its signature and finds every serial")
    func crl() throws {
        let root = try OpenSSLKitTests.selfSigned()
        var builder = CRLBuilder(issuer: root.subjectDER, thisUpdate: 1_795_222_801, nextUpdate: 1_795_309_201, expectedEntries: 10_000)
        var serials: [[UInt8]] = []
        for i in 0..<10_000 {
            let serial: [UInt8] = i % 3 == 0 ? [0xFF, UInt8(i & 0xFF), UInt8(i >> 8)] : [0x01, UInt8(i & 0xFF), UInt8(i >> 8), 0x42]
            serials.append(serial)
            builder.add(serial: serial, revocationDate: 1_795_000_000 + Int64(i), reasonCode: i % 2 == 0 ? 1 : nil)
        }
        let der = try builder.sign(with: OpenSSLKitTests.key, extensions: [CertificateExtension(oid: "2.5.29.20", critical: false, value: DER.integer(7))])
        let crl = try CertificateRevocationList(der: der)
        #expect(crl.isSigned(by: root))
        #expect(crl.thisUpdate == 1_795_222_801 && crl.nextUpdate == 1_795_309_201)
        for serial in serials { #expect(crl.contains(serial: serial)) }
        #expect(!crl.contains(serial: [0x02, 0x02]))
        var tampered = der
        tampered[tampered.count / 2] ^= 1
        #expect((try? CertificateRevocationList(der: tampered)).map { !$0.isSigned(by: root) } ?? true)
        // An empty CRL leaves revokedCertificates out (RFC 5280 §5.1.2.6).
        let empty = try CRLBuilder(issuer: root.subjectDER, thisUpdate: 0, nextUpdate: 1).sign(with: OpenSSLKitTests.key, extensions: [])
        #expect(try CertificateRevocationList(der: empty).isSigned(by: root))
    }

    @Test("OCSP requests: garbage is refused, not crashed on")
    func garbage() {
        for bytes: [UInt8] in [[], [0x30], [0x30, 0x00], [0x30, 0x80, 0x00, 0x00], Array(repeating: 0xFF, count: 64), [0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]] {
            #expect(throws: OpenSSLError.self) { try OCSPRequest(der: bytes) }
        }
        for _ in 0..<200 {
            let random = (0..<Int.random(in: 1...300)).map { _ in UInt8.random(in: 0...255) }
            _ = try? OCSPRequest(der: random)
        }
    }

    /// An OCSPRequest with one CertID whose hashAlgorithm carries `parameters` (nil: absent).
    static func request(hash: String, parameters: [UInt8]?) -> [UInt8] {
        let algorithm = DER.sequence([DER.knownOID(hash)] + (parameters.map { [$0] } ?? []))
        let certID = DER.sequence([algorithm, DER.octets([UInt8](repeating: 1, count: 20)), DER.octets([UInt8](repeating: 2, count: 20)),
                                   DER.unsignedInteger([0x12, 0x34])])
        return DER.sequence([DER.sequence([DER.sequence([DER.sequence([certID])])])])
    }

    @Test("a CertID's hash algorithm with parameters other than absent or NULL is malformed (issue 8)")
    func certIDParameters() throws {
        for hash in ["1.3.14.3.2.26", "2.16.840.1.101.3.4.2.1"] {
            #expect(try OCSPRequest(der: Self.request(hash: hash, parameters: nil)).certIDs.count == 1)
            #expect(try OCSPRequest(der: Self.request(hash: hash, parameters: DER.nullValue())).certIDs.count == 1)
            for odd in [DER.integer(5), DER.octets([]), DER.sequence([]), DER.bool(true), DER.utf8("x"), DER.knownOID("1.3.14.3.2.26")] {
                #expect(throws: OpenSSLError.self) { try OCSPRequest(der: Self.request(hash: hash, parameters: odd)) }
            }
        }
    }

    @Test("unsuccessful OCSP responses are the bare status (RFC 6960 §4.2.1)")
    func unsuccessful() {
        #expect(OCSPResponseEncoder.unsuccessful(.malformedRequest) == [0x30, 0x03, 0x0A, 0x01, 0x01])
        #expect(OCSPResponseEncoder.unsuccessful(.unauthorized) == [0x30, 0x03, 0x0A, 0x01, 0x06])
    }
}
