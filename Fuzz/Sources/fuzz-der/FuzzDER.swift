import DERKit

/// Reads every node of the input, descending into constructed ones (to a bounded depth) and decoding OIDs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDER(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? DERReader.single(bytes)
    var reader = DERReader(bytes)
    while !reader.isAtEnd {
        guard let node = try? reader.next() else { break }
        walk(node, depth: 0)
    }
    return 0
}

private func walk(_ node: DERNode, depth: Int) {
    if node.tag == DER.objectIdentifier { _ = try? node.oidString() }
    guard node.isConstructed, depth < 32, let children = try? node.children() else { return }
    for child in children { walk(child, depth: depth + 1) }
}
