import DERKit
import Foundation
import JPKIDomain
import JPKIStore
import Logging
import OpenSSLKit

/// An OCSP answer ready to send.
public struct OCSPAnswer: Sendable {
    public let der: [UInt8]
    public let responseStatus: OCSPResponseStatus
    /// `good`, `revoked`, `certificateHold`, `unknown` for each CertID of a successful answer.
    public let certificateStatuses: [String]
    /// For an answer without a nonce: its validity, for RFC 5019 caching headers.
    public let cacheable: Cacheable?
    /// Whether it came from the cache of pre-signed answers.
    public let fromCache: Bool

    public struct Cacheable: Sendable {
        public let thisUpdate: Date
        public let nextUpdate: Date
        public let etag: String
    }

    static func unsuccessful(_ status: OCSPResponseStatus) -> OCSPAnswer {
        OCSPAnswer(der: OCSPResponseEncoder.unsuccessful(status), responseStatus: status, certificateStatuses: [], cacheable: nil, fromCache: false)
    }
}

/// The revocation services behind `serve`: the OCSP responder (RFC 6960) with its cache of
/// pre-signed answers, and the current CRLs.
///
/// Freshness, by construction. The CLI (or the API, or this process) commits a change, then returns;
/// any answer or CRL served after that must reflect it. One mechanism serves every writer, in this
/// process or another: before every answer the service asks SQLite's `PRAGMA data_version` on a
/// connection of its own (a few microseconds, no lock), which changes whenever any other connection
/// has committed. When it differs from the version last *applied*, the request waits (one refresh at
/// a time) until the changes are applied: `status_log` (rows written by triggers in the same
/// transaction as every status change, see `Store.registerRevocationMigration`) is read after the
/// last row seen, the CRLs of the roots concerned are marked stale, and the cached answers and
/// statuses of those serials are dropped. Only then is the version recorded as applied, so a request
/// can never take "no change" for an answer while the change is still being applied. An answer
/// signed from statuses read before an invalidation is neither cached nor memoised (the generation
/// check). A CRL request that finds its root stale waits for the new generation.
///
/// The cache keeps what deserves it: answers about certificates this sandbox issued, least recently
/// used first out, within a byte budget. Answers that say `unknown` (junk serials, probes) go to a
/// small tier of their own, so a flood of distinct junk requests evicts only other junk.
public final class RevocationService: @unchecked Sendable {
    public let sandbox: Sandbox
    let probe: ChangeProbe
    var logger: Logger

    /// Cached answers are re-signed once this share of their validity has passed.
    static let refreshFraction = 0.5
    /// Default byte budget of the cache of answers about known certificates.
    public static let defaultCacheBytes = 64 << 20
    /// The tier of answers that say `unknown`: a few, for clients that repeat themselves.
    static let unknownTierBytes = 2 << 20
    static let unknownTierCount = 2048
    /// Memoised statuses (for answers with a nonce, which are signed live).
    static let statusMemoCount = 200_000
    /// RFC 8954 §2.1: a nonce longer than this is refused with malformedRequest.
    public static let maximumNonceLength = 128

    // Guarded by `lock`.
    let lock = NSLock()
    private var known: LRUCache<[UInt8], CachedAnswer>
    private var unknown = LRUCache<[UInt8], CachedAnswer>(maximumCost: unknownTierBytes, maximumCount: unknownTierCount)
    private var cacheBySerial: [String: Set<[UInt8]>] = [:]
    /// Who signs for each root generation (each generation answers for its own certificates).
    var identities: [RootGenerationKey: OCSPSigningIdentity] = [:]
    private var clockOffset: TimeInterval = 0
    /// The `data_version` whose changes have all been applied (see the type's comment).
    private var appliedDataVersion: Int64 = 0
    private var seenStatusSeq: Int64 = 0
    /// Statuses of known certificates read for answers, so that live-signed answers skip the database.
    private var statuses = LRUCache<String, RevocationStatusRecord>(maximumCost: statusMemoCount, maximumCount: statusMemoCount)
    /// Bumped at every invalidation: an answer built from statuses read before it is not cached,
    /// so a change that lands while an answer is being signed can never be hidden by it.
    private var generation: UInt64 = 0

    /// Serialises the appliers of changes (one refresh at a time; the others wait for it).
    private let refreshLock = NSLock()
    /// CertID issuer hashes → root generation, for SHA-1, SHA-256, SHA-384 and SHA-512. Every
    /// generation of a root has the same name hash; the key hash tells them apart.
    /// Replaced (under `lock`) when another process rolls a root over.
    private var issuers: [IssuerKey: RootGenerationKey]
    /// How many generations the service knows (all roots together), to notice a rollover.
    private var knownGenerations: Int
    public let crls: CRLPublisher

