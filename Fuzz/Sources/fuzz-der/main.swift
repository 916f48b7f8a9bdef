import CFuzzDriver
import Foundation
import DERKit

/// Reads every node of the input, descending into constructed ones (to a bounded depth) and decoding OIDs.
func fuzzDER(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
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

// SwiftPM links an executable's `main` to this file's top-level code, so libFuzzer's own `main` is not
// used: its driver is started here instead.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzDER(data, size) })
