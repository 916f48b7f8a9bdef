import DERKit
import Foundation
import Testing
@testable import OpenSSLKit

struct OpenSSLKitTests {
    static let key = try! PrivateKey.generateRSA(bits: 2048)
    static let name = try! DistinguishedName(parsing: ["C=JP", "O=Test", "CN=Root"])

    static func selfSigned(notBefore: Date = Date(timeIntervalSince1970: 1_700_000_000)) throws -> Certificate {
        let spki = try key.publicKeyDER()
        return try CertificateTemplate(
            serial: [0x01, 0x02, 0x03], notBefore: notBefore, notAfter: notBefore.addingTimeInterval(86_400 * 365),
            issuer: name, subject: name, subjectPublicKey: spki,
            extensions: [CertificateExtension(oid: "2.5.29.19", critical: true, value: DER.sequence([DER.bool(true)]))]
        ).sign(with: key)
    }

    @Test func keyBasics() throws {
        #expect(Self.key.bits == 2048)
        let again = try PrivateKey(pem: try Self.key.pem())
        #expect(try again.publicKeyDER() == (try Self.key.publicKeyDER()))
        let signature = try Self.key.signSHA256(Array("hello".utf8))
        let pub = try PublicKey(der: try Self.key.publicKeyDER())
        #expect(try pub.verifySHA256(signature: signature, message: Array("hello".utf8)))
        #expect(try !pub.verifySHA256(signature: signature, message: Array("hellO".utf8)))
    }

    @Test func certificateRoundTrip() throws {
        let cert = try Self.selfSigned()
        let der = try cert.der()
        let parsed = try Certificate(der: der)
        #expect(parsed.serialHex == "010203")
        #expect(parsed.subjectText == "C=JP, O=Test, CN=Root")
        #expect(parsed.notBefore == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(parsed.extensions.map(\.oid) == ["2.5.29.19"])
        #expect(parsed.extensions[0].critical)
        #expect(parsed.isSigned(by: cert))
        #expect(try Certificate(pem: try cert.pem()).der() == der)
        #expect(cert.verificationError(root: cert, at: Date(timeIntervalSince1970: 1_700_000_100)) == nil)
        #expect(cert.verificationError(root: cert, at: Date(timeIntervalSince1970: 1_600_000_000)) != nil, "not yet valid")
    }

    @Test("truncated or padded DER is an error, not a crash")
    func badDER() throws {
        let der = try Self.selfSigned().der()
        #expect(throws: OpenSSLError.self) { try Certificate(der: Array(der.dropLast(10))) }
        #expect(throws: OpenSSLError.self) { try Certificate(der: der + [0]) }
        #expect(throws: OpenSSLError.self) { try Certificate(der: []) }
        #expect(throws: OpenSSLError.self) { try Certificate(pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") }
        #expect(throws: OpenSSLError.self) { try PrivateKey(pem: "not a key") }
    }

    @Test func pkcs12RoundTrip() throws {
        let cert = try Self.selfSigned()
        let p12 = try PKCS12.make(key: Self.key, certificate: cert, chain: [cert], password: "secret", friendlyName: "test")
        let opened = try PKCS12.open(p12, password: "secret")
        #expect(try opened.certificate.der() == (try cert.der()))
        #expect(opened.chain.count == 1)
        #expect(throws: OpenSSLError.self) { try PKCS12.open(p12, password: "wrong") }
    }

    @Test func hashesAndPBKDF2() throws {
        #expect(Crypto.sha256(Array("abc".utf8)).hexString == "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")
        // RFC 7914 §11 test vector for PBKDF2-HMAC-SHA256.
        let dk = try Crypto.pbkdf2SHA256(password: "passwd", salt: Array("salt".utf8), iterations: 1, length: 64)
        #expect(dk.hexString.lowercased().hasPrefix("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"))
        #expect([UInt8](hexString: "0aFF") == [0x0A, 0xFF])
        #expect([UInt8](hexString: "0g") == nil)
    }

    @Test func keyIdentifierMethod1() throws {
        let spki = try Self.key.publicKeyDER()
        let ski = try KeyIdentifier.method1(subjectPublicKeyInfo: spki)
        #expect(ski.count == 20)
        #expect(throws: (any Error).self) { try KeyIdentifier.method1(subjectPublicKeyInfo: [0x30, 0x00]) }
    }
}