    struct IssuerKey: Hashable { let algorithm: String; let nameHash: [UInt8]; let keyHash: [UInt8] }
    struct RootGenerationKey: Hashable { let kind: CertificateKind; let generation: Int }

    struct CachedAnswer {
        let serials: [String]
        let thisUpdate: Int64
        let nextUpdate: Int64
        /// Whether it is still served (`thisUpdate <= now < refreshAt`).
        let refreshAt: Int64
        /// What a hit returns, built once.
        let hit: OCSPAnswer

        init(der: [UInt8], serials: [String], statuses: [String], thisUpdate: Int64, nextUpdate: Int64, etag: String) {
            self.serials = serials; self.thisUpdate = thisUpdate; self.nextUpdate = nextUpdate
            // The same test as before, in integers: now - thisUpdate < (nextUpdate - thisUpdate) * refreshFraction.
            let span = Double(nextUpdate - thisUpdate) * RevocationService.refreshFraction
            refreshAt = thisUpdate + Int64(span.rounded(.up))
            hit = OCSPAnswer(der: der, responseStatus: .successful, certificateStatuses: statuses,
                             cacheable: .init(thisUpdate: Date(timeIntervalSince1970: TimeInterval(thisUpdate)),
                                              nextUpdate: Date(timeIntervalSince1970: TimeInterval(nextUpdate)), etag: etag),
                             fromCache: true)
        }

        var der: [UInt8] { hit.der }
        var etag: String { hit.cacheable?.etag ?? "" }

        /// Roughly what the entry holds in memory, key included (for the byte budget).
        func cost(keyBytes: Int) -> Int { der.count + keyBytes + etag.utf8.count + serials.count * 96 + 256 }
    }

    public init(sandbox: Sandbox, logger: Logger, cacheBytes: Int = RevocationService.defaultCacheBytes) throws {
        self.sandbox = sandbox
        self.logger = logger
        known = LRUCache(maximumCost: max(1 << 16, cacheBytes), maximumCount: max(16, cacheBytes / 512))
        probe = try sandbox.store.changeProbe()
        self.issuers = try Self.issuerKeys(sandbox)
        knownGenerations = sandbox.allRoots.count
        crls = CRLPublisher(sandbox: sandbox, logger: logger)
        // The version before the reads below: anything committed after it is applied by the first refresh.
        appliedDataVersion = try probe.dataVersion()
        let (seq, offset) = try sandbox.store.read { tx in
            (try tx.lastStatusChange(), try tx.meta(Sandbox.clockOffsetKey).flatMap(Double.init) ?? 0)
        }
        seenStatusSeq = seq
        clockOffset = offset
        identities = try Self.signingIdentities(sandbox)
    }

    /// The signer of every generation. The current generation's must exist (a failure stops `serve`);
    /// an older generation that cannot get one (say, a delegated responder past its root's end) is
    /// left out, and requests about its certificates get internalError.
    static func signingIdentities(_ sandbox: Sandbox) throws -> [RootGenerationKey: OCSPSigningIdentity] {
        var identities: [RootGenerationKey: OCSPSigningIdentity] = [:]
        for kind in CertificateKind.allCases {
            let current = sandbox.root(kind).generation
            for root in sandbox.rootGenerations[kind] ?? [] {
                let key = RootGenerationKey(kind: kind, generation: root.generation)
                if root.generation == current {
                    identities[key] = try sandbox.ocspSigningIdentity(kind, generation: root.generation)
                } else {
                    identities[key] = try? sandbox.ocspSigningIdentity(kind, generation: root.generation)
                }
            }
        }
        return identities
    }

    /// CertID issuer hashes of every root generation.
    static func issuerKeys(_ sandbox: Sandbox) throws -> [IssuerKey: RootGenerationKey] {
        var issuers: [IssuerKey: RootGenerationKey] = [:]
        for generation in sandbox.allRoots {
            let root = generation.certificate
            let name = root.subjectDER
            let info = try DERReader.single(try root.publicKeyDER()).children()
            let key = Array(info[1].contents.dropFirst())
            for (oid, hash) in Self.hashes {
                issuers[IssuerKey(algorithm: oid, nameHash: hash(name), keyHash: hash(key))] = RootGenerationKey(kind: generation.kind, generation: generation.generation)
            }
        }
        return issuers
    }

