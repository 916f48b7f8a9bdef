import DERKit
import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// What `ocsp export` wrote.
public struct OCSPExportResource: Sendable, Codable {
    public let directory: String
    public let written: Int
    public let good: Int
    public let revoked: Int
    public let suspended: Int
    public let seconds: Double
    public let answersPerSecond: Double
    /// thisUpdate and nextUpdate of the answers written: serve them before nextUpdate, re-export sooner.
    public let thisUpdate: String
    public let nextUpdate: String
}

extension RevocationService {
    /// The OCSPRequest an RFC 5019 client sends for one certificate: one CertID with SHA-1 (RFC 5019
    /// §2.1.1), no nonce, no requestor name, no extensions: the bytes `openssl ocsp -no_nonce` sends.
    public static func staticRequestDER(issuer root: Certificate, serialHex: String) throws -> [UInt8] {
        let info = try DERReader.single(try root.publicKeyDER()).children()
        let keyHash = Crypto.sha1(Array(info[1].contents.dropFirst()))
        let nameHash = Crypto.sha1(root.subjectDER)
        let serial = try Self.bytes(hex: serialHex)
        let certID = DER.sequence([
            DER.sequence([DER.knownOID("1.3.14.3.2.26"), DER.nullValue()]),
            DER.octets(nameHash), DER.octets(keyHash), DER.unsignedInteger(serial),
        ])
        return DER.sequence([DER.sequence([DER.sequence([DER.sequence([certID])])])])
    }

    static func bytes(hex: String) throws -> [UInt8] {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { throw SandboxError.invalid("odd serial \(hex)") }
        return try stride(from: 0, to: chars.count, by: 2).map { i in
            guard let b = UInt8(String(decoding: chars[i..<i + 2], as: UTF8.self), radix: 16) else { throw SandboxError.invalid("bad serial \(hex)") }
            return b
        }
    }

    /// Where a GET request for `requestDER` looks under the exported folder: `ocsp/` and the request's
    /// standard base64, whose `/` characters are folders. A server that percent-decodes the path
    /// (nginx does: `%2F` → `/`, `%2B` → `+`, `%3D` → `=`) finds the file for the plain and the
    /// percent-encoded forms alike; with `merge_slashes off`, since base64 may hold `//`.
    public static func staticPath(requestDER: [UInt8]) -> String {
        "ocsp/" + Data(requestDER).base64EncodedString()
    }

    /// `ocsp export --out DIR`: a pre-signed answer (the same encoder and status decision as the
    /// responder's, no nonce) for every certificate, or for those issued or revoked/suspended since
    /// `since`, each written atomically at the path its GET request names. Signed on every core.
    public func exportStatic(to folder: URL, since: Date?, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                             progress: (Int, Int) -> Void = { _, _ in }) throws -> OCSPExportResource {
        refresh()
        let targets = try sandbox.store.read { try $0.certificateSerials(since: since) }
        return try exportStatic(to: folder, targets: targets, threads: threads, progress: progress)
    }

    /// The answers of the certificates whose status changed after `seq` in `status_log` (issued,
    /// revoked, suspended or released: every change, whatever made it), and the sequence number seen.
    /// What `serve --ocsp-export` runs when the register changes.
    public func exportStaticChanges(to folder: URL, after seq: Int64) throws -> (OCSPExportResource?, Int64) {
        refresh()
        let (changes, last) = try sandbox.store.read { tx in (try tx.statusChanges(after: seq, limit: 10_000_000), try tx.lastStatusChange()) }
        guard !changes.isEmpty else { return (nil, max(seq, last)) }
        var seen = Set<String>()
        let targets = changes.filter { seen.insert($0.serial).inserted }.map { (serial: $0.serial, kind: $0.kind) }
        return (try exportStatic(to: folder, targets: targets), changes.last!.seq)
    }

    /// The sequence number of the last status change (where `exportStaticChanges` starts).
    public func lastStatusChange() throws -> Int64 { try sandbox.store.read { try $0.lastStatusChange() } }

    func exportStatic(to folder: URL, targets: [(serial: String, kind: CertificateKind)],
                      threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                      progress: (Int, Int) -> Void = { _, _ in }) throws -> OCSPExportResource {
        let started = Date()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("ocsp"), withIntermediateDirectories: true)
        final class Tally: @unchecked Sendable {
            var good = 0, revoked = 0, suspended = 0, failure: (any Error)?
            var thisUpdate: Date?, nextUpdate: Date?
        }
        let tally = Tally()
        let lock = NSLock()
        let chunk = 256
        var done = 0
        while done < targets.count {
            let slice = Array(targets[done..<min(targets.count, done + chunk)])
            DispatchQueue.concurrentPerform(iterations: max(1, min(threads, slice.count))) { t in
                var i = t
                while i < slice.count {
                    defer { i += max(1, min(threads, slice.count)) }
                    do {
                        let (serial, kind) = slice[i]
                        let request = try Self.staticRequestDER(issuer: sandbox.root(kind).certificate, serialHex: serial)
                        let answer = self.answer(requestDER: request, refreshed: true)
                        guard answer.responseStatus == .successful, let cacheable = answer.cacheable else {
                            throw SandboxError("ocsp-export", "no successful answer for \(serial) (\(answer.responseStatus))")
                        }
                        let url = folder.appendingPathComponent(Self.staticPath(requestDER: request))
                        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                        try AtomicFile.write(answer.der, to: url, mode: 0o644)
                        lock.lock()
                        switch answer.certificateStatuses.first {
                        case "good": tally.good += 1
                        case "certificateHold": tally.suspended += 1
                        default: tally.revoked += 1
                        }
                        if tally.thisUpdate.map({ cacheable.thisUpdate < $0 }) ?? true { tally.thisUpdate = cacheable.thisUpdate }
                        if tally.nextUpdate.map({ cacheable.nextUpdate < $0 }) ?? true { tally.nextUpdate = cacheable.nextUpdate }
                        lock.unlock()
                    } catch {
                        lock.lock(); tally.failure = tally.failure ?? error; lock.unlock()
                    }
                }
            }
            if let failure = tally.failure { throw failure }
            done += slice.count
            progress(done, targets.count)
        }
        let seconds = Date().timeIntervalSince(started)
        let now = self.now()
        return OCSPExportResource(directory: folder.path, written: targets.count, good: tally.good, revoked: tally.revoked,
                                  suspended: tally.suspended, seconds: seconds, answersPerSecond: Double(targets.count) / max(seconds, 0.001),
                                  thisUpdate: ISOTime.display(tally.thisUpdate ?? now), nextUpdate: ISOTime.display(tally.nextUpdate ?? now))
    }
}
