import CFuzzDriver
import Foundation
import OpenSSLKit

/// One OCSP request body as `serve` receives it: parse, then read everything the responder reads.
func fuzzOCSPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let request = try? OCSPRequest(der: bytes) else { return 0 }
    for id in request.certIDs {
        _ = (id.hashAlgorithm, id.issuerNameHash.count, id.issuerKeyHash.count, id.serialNumber?.count, id.der.count)
    }
    _ = request.nonce
    return 0
}

// SwiftPM links an executable's `main` to this file's top-level code, so libFuzzer's own `main` is not
// used: its driver is started here instead.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOCSPRequest(data, size) })
