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

    /// The OCSP response as composed from DER pieces (the encoder before it wrote in one pass).
    static func composedResponse(signer: OCSPSigner, producedAt: Int64, responses: [OCSPSingleResponse], nonce: [UInt8]?,
                                 signature: [UInt8]) -> (response: [UInt8], tbs: [UInt8]) {
        let singles = responses.map { r -> [UInt8] in
            let status: [UInt8]
            switch r.status {
            case .good: status = [0x80, 0x00]
            case .unknown: status = [0x82, 0x00]
            case .revoked(let time, let reason):
                var info = DERTime.encode(time, generalized: true)
                if let reason { info += DER.explicit(0, DER.node(DER.enumerated, [UInt8(reason)])) }
                status = DER.node(DER.context(1, constructed: true), info)
            }
            var parts = [r.certIDDER, status, DERTime.encode(r.thisUpdate, generalized: true)]
            if let next = r.nextUpdate { parts.append(DER.explicit(0, DERTime.encode(next, generalized: true))) }
            return DER.sequence(parts)
        }
        var data: [[UInt8]] = [DER.explicit(2, DER.octets(signer.keyHash)), DERTime.encode(producedAt, generalized: true), DER.sequence(singles)]
        if let nonce { data.append(DER.explicit(1, DER.sequence([DER.sequence([DER.knownOID(OCSPRequest.nonceOID), DER.octets(nonce)])]))) }
        let tbs = DER.sequence(data)
        var basic: [[UInt8]] = [tbs, DER.sequence([DER.knownOID("1.2.840.113549.1.1.11"), DER.nullValue()]), DER.node(DER.bitString, [0] + signature)]
        if !signer.certificates.isEmpty { basic.append(DER.explicit(0, DER.sequence(signer.certificates))) }
        let response = DER.sequence([DER.node(DER.enumerated, [0]),
                                     DER.explicit(0, DER.sequence([DER.knownOID("1.3.6.1.5.5.7.48.1.1"), DER.octets(DER.sequence(basic))]))])
        return (response, tbs)
    }

    @Test("OCSP responses written in one pass are the DER composed piece by piece, signed over their ResponseData")
    func onePassResponse() throws {
        let root = try OpenSSLKitTests.selfSigned()
        let publicKey = try PublicKey(der: try OpenSSLKitTests.key.publicKeyDER())
        let certID = DER.sequence([DER.sequence([DER.knownOID("1.3.14.3.2.26"), DER.nullValue()]), DER.octets([UInt8](repeating: 1, count: 20)),
                                   DER.octets([UInt8](repeating: 2, count: 20)), DER.unsignedInteger([0x12, 0x34])])
        let statuses: [OCSPCertStatus] = [.good, .unknown, .revoked(time: 1_795_000_000, reason: 1), .revoked(time: 1_795_000_001, reason: nil)]
        // One response, four, and 1,500 (lengths of one, two and three bytes).
        for (count, certificates, nonce) in [(1, [Certificate](), [UInt8]?.none), (4, [root], [0x04, 0x10] + [UInt8](repeating: 7, count: 16)),
                                             (1_500, [root], [0x04, 0x01, 0x09])] {
            let signer = try OCSPSigner(key: OpenSSLKitTests.key, keyHash: [UInt8](repeating: 0xAB, count: 20), certificates: certificates, copies: 2)
            let singles = (0..<count).map { i in
                OCSPSingleResponse(certIDDER: certID, status: statuses[i % statuses.count], thisUpdate: 1_795_222_801,
                                   nextUpdate: i % 5 == 4 ? nil : 1_795_226_401)
            }
            let der = try OCSPResponseEncoder.successful(signer: signer, producedAt: 1_795_222_801, responses: singles, nonceExtensionValue: nonce)
            // The signature is the 256 bytes before the certificates (or at the end).
            let end = der.count - (certificates.isEmpty ? 0 : DER.explicit(0, DER.sequence(signer.certificates)).count)
            let signature = Array(der[(end - 256)..<end])
            let composed = Self.composedResponse(signer: signer, producedAt: 1_795_222_801, responses: singles, nonce: nonce, signature: signature)
            #expect(der == composed.response, "\(count) responses")
            #expect(try publicKey.verifySHA256(signature: signature, message: composed.tbs), "\(count) responses")
            // PKCS#1 v1.5 is deterministic: the same bytes signed again give the same signature (the prepared contexts are reused).
            #expect(try OCSPResponseEncoder.successful(signer: signer, producedAt: 1_795_222_801, responses: singles, nonceExtensionValue: nonce) == der)
            #expect(try OpenSSLKitTests.key.signSHA256(composed.tbs) == signature)
        }
    }
}
