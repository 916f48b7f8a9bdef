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
/// Freshness. The CLI revokes in another process while the server runs, and a revocation must show
/// in OCSP before the command that made it returns. Before every answer the service asks SQLite's
/// `PRAGMA data_version` on a connection of its own (a few microseconds, no lock): it changes whenever
/// any other connection has committed. Only then does it read `status_log` (rows written by triggers
/// in the same transaction as every status change, see `Store.registerRevocationMigration`) after
/// the last row it saw, and re-signs exactly the cached answers of those serials before answering.
/// The command's commit precedes its exit, so any request sent after it returns sees the change.
/// In-process changes (the demo, tests) also arrive through `Sandbox.statusListeners`.
/// The same check marks the CRLs of the roots concerned stale: the maintenance loop regenerates them
/// within a second (coalescing a burst into one generation), and a CRL request that finds them stale
/// waits for the new ones rather than serving the old.
public final class RevocationService: @unchecked Sendable {
    public let sandbox: Sandbox
    let probe: ChangeProbe
    var logger: Logger

    /// Cached answers are re-signed once this share of their validity has passed.
    static let refreshFraction = 0.5
    /// Upper bound of the cache; past it the cache starts again empty (it refills on demand).
    static let cacheLimit = 100_000
    /// Above this many changed cached answers at once they are dropped (re-signed on demand) rather
    /// than re-signed before answering.
    static let resignLimit = 64
    /// RFC 8954 §2.1: a nonce longer than this is refused with malformedRequest.
    public static let maximumNonceLength = 128

    // Guarded by `lock`.
    let lock = NSLock()
    private var cache: [[UInt8]: CachedAnswer] = [:]
    private var cacheBySerial: [String: Set<[UInt8]>] = [:]
    var identities: [CertificateKind: OCSPSigningIdentity] = [:]
    private var clockOffset: TimeInterval = 0
    private var seenDataVersion: Int64 = 0
    private var seenStatusSeq: Int64 = 0
    /// Statuses read for answers, so that live-signed answers (with a nonce) skip the database.
    private var statuses: [String: RevocationStatusRecord?] = [:]
    /// Bumped at every invalidation: an answer built from statuses read before it is not cached,
    /// so a change that lands while an answer is being signed can never be hidden by it.
    private var generation: UInt64 = 0

    /// Serialises the readers of `status_log` (one refresh at a time).
    private let refreshLock = NSLock()
    /// CertID issuer hashes → root, for SHA-1, SHA-256, SHA-384 and SHA-512.
    private let issuers: [IssuerKey: CertificateKind]
    public let crls: CRLPublisher

    struct IssuerKey: Hashable { let algorithm: String; let nameHash: [UInt8]; let keyHash: [UInt8] }

    struct CachedAnswer {
        let der: [UInt8]
        let serials: [String]
        let statuses: [String]
        let thisUpdate: Int64
        let nextUpdate: Int64
        let etag: String
    }

