import Foundation
import JPKIDomain
import Logging

/// The CRLs a server serves: generated at start, regenerated after changes (a burst of changes
/// makes one generation) and well before nextUpdate, and never served stale.
public actor CRLPublisher {
    let sandbox: Sandbox
    let logger: Logger
    private var current: [String: PublishedCRL] = [:]
    /// Roots whose CRLs no longer reflect the database; set from any thread at once, so that a CRL
    /// request right after a change cannot miss it.
    nonisolated let stale = LockedKinds(Set(CertificateKind.allCases))
    /// Partitions asked for that had no certificates when last generated.
    private var extra: Set<CRLPartitionKey> = []
    private var running: Task<Void, any Error>?
    public private(set) var generations = 0

    init(sandbox: Sandbox, logger: Logger) {
        self.sandbox = sandbox
        self.logger = logger
    }

    /// Marks roots' CRLs stale; callable from any thread (the maintenance loop or the next request regenerates).
    nonisolated func markStale(_ kinds: Set<CertificateKind>) { stale.insert(kinds) }

    /// Every CRL once (the current generation's full CRL is also kept under its generation's path).
    public var all: [PublishedCRL] { current.filter { $0.key == $0.value.path }.map(\.value).sorted { $0.path < $1.path } }

    /// Whether any CRL is stale or reaches the point where it is renewed (half of its validity).
    func needsGeneration(now: Date) -> Bool {
        !stale.isEmpty || current.isEmpty || isDue(now: now)
    }

    /// Renewal is due at half of the validity (long before nextUpdate), or when the clock went back.
    func isDue(now: Date) -> Bool {
        current.values.contains { crl in
            now >= crl.thisUpdate.addingTimeInterval(crl.nextUpdate.timeIntervalSince(crl.thisUpdate) / 2) || now < crl.thisUpdate
        }
    }

    /// Regenerates what is stale (or everything when due), joining a generation already running.
    ///
    /// A generation clears `running` itself, on the actor, before it completes: a caller that waited
    /// for it never finds it still "running" once finished (waiting again on a finished task does not
    /// suspend, and such a loop would hold the actor for ever), and a mark set while it ran makes the
    /// next pass generate again. A caller also waits for any generation running when it looks: that
    /// one may have taken the very mark the caller set (another caller started it), and the CRLs from
    /// before it would not show the caller's change.
    ///
    /// `now` is read afresh at every pass. (It used to be one instant taken before the loop: a
    /// generation that finished in a later second made CRLs with a thisUpdate after it, which looked
    /// like "the clock went back", so every pass generated again, for ever — the request never got its
    /// CRL and the server never finished a graceful stop.)
    public func bringUpToDate(now: @Sendable () -> Date) async throws {
        while running != nil || needsGeneration(now: now()) {
            if let running {
                // Its failure is reported to the caller that started it; this one tries again.
                _ = try? await running.value
                continue
            }
            let taken = stale.take()
            let kinds = current.isEmpty || isDue(now: now()) ? CertificateKind.allCases : CertificateKind.allCases.filter { taken.contains($0) }
            let extraNow = extra
            let sandbox = self.sandbox
            let task = Task<Void, any Error> {
                defer { self.running = nil }
                let started = Date()
                do {
                    let crls = try await Blocking.run { try sandbox.generateCRLs(kinds: kinds, extraPartitions: extraNow) }
                    self.install(crls, kinds: kinds, seconds: Date().timeIntervalSince(started))
                } catch {
                    self.stale.insert(Set(kinds))
                    throw error
                }
            }
            running = task
            try await task.value
        }
    }

    private func install(_ crls: [PublishedCRL], kinds: [CertificateKind], seconds: TimeInterval) {
        for key in current.keys where kinds.contains(where: { key.hasPrefix($0.rawValue) }) { current[key] = nil }
        for crl in crls { for path in crl.paths { current[path] = crl } }
        generations += 1
        logger.info("CRLs generated", metadata: [
            "kinds": "\(kinds.map(\.rawValue).joined(separator: ","))", "crls": "\(crls.count)",
            "entries": "\(crls.filter { $0.municipalityCode == nil }.map(\.entries).reduce(0, +))",
            "numbers": "\(crls.map(\.number).min() ?? 0)-\(crls.map(\.number).max() ?? 0)",
            "seconds": "\(String(format: "%.3f", seconds))",
        ])
    }

    /// The current CRL at `path` (`sign.crl`, `auth/13119.crl`), brought up to date first. A partition
    /// of a municipality in the table that has no certificates yet is generated on demand.
    public func crl(path: String, now: @Sendable () -> Date) async throws -> PublishedCRL? {
        try await bringUpToDate(now: now)
        if let crl = current[path] { return crl }
        // `sign-gN.crl` of the current generation is its full CRL, published as `sign.crl` while it is the
        // only one (leaves made with `[crl] distribution_point = "full"` name `sign-gN.crl` from the start).
        if let named = CRLPaths.parse(path), named.code == nil, let generation = named.generation,
           generation == sandbox.root(named.kind).generation, current[path] == nil {
            return current[CRLPaths.current(kind: named.kind)]
        }
        guard let (kind, generation, code) = CRLPaths.parse(path), let generation, let code,
              sandbox.root(kind, generation: generation) != nil else { return nil }
        guard RevocationProfile.locality(code: code, table: sandbox.table) != nil else { return nil }
        extra.insert(CRLPartitionKey(kind: kind, generation: generation, code: code))
        stale.insert([kind])
        try await bringUpToDate(now: now)
        return current[path]
    }
}

/// A set of roots shared between threads.
final class LockedKinds: @unchecked Sendable {
    private let lock = NSLock()
    private var kinds: Set<CertificateKind>
    init(_ kinds: Set<CertificateKind>) { self.kinds = kinds }
    func insert(_ more: Set<CertificateKind>) { lock.lock(); kinds.formUnion(more); lock.unlock() }
    func take() -> Set<CertificateKind> { lock.lock(); defer { kinds = []; lock.unlock() }; return kinds }
    var isEmpty: Bool { lock.lock(); defer { lock.unlock() }; return kinds.isEmpty }
}
