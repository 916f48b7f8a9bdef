import DERKit
import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// One signed CRL: a root's full CRL, or one municipality's partition of it.
public struct PublishedCRL: Sendable {
    public let kind: CertificateKind
    /// The root generation that signs it and whose certificates it lists.
    public let generation: Int
    /// Whether that generation is the current one (its full CRL is `sign.crl`).
    public let isCurrent: Bool
    /// The municipality code of a partition; nil for the root's full CRL.
    public let municipalityCode: String?
    public let number: Int
    public let thisUpdate: Date
    public let nextUpdate: Date
    public let entries: Int
    public let der: [UInt8]
    /// A strong HTTP validator: the SHA-256 of the DER, shortened.
    public let etag: String

    /// The path under `/crl/` and under `crl generate --out` (`CRLPaths`): `sign.crl` (the current
    /// generation's full CRL), `sign-g1.crl` (an older generation's), `sign/11201.crl` (generation 1's
    /// partition), `sign-g2/11201.crl` (a later generation's).
    public var path: String {
        if let municipalityCode { return CRLPaths.partition(kind: kind, municipalityCode: municipalityCode, generation: generation) }
        return isCurrent ? CRLPaths.current(kind: kind) : CRLPaths.full(kind: kind, generation: generation)
    }

    /// Every path it is published at: the current generation's full CRL is also `sign-g<N>.crl` once
    /// the root has been rolled over.
    public var paths: [String] {
        municipalityCode == nil && isCurrent && generation > 1 ? [path, CRLPaths.full(kind: kind, generation: generation)] : [path]
    }
}

/// A municipality's partition of one root generation's CRL.
public struct CRLPartitionKey: Hashable, Sendable {
    public let kind: CertificateKind
    public let generation: Int
    public let code: String
    public init(kind: CertificateKind, generation: Int, code: String) { self.kind = kind; self.generation = generation; self.code = code }
}

