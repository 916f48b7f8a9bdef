import CFuzzDriver
import Foundation
import JPKIDomain
import OpenSSLKit

/// The input of `verify`: a CMS signature, and the signed content when it is detached.
/// Layout: the first byte n; when n is 0 the rest is an attached signature, else the next n bytes are the
/// content and the rest the detached signature. A signature that checks out is then read as `verify` reads
/// its signer: the certificate's fields, its extensions, and the basic details in its subjectAltName.
func fuzzCMSVerify(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let n = bytes.first else { return 0 }
    let rest = bytes.dropFirst()
    let content: [UInt8]? = n == 0 ? nil : Array(rest.prefix(Int(n)))
    let signature = n == 0 ? Array(rest) : Array(rest.dropFirst(Int(n)))
    _ = try? Certificate(pemOrDER: signature)
    guard let verified = try? CMS.verifySignature(signature, detachedContent: content) else { return 0 }
    let signer = verified.signer
    _ = (signer.serialHex, signer.subjectText, signer.notBefore, signer.notAfter, signer.subjectKeyIdentifier, verified.signingTime)
    for ext in signer.extensions where ext.oid == CertificateProfile.OID.subjectAltName {
        _ = CertificateProfile.decodeBasicDetails(subjectAltName: ext.value)
    }
    return 0
}

// SwiftPM links an executable's `main` to this file's top-level code, so libFuzzer's own `main` is not
// used: its driver is started here instead.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzCMSVerify(data, size) })