    /// A root rolled over by another process (`ca rollover` while `serve` runs): the generations
    /// are read again, the issuers and signers rebuilt, and everything dropped and regenerated.
    func adoptRootGenerations() throws {
        guard try sandbox.reloadRoots() else { return }
        let issuers = try Self.issuerKeys(sandbox)
        let identities = try Self.signingIdentities(sandbox)
        lock.lock()
        self.issuers = issuers
        self.identities = identities
        knownGenerations = sandbox.allRoots.count
        lock.unlock()
        logger.info("root generations changed: now answering for them", metadata: ["generations": "\(sandbox.allRoots.count)"])
        invalidateAll()
    }

    static let hashes: [(String, @Sendable ([UInt8]) -> [UInt8])] = [
        ("1.3.14.3.2.26", Crypto.sha1), ("2.16.840.1.101.3.4.2.1", Crypto.sha256),
        ("2.16.840.1.101.3.4.2.2", Crypto.sha384), ("2.16.840.1.101.3.4.2.3", Crypto.sha512),
    ]

    /// The sandbox clock as the server keeps it: real time plus the persisted offset (re-read when
    /// the database changes), or the fixed `--at`.
    public func now() -> Date {
        if let fixed = sandbox.clockOverride { return fixed }
        lock.lock(); let offset = clockOffset; lock.unlock()
        return Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + offset).rounded(.down))
    }

    /// `now()` in whole seconds, from a reading of the real clock (caller holds `lock`).
    @inline(__always)
    private func nowLocked(_ wall: TimeInterval) -> Int64 {
        if let fixed = sandbox.clockOverride { return Int64(fixed.timeIntervalSince1970) }
        return Int64((wall + clockOffset).rounded(.down))
    }

    /// What the cache holds now, for `/metrics` and the tests.
    public struct CacheFigures: Sendable {
        public let knownEntries: Int
        public let knownBytes: Int
        public let knownBudget: Int
        public let unknownEntries: Int
        public let unknownBytes: Int
        public let evictions: Int
    }

    public var cacheFigures: CacheFigures {
        lock.lock(); defer { lock.unlock() }
        return CacheFigures(knownEntries: known.count, knownBytes: known.totalCost, knownBudget: known.maximumCost,
                            unknownEntries: unknown.count, unknownBytes: unknown.totalCost, evictions: known.evictions + unknown.evictions)
    }

    public var cachedAnswers: Int { lock.lock(); defer { lock.unlock() }; return known.count + unknown.count }

    // MARK: Changes

    /// Applies whatever was committed since the last call, and returns only once it is applied (see
    /// the type's comment).
    public func refresh() {
        let version: Int64
        do { version = try probe.dataVersion() } catch {
            logger.error("could not ask the database for changes; dropping the OCSP cache", metadata: ["error": "\(error)"])
            invalidateAll()
            return
        }
        lock.lock(); let applied = appliedDataVersion; lock.unlock()
        guard version != applied else { return }
        refreshLock.lock(); defer { refreshLock.unlock() }
        do {
            // Read again under the lock: the applier before us may have covered it. Read before
            // status_log, so that a commit after this read changes the version again.
            let current = try probe.dataVersion()
            lock.lock(); let appliedNow = appliedDataVersion; let since = seenStatusSeq; lock.unlock()
            guard current != appliedNow else { return }
            let (changes, offset, generations) = try sandbox.store.read { tx in
                (try tx.statusChanges(after: since, limit: 1_000_000), try tx.meta(Sandbox.clockOffsetKey).flatMap(Double.init) ?? 0,
                 try tx.rootGenerationCount())
            }
            lock.lock(); let known = knownGenerations; lock.unlock()
            if generations + CertificateKind.allCases.count != known { try adoptRootGenerations() }
            lock.lock()
            let clockMoved = offset != clockOffset
            clockOffset = offset
            lock.unlock()
            if clockMoved {
                logger.info("sandbox clock changed: dropping cached OCSP answers, regenerating CRLs", metadata: ["offset": "\(offset)"])
                var fresh: [RootGenerationKey: OCSPSigningIdentity] = [:]
                for root in sandbox.allRoots {
                    fresh[RootGenerationKey(kind: root.kind, generation: root.generation)] = try? sandbox.ocspSigningIdentity(root.kind, generation: root.generation)
                }
                lock.lock(); for (key, identity) in fresh { identities[key] = identity }; lock.unlock()
                invalidateAll()
            }
            if !changes.isEmpty {
                logger.debug("status changes", metadata: ["count": "\(changes.count)"])
                invalidate(serials: changes.map(\.serial), kinds: Set(changes.map(\.kind)))
            }
            lock.lock()
            if let last = changes.last { seenStatusSeq = max(seenStatusSeq, last.seq) }
            appliedDataVersion = current
            lock.unlock()
        } catch {
            logger.error("could not read status changes; dropping the OCSP cache", metadata: ["error": "\(error)"])
            invalidateAll()
        }
    }

    /// Marks the CRLs of `kinds` stale and drops the cached answers and statuses of these serials
    /// (they are signed again when next asked, on the thread that asks).
    func invalidate(serials: [String], kinds: Set<CertificateKind>) {
        crls.markStale(kinds)
        lock.lock()
        generation &+= 1
        for serial in serials {
            statuses.remove(serial)
            for key in cacheBySerial.removeValue(forKey: serial) ?? [] { removeLocked(key) }
        }
        lock.unlock()
    }

    /// Everything dropped and every CRL stale (the clock moved, or the database could not be asked).
    func invalidateAll() {
        crls.markStale(Set(CertificateKind.allCases))
        lock.lock()
        generation &+= 1
        known.removeAll(); unknown.removeAll(); cacheBySerial.removeAll(); statuses.removeAll()
        lock.unlock()
    }

    private func removeLocked(_ key: [UInt8]) {
        guard let entry = known.remove(key) ?? unknown.remove(key) else { return }
        unindexLocked(key, entry)
    }

    private func unindexLocked(_ key: [UInt8], _ entry: CachedAnswer) {
        for serial in entry.serials {
            cacheBySerial[serial]?.remove(key)
            if cacheBySerial[serial]?.isEmpty == true { cacheBySerial[serial] = nil }
        }
    }

    /// A fresh cached answer for these request bytes (caller holds `lock`).
    private func freshEntryLocked(_ key: [UInt8], now: Int64) -> CachedAnswer? {
        guard let hit = known.get(key) ?? unknown.get(key) else { return nil }
        guard now >= hit.thisUpdate, now < hit.refreshAt else { return nil }
        return hit
    }

    // MARK: OCSP

    /// The answer to a DER OCSPRequest (RFC 6960 §4.2).
    /// `refreshed`: the caller has just applied the committed changes (`cachedAnswer` did, on a miss).
    public func answer(requestDER: [UInt8], refreshed: Bool = false) -> OCSPAnswer {
        // A request without a nonce is the same bytes every time: its answer is looked up by them,
        // without parsing. The common case takes one lock: the version asked now is the one last
        // applied (what `refresh` checks first), and the cache holds a fresh answer.
        let version: Int64? = refreshed ? nil : try? probe.dataVersion()
        let wall = Date().timeIntervalSince1970
        lock.lock()
        let upToDate = refreshed || (version != nil && version == appliedDataVersion)
        var now = nowLocked(wall)
        var hit = upToDate ? freshEntryLocked(requestDER, now: now) : nil
        lock.unlock()
        if let hit { return hit.hit }
        if !upToDate {
            // Something was committed since (or the database could not be asked): applied first.
            refresh()
            let wall = Date().timeIntervalSince1970
            lock.lock()
            now = nowLocked(wall)
            hit = freshEntryLocked(requestDER, now: now)
            lock.unlock()
            if let hit { return hit.hit }
        }

        let request: OCSPRequest
        do { request = try OCSPRequest(der: requestDER) } catch { return .unsuccessful(.malformedRequest) }
        if let nonce = request.nonce, nonce.isEmpty || nonce.count > Self.maximumNonceLength {
            return .unsuccessful(.malformedRequest)
        }
        var kinds: [RootGenerationKey] = []
        lock.lock(); let issuers = self.issuers; lock.unlock()
        for id in request.certIDs {
            guard let kind = issuers[IssuerKey(algorithm: id.hashAlgorithm, nameHash: id.issuerNameHash, keyHash: id.issuerKeyHash)] else {
                return .unsuccessful(.unauthorized)
            }
            kinds.append(kind)
        }
        // One answer has one signer, the first CertID's issuer (as before generations existed).
        let serialsAsked = request.certIDs.map { $0.serialNumber?.hexString ?? "" }
        lock.lock()
        let identity = identities[kinds[0]]
        let startGeneration = generation
        var records: [RevocationStatusRecord??] = serialsAsked.map { serial in statuses.get(serial).map { .some($0) } }
        lock.unlock()
        guard let identity else { return .unsuccessful(.internalError) }

        let validity = Int64(sandbox.config.effectiveOCSPValidityMinutes) * 60
        var singles: [OCSPSingleResponse] = []
        var serials: [String] = []
        var labels: [String] = []
        do {
            if records.contains(where: { $0 == nil }) {
                let read = try sandbox.store.read { tx in
                    try serialsAsked.map { serial in serial.isEmpty ? nil : try tx.revocationStatus(serial: serial) }
                }
                lock.lock()
                if generation == startGeneration {
                    for (serial, record) in zip(serialsAsked, read) { if let record { statuses.set(serial, record, cost: 1) } }
                }
                lock.unlock()
                records = read.map { .some($0) }
            }
            for (index, id) in request.certIDs.enumerated() {
                let serial = serialsAsked[index]
                let (status, label) = Self.status(records[index] ?? nil, kind: kinds[index].kind, generation: kinds[index].generation,
                                                  serial: serial, responder: identity.responderCertificate)
                singles.append(OCSPSingleResponse(certIDDER: id.der, status: status, thisUpdate: now, nextUpdate: now + validity))
                serials.append(serial)
                labels.append(label)
            }
            let der = try OCSPResponseEncoder.successful(signer: identity.signer, producedAt: now, responses: singles,
                                                         nonceExtensionValue: request.nonceExtensionValue)
            if request.nonceExtensionValue != nil {
                return OCSPAnswer(der: der, responseStatus: .successful, certificateStatuses: labels, cacheable: nil, fromCache: false)
            }
            let entry = CachedAnswer(der: der, serials: serials, statuses: labels, thisUpdate: now, nextUpdate: now + validity,
                                     etag: "\"" + Array(Crypto.sha256(der).prefix(16)).hexString.lowercased() + "\"")
            lock.lock()
            if generation == startGeneration {
                removeLocked(requestDER)
                let cost = entry.cost(keyBytes: requestDER.count)
                let evicted = labels.contains("unknown") ? unknown.set(requestDER, entry, cost: cost) : known.set(requestDER, entry, cost: cost)
                for (key, old) in evicted where key != requestDER { unindexLocked(key, old) }
                if evicted.first(where: { $0.0 == requestDER }) == nil {
                    for serial in serials { cacheBySerial[serial, default: []].insert(requestDER) }
                }
            }
            lock.unlock()
            return entry.answer(fromCache: false)
        } catch {
            logger.error("OCSP answer failed", metadata: ["error": "\(error)"])
            return .unsuccessful(.internalError)
        }
    }

    /// The status of one certificate (content decision: hold is `revoked` with certificateHold).
    static func status(_ record: RevocationStatusRecord?, kind: CertificateKind, generation: Int, serial: String,
                       responder: Certificate?) -> (OCSPCertStatus, String) {
        // A certificate of another generation of the same root is not this issuer's: unknown.
        guard let record, record.kind == kind, record.generation == generation else {
            if let responder, responder.serialHex == serial { return (.good, "good") }
            return (.unknown, "unknown")
        }
        switch record.state {
        case .issued: return (.good, "good")
        case .revoked:
            return (.revoked(time: record.revokedAt ?? 0, reason: RevocationProfile.ocspReasonCode(record.reason)), "revoked")
        case .hold:
            return (.revoked(time: record.revokedAt ?? 0, reason: RevocationReason.certificateHold.code), "certificateHold")
        }
    }
}