extension Sandbox {
    /// Generates and signs the CRLs of the given roots, every generation of each: for each generation,
    /// the full CRL and one partition per municipality that has certificates of that kind and
    /// generation (plus `extraPartitions`, e.g. a partition a client asked for before any certificate
    /// of it was revoked). A generation's CRLs list its own certificates only, carry its AKI and count
    /// their own cRLNumbers.
    ///
    /// The cRLNumbers are reserved, and the revoked certificates read, in one write transaction:
    /// it commits before any of these CRLs is written or served (a crash wastes numbers, never reuses
    /// one), and because writers are serialised, a higher number never holds older content than a
    /// lower one, whichever process (CLI or server) generated them.
    public func generateCRLs(kinds: [CertificateKind] = CertificateKind.allCases, partitions: Bool = true,
                             extraPartitions: Set<CRLPartitionKey> = []) throws -> [PublishedCRL] {
        let now = try now()
        let thisUpdate = Int64(now.timeIntervalSince1970)
        let nextUpdate = thisUpdate + Int64(config.crlValidityHours) * 3600

        struct Pending {
            let kind: CertificateKind
            let generation: Int
            let isCurrent: Bool
            let code: String?
            let number: Int
            var builder: CRLBuilder
            let point: [UInt8]?
        }
        var pending: [Pending] = []
        let started = Date()
        try store.write { tx in
            for kind in kinds {
              let generations = rootGenerations[kind] ?? []
              for root in generations {
                let generation = root.generation
                let isCurrent = generation == generations.last?.generation
                let issuer = root.certificate.subjectDER
                var codes: [(String, [UInt8])] = []
                if partitions {
                    let asked = extraPartitions.filter { $0.kind == kind && $0.generation == generation }.map(\.code)
                    let wanted = Set(try tx.municipalityCodes(kind: kind, generation: generation)).union(asked)
                    for code in wanted.sorted() {
                        // A code outside the table has no partition name: its certificates are still on the full CRL.
                        guard let locality = RevocationProfile.locality(code: code, table: table) else { continue }
                        codes.append((code, CertificateProfile.crlPartitionPointName(kind: kind, config: config, locality: locality,
                                                                                    generation: generation)))
                    }
                }
                let first = try tx.allocateCRLNumbers(kind: kind, generation: generation, count: 1 + codes.count)
                var full = CRLBuilder(issuer: issuer, thisUpdate: thisUpdate, nextUpdate: nextUpdate,
                                      expectedEntries: try tx.revokedCount(kind: kind, generation: generation))
                // Partitions by municipality code, keyed by the code's bytes packed in an integer
                // (the loop below runs once per revoked certificate and makes no String).
                var parts: [UInt64: Int] = [:]
                var partBuilders: [CRLBuilder] = []
                for (code, _) in codes {
                    parts[Self.codeKey(code)] = partBuilders.count
                    partBuilders.append(CRLBuilder(issuer: issuer, thisUpdate: thisUpdate, nextUpdate: nextUpdate))
                }
                let partitioned = !parts.isEmpty
                try tx.forEachRevoked(kind: kind, generation: generation) { hex, revokedAt, reason, code in
                    guard let serial = Self.decodeHex(hex) else { return }
                    let time = revokedAt.flatMap { StoredTime.seconds(utf8: $0.bindMemory(to: UInt8.self)) } ?? thisUpdate
                    let reasonCode = Self.crlReasonCode(reason)
                    full.add(serial: serial, revocationDate: time, reasonCode: reasonCode)
                    if partitioned, let index = parts[Self.codeKey(code)] { partBuilders[index].add(serial: serial, revocationDate: time, reasonCode: reasonCode) }
                }
                pending.append(Pending(kind: kind, generation: generation, isCurrent: isCurrent, code: nil, number: first, builder: full, point: nil))
                for (offset, (code, point)) in codes.enumerated() {
                    pending.append(Pending(kind: kind, generation: generation, isCurrent: isCurrent, code: code, number: first + 1 + offset,
                                           builder: partBuilders[offset], point: point))
                }
              }
            }
        }

        let read = Date()
        // Signing (and hashing large lists) on every core; each CRL is independent.
        let results = UnsafeMutableBufferPointer<Result<PublishedCRL, any Error>?>.allocate(capacity: pending.count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        nonisolated(unsafe) let slots = results
        let work = pending
        DispatchQueue.concurrentPerform(iterations: work.count) { index in
            let p = work[index]
            let root = self.root(p.kind, generation: p.generation) ?? self.root(p.kind)
            slots[index] = Result {
                let der = try p.builder.sign(with: root.key, extensions: RevocationProfile.crlExtensions(
                    authorityKeyIdentifier: root.keyIdentifier, number: p.number, partitionPoint: p.point))
                return PublishedCRL(kind: p.kind, generation: p.generation, isCurrent: p.isCurrent, municipalityCode: p.code, number: p.number,
                                    thisUpdate: Date(timeIntervalSince1970: TimeInterval(thisUpdate)),
                                    nextUpdate: Date(timeIntervalSince1970: TimeInterval(nextUpdate)),
                                    entries: p.builder.entryCount, der: der,
                                    etag: "\"" + Array(Crypto.sha256(der).prefix(16)).hexString.lowercased() + "\"")
            }
        }
        let crls = try results.map { try $0!.get() }
        logger.debug("CRLs built", metadata: [
            "crls": "\(crls.count)", "entries": "\(crls.filter { $0.municipalityCode == nil }.map(\.entries).reduce(0, +))",
            "readAndBuildSeconds": "\(read.timeIntervalSince(started))", "signSeconds": "\(Date().timeIntervalSince(read))",
        ])
        return crls
    }

    /// Up to 7 bytes of a municipality code and its length as one integer (codes are 5 digits).
    static func codeKey(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var key = UInt64(bytes.count)
        for b in bytes.prefix(7) { key = key << 8 | UInt64(b) }
        return key
    }

    static func codeKey(_ text: String) -> UInt64 {
        Array(text.utf8).withUnsafeBytes { codeKey($0) }
    }

    /// Hexadecimal digit values; 0xFF for anything else.
    static let hexValues: [UInt8] = (0...255).map { c in
        switch UInt8(c) {
        case 0x30...0x39: UInt8(c) - 0x30
        case 0x41...0x46: UInt8(c) - 0x41 + 10
        case 0x61...0x66: UInt8(c) - 0x61 + 10
        default: 0xFF
        }
    }

    /// Hexadecimal text to bytes; nil when the text is not hex.
    static func decodeHex(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        guard !text.isEmpty, text.count % 2 == 0 else { return nil }
        var valid = true
        let bytes = [UInt8](unsafeUninitializedCapacity: text.count / 2) { out, count in
            hexValues.withUnsafeBufferPointer { table in
                for i in 0..<(text.count / 2) {
                    let hi = table[Int(text[2 * i])], lo = table[Int(text[2 * i + 1])]
                    if hi | lo == 0xFF || hi > 15 || lo > 15 { valid = false }
                    out[i] = hi << 4 | (lo & 0x0F)
                }
            }
            count = text.count / 2
        }
        return valid ? bytes : nil
    }

    /// The CRL reasonCode of a stored reason name (bytes), as `RevocationProfile.crlReasonCode`. The
    /// six names have six different lengths, so the length finds the candidate.
    static let reasonsByLength: [Int: ([UInt8], Int?)] = Dictionary(uniqueKeysWithValues: RevocationReason.allCases.map {
        (Array($0.rawValue.utf8).count, (Array($0.rawValue.utf8), RevocationProfile.crlReasonCode($0.rawValue)))
    })
    static func crlReasonCode(_ reason: UnsafeRawBufferPointer?) -> Int? {
        guard let reason, let (name, code) = reasonsByLength[reason.count], name.elementsEqual(reason) else { return nil }
        return code
    }

    /// Writes CRLs under `folder` as `sign.crl`, `auth.crl`, `sign/<code>.crl`, … (and, after a rollover,
    /// `sign-g1.crl`, `sign-g2/<code>.crl`, …: every path of `PublishedCRL.paths`), each atomically
    /// (a reader never sees half a file). Returns the files written.
    public static func writeCRLs(_ crls: [PublishedCRL], to folder: URL) throws -> [URL] {
        let fm = FileManager.default
        var written: [URL] = []
        for crl in crls {
          for path in crl.paths {
            let url = folder.appendingPathComponent(path)
            let folder = url.deletingLastPathComponent()
            if !fm.fileExists(atPath: folder.path) { try fm.createDirectory(at: folder, withIntermediateDirectories: true) }
            // Beside, then renamed over: a reader never sees half a file, and a planted link gets nothing.
            try AtomicFile.write(crl.der, to: url, mode: 0o644)
            written.append(url)
          }
        }
        return written
    }
}
