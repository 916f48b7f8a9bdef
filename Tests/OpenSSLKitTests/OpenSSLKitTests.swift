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

/// `CertificateSigner` (one-pass TBSCertificate, prepared RSA contexts) against `X509_sign`.
struct CertificateSignerTests {
    static let leafKey = try! PrivateKey.generateRSA(bits: 2048)

    static func templates() throws -> [CertificateTemplate] {
        let issuer = OpenSSLKitTests.name
        let subject = try DistinguishedName(parsing: ["C=JP", "L=Tokyo", "L=Chiyoda-ku", "CN=2026112600000001000000000000001"])
        let basic = CertificateExtension(oid: "2.5.29.19", critical: true, value: DER.sequence([]))
        let usage = CertificateExtension(oid: "2.5.29.15", critical: true, value: DER.namedBits([0]))
        let policy = CertificateExtension(oid: "2.5.29.32", critical: true,
                                          value: DER.sequence([DER.sequence([DER.knownOID("1.2.392.200149.8.5.1.1.10")])]))
        let private_ = CertificateExtension(oid: "1.2.392.200149.8.5.5.1", critical: false, value: DER.utf8("山田 太郎"))
        var result: [CertificateTemplate] = []
        // A leaf with its key pair, a long serial with the top bit set, times on both sides of 2050.
        var a = CertificateTemplate(serial: [0x81] + [UInt8](repeating: 0x5A, count: 15), notBefore: Date(timeIntervalSince1970: 1_795_000_000.7),
                                    notAfter: Date(timeIntervalSince1970: 2_600_000_000), issuer: issuer, subject: subject,
                                    subjectKeyPair: leafKey, extensions: [basic, usage, policy, private_])
        a.issuerDER = issuer.der
        result.append(a)
        // A public key only, leading zero bytes in the serial, no extensions, a time before 1970.
        result.append(CertificateTemplate(serial: [0, 0, 0x7F, 1], notBefore: Date(timeIntervalSince1970: -86_400 * 400),
                                          notAfter: Date(timeIntervalSince1970: 1_795_000_000), issuer: issuer, subject: issuer,
                                          subjectPublicKey: try leafKey.publicKeyDER(), extensions: []))
        // A subject given as bytes.
        var c = CertificateTemplate(serial: [0x01], notBefore: Date(timeIntervalSince1970: 1_795_000_000), notAfter: Date(timeIntervalSince1970: 1_900_000_000),
                                    issuer: issuer, subject: subject, subjectKeyPair: leafKey, extensions: [usage])
        c.subjectDER = subject.der
        result.append(c)
        return result
    }

    @Test("the SubjectPublicKeyInfo written from n and e is the one OpenSSL's encoder writes")
    func publicKeyInfo() throws {
        for key in [OpenSSLKitTests.key, Self.leafKey, try PrivateKey.generateRSA(bits: 1024), try PrivateKey.generateRSA(bits: 3072)] {
            let ours = try key.publicKeyDER()
            #expect(ours == (try key.encodedPublicKeyDER()))
            #expect(try PublicKey(der: ours).der() == ours)
            #expect(try key.publicKeyDER() == ours)
        }
    }

    @Test("the one-pass certificate is byte for byte the one X509_sign makes, and OpenSSL verifies it")
    func sameBytesAsX509Sign() throws {
        let signer = CertificateSigner(key: OpenSSLKitTests.key, copies: 2)
        #expect(signer.isRSA)
        let root = try OpenSSLKitTests.selfSigned()
        for template in try Self.templates() {
            let expected = try template.sign(with: OpenSSLKitTests.key).der()
            let ours = try signer.signDER(template)
            #expect(ours == expected)
            let parsed = try Certificate(der: ours)
            #expect(parsed.isSigned(by: root))
            #expect(try parsed.der() == ours)
        }
    }

    @Test("several threads signing at once get correct certificates")
    func concurrentSigning() throws {
        let signer = CertificateSigner(key: OpenSSLKitTests.key, copies: 2)
        let template = try Self.templates()[0]
        let expected = try template.sign(with: OpenSSLKitTests.key).der()
        final class Box: @unchecked Sendable { var ok = [Bool](repeating: false, count: 32) }
        let box = Box()
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 32) { i in
            var t = template
            t.serial = [UInt8(i + 1)]
            let reference = try? t.sign(with: OpenSSLKitTests.key).der()
            let ours = try? signer.signDER(t)
            lock.lock(); box.ok[i] = ours != nil && ours == reference; lock.unlock()
        }
        #expect(box.ok.allSatisfy { $0 })
        #expect(try signer.signDER(template) == expected)
    }
}