extension RevocationService.CachedAnswer {
    func answer(fromCache: Bool) -> OCSPAnswer {
        fromCache ? hit : OCSPAnswer(der: hit.der, responseStatus: .successful, certificateStatuses: hit.certificateStatuses,
                                     cacheable: hit.cacheable, fromCache: false)
    }
}

extension RevocationService {
    /// The delegated responder certificate of `kind`, when the configuration uses one.
    public func responderCertificate(_ kind: CertificateKind, generation: Int? = nil) -> Certificate? {
        let key = RootGenerationKey(kind: kind, generation: generation ?? sandbox.root(kind).generation)
        lock.lock(); defer { lock.unlock() }
        return identities[key]?.responderCertificate
    }

    /// Whether the database answers (for `/healthz`).
    public var isHealthy: Bool { (try? probe.dataVersion()) != nil }
}

extension RevocationService {
    /// The pre-signed answer to these request bytes, if the cache holds a fresh one (after applying
    /// changes committed elsewhere); nil when answering needs parsing, a lookup or a signature.
    /// Cheap enough to call on a network thread.
    public func cachedAnswer(requestDER: [UInt8]) -> OCSPAnswer? {
        refresh()
        let now = Int64(now().timeIntervalSince1970)
        lock.lock()
        defer { lock.unlock() }
        return freshEntryLocked(requestDER, now: now)?.hit
    }
}