    public init(sandbox: Sandbox, logger: Logger) throws {
        self.sandbox = sandbox
        self.logger = logger
        probe = try sandbox.store.changeProbe()
        var issuers: [IssuerKey: CertificateKind] = [:]
        for kind in CertificateKind.allCases {
            let root = sandbox.root(kind).certificate
            let name = root.subjectDER
            let info = try DERReader.single(try root.publicKeyDER()).children()
            let key = Array(info[1].contents.dropFirst())
            for (oid, hash) in Self.hashes {
                issuers[IssuerKey(algorithm: oid, nameHash: hash(name), keyHash: hash(key))] = kind
            }
        }
        self.issuers = issuers
        crls = CRLPublisher(sandbox: sandbox, logger: logger)
        seenDataVersion = try probe.dataVersion()
        let (seq, offset) = try sandbox.store.read { tx in
            (try tx.lastStatusChange(), try tx.meta(Sandbox.clockOffsetKey).flatMap(Double.init) ?? 0)
        }
        seenStatusSeq = seq
        clockOffset = offset
        for kind in CertificateKind.allCases { identities[kind] = try sandbox.ocspSigningIdentity(kind) }
        sandbox.statusListeners.add { [weak self] serials in self?.statusChanged(serials: serials, kinds: nil) }
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

    public var cachedAnswers: Int { lock.lock(); defer { lock.unlock() }; return cache.count }

    // MARK: Changes

    /// Applies whatever other connections committed since the last call (see the type's comment).
    public func refresh() {
        guard let version = try? probe.dataVersion() else { return }
        lock.lock(); let seen = seenDataVersion; lock.unlock()
        guard version != seen else { return }
        refreshLock.lock(); defer { refreshLock.unlock() }
        lock.lock()
        if version == seenDataVersion { lock.unlock(); return }
        // Taken before reading: a commit after this read bumps the version again and is seen next time.
        seenDataVersion = version
        let since = seenStatusSeq
        lock.unlock()
        do {
            let (changes, offset) = try sandbox.store.read { tx in
                (try tx.statusChanges(after: since, limit: 1_000_000), try tx.meta(Sandbox.clockOffsetKey).flatMap(Double.init) ?? 0)
            }
            lock.lock()
            if let last = changes.last { seenStatusSeq = max(seenStatusSeq, last.seq) }
            let clockMoved = offset != clockOffset
            clockOffset = offset
            lock.unlock()
            if clockMoved {
                logger.info("sandbox clock changed: dropping cached OCSP answers, regenerating CRLs", metadata: ["offset": "\(offset)"])
                clearCache()
                for kind in CertificateKind.allCases {
                    if let identity = try? sandbox.ocspSigningIdentity(kind) { lock.lock(); identities[kind] = identity; lock.unlock() }
                }
                crls.markStale(Set(CertificateKind.allCases))
            }
            if !changes.isEmpty {
                logger.debug("status changes", metadata: ["count": "\(changes.count)"])
                statusChanged(serials: changes.map(\.serial), kinds: Set(changes.map(\.kind)))
            }
        } catch {
            logger.error("could not read status changes; dropping the OCSP cache", metadata: ["error": "\(error)"])
            clearCache()
            crls.markStale(Set(CertificateKind.allCases))
        }
    }

    /// Replaces the cached answers that mention these serials: re-signed at once when there are few,
    /// dropped otherwise (and re-signed when next asked). Marks the CRLs of `kinds` stale.
    func statusChanged(serials: [String], kinds: Set<CertificateKind>?) {
        lock.lock()
        generation &+= 1
        for serial in serials { statuses[serial] = nil }
        var keys: Set<[UInt8]> = []
        for serial in serials { if let k = cacheBySerial[serial] { keys.formUnion(k) } }
        var removed: [[UInt8]] = []
        if keys.count > Self.resignLimit {
            for key in keys { removeLocked(key) }
        } else {
            for key in keys where cache[key] != nil { removeLocked(key); removed.append(key) }
        }
        lock.unlock()
        for key in removed { _ = answer(requestDER: key, checkChanges: false) }
        if let kinds {
            crls.markStale(kinds)
        } else {
            // From a listener: the kinds are those of the serials.
            let found = (try? sandbox.store.read { tx in try serials.compactMap { try tx.revocationStatus(serial: $0)?.kind } }) ?? CertificateKind.allCases
            crls.markStale(Set(found))
        }
    }

    /// The cache entry for a request (caller holds `lock`).
    func cachedEntry(_ key: [UInt8]) -> CachedAnswer? { cache[key] }

    private func removeLocked(_ key: [UInt8]) {
        guard let entry = cache.removeValue(forKey: key) else { return }
        for serial in entry.serials {
            cacheBySerial[serial]?.remove(key)
            if cacheBySerial[serial]?.isEmpty == true { cacheBySerial[serial] = nil }
        }
    }

    func clearCache() {
        lock.lock(); generation &+= 1; cache.removeAll(); cacheBySerial.removeAll(); statuses.removeAll(); lock.unlock()
    }

    // MARK: OCSP

    /// The answer to a DER OCSPRequest (RFC 6960 §4.2).
    public func answer(requestDER: [UInt8]) -> OCSPAnswer {
        answer(requestDER: requestDER, checkChanges: true)
    }

    func answer(requestDER: [UInt8], checkChanges: Bool) -> OCSPAnswer {
        if checkChanges { refresh() }
        let now = Int64(now().timeIntervalSince1970)
        // A request without a nonce is the same bytes every time: its answer is looked up by them,
        // without parsing.
        lock.lock()
        if let hit = cache[requestDER] {
            let fresh = Double(now - hit.thisUpdate) < Double(hit.nextUpdate - hit.thisUpdate) * Self.refreshFraction && now >= hit.thisUpdate
            lock.unlock()
            if fresh { return hit.answer(fromCache: true) }
        } else {
            lock.unlock()
        }

        let request: OCSPRequest
        do { request = try OCSPRequest(der: requestDER) } catch { return .unsuccessful(.malformedRequest) }
        if let nonce = request.nonce, nonce.isEmpty || nonce.count > Self.maximumNonceLength {
            return .unsuccessful(.malformedRequest)
        }
        var kinds: [CertificateKind] = []
        for id in request.certIDs {
            guard let kind = issuers[IssuerKey(algorithm: id.hashAlgorithm, nameHash: id.issuerNameHash, keyHash: id.issuerKeyHash)] else {
                return .unsuccessful(.unauthorized)
            }
            kinds.append(kind)
        }
        let serialsAsked = request.certIDs.map { $0.serialNumber?.hexString ?? "" }
        lock.lock()
        let identity = identities[kinds[0]]
        let startGeneration = generation
        var records = serialsAsked.map { statuses[$0] }
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
                    if statuses.count >= Self.cacheLimit { statuses.removeAll() }
                    for (serial, record) in zip(serialsAsked, read) where !serial.isEmpty { statuses[serial] = .some(record) }
                }
                lock.unlock()
                records = read.map { .some($0) }
            }
            for (index, id) in request.certIDs.enumerated() {
                let serial = id.serialNumber?.hexString ?? ""
                let (status, label) = Self.status(records[index] ?? nil, kind: kinds[index], serial: serial, responder: identity.responderCertificate)
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
                if cache.count >= Self.cacheLimit { cache.removeAll(); cacheBySerial.removeAll() }
                removeLocked(requestDER)
                cache[requestDER] = entry
                for serial in serials { cacheBySerial[serial, default: []].insert(requestDER) }
            }
            lock.unlock()
            return entry.answer(fromCache: false)
        } catch {
            logger.error("OCSP answer failed", metadata: ["error": "\(error)"])
            return .unsuccessful(.internalError)
        }
    }

    /// The status of one certificate (content decision: hold is `revoked` with certificateHold).
    static func status(_ record: RevocationStatusRecord?, kind: CertificateKind, serial: String,
                       responder: Certificate?) -> (OCSPCertStatus, String) {
        guard let record, record.kind == kind else {
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
        OCSPAnswer(der: der, responseStatus: .successful, certificateStatuses: statuses,
                   cacheable: .init(thisUpdate: Date(timeIntervalSince1970: TimeInterval(thisUpdate)),
                                    nextUpdate: Date(timeIntervalSince1970: TimeInterval(nextUpdate)), etag: etag),
                   fromCache: fromCache)
    }
}

extension RevocationService {
    /// The delegated responder certificate of `kind`, when the configuration uses one.
    public func responderCertificate(_ kind: CertificateKind) -> Certificate? {
        lock.lock(); defer { lock.unlock() }
        return identities[kind]?.responderCertificate
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
        guard let hit = cachedEntry(requestDER),
              now >= hit.thisUpdate, Double(now - hit.thisUpdate) < Double(hit.nextUpdate - hit.thisUpdate) * Self.refreshFraction else { return nil }
        return hit.answer(fromCache: true)
    }
}
