import OpenSSLKit

/// One OCSP request body as `serve` receives it: parse, then read everything the responder reads.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOCSPRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let request = try? OCSPRequest(der: bytes) else { return 0 }
    for id in request.certIDs {
        _ = (id.hashAlgorithm, id.issuerNameHash.count, id.issuerKeyHash.count, id.serialNumber?.count, id.der.count)
    }
    _ = request.nonce
    return 0
}
