import Foundation
import JPKICA

/// Counters for `/metrics`, in the Prometheus text format (version 0.0.4).
public final class ServerMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [RequestKey: Int] = [:]
    private var responseStatuses: [String: Int] = [:]
    private var certificateStatuses: [String: Int] = [:]
    /// By OCSPResponseStatus raw value; good, revoked, certificateHold, unknown; fast-path 200s.
    private var responseCounts = [Int](repeating: 0, count: 8)
    private var responseNames = [String](repeating: "", count: 8)
    private var certificateCounts = [0, 0, 0, 0]
    private var fastPosts = 0, fastGets = 0, ceilingPosts = 0
    private var cacheHits = 0
    private var cacheMisses = 0
    private var connectionsOpen = 0
    private var connectionsAccepted = 0
    private var connectionsRefused = 0
    private var connectionTimeouts: [String: Int] = [:]
    let started = Date()

    struct RequestKey: Hashable { let route: String; let method: String; let status: Int }

    public init() {}

    func request(route: String, method: String, status: Int) {
        lock.lock(); requests[RequestKey(route: route, method: method, status: status), default: 0] += 1; lock.unlock()
    }

    /// An OCSP request answered 200 by the fast path: the request and the answer counted under one
    /// lock, in fixed counters (merged into `requests` and the statuses when rendered).
    func ocspAnswered(_ answer: OCSPAnswer, get: Bool) {
        lock.lock()
        if get { fastGets += 1 } else { fastPosts += 1 }
        countLocked(answer)
        lock.unlock()
    }

    /// `POST /benchmark/ceiling` answered (benchmarks only): counted as the fast path counts a request.
    func ceilingAnswered() {
        lock.lock(); ceilingPosts += 1; lock.unlock()
    }

    func ocsp(_ answer: OCSPAnswer) {
        lock.lock()
        countLocked(answer)
        lock.unlock()
    }

    private func countLocked(_ answer: OCSPAnswer) {
        let i = Int(answer.responseStatus.rawValue) & 7
        if responseCounts[i] == 0 { responseNames[i] = answer.responseStatus.name }
        responseCounts[i] += 1
        for status in answer.certificateStatuses {
            switch status {
            case "good": certificateCounts[0] += 1
            case "revoked": certificateCounts[1] += 1
            case "certificateHold": certificateCounts[2] += 1
            case "unknown": certificateCounts[3] += 1
            default: certificateStatuses[status, default: 0] += 1
            }
        }
        if answer.responseStatus == .successful {
            if answer.fromCache { cacheHits += 1 } else { cacheMisses += 1 }
        }
    }

    func connectionOpened(refused: Bool) {
        lock.lock(); connectionsOpen += 1; if refused { connectionsRefused += 1 } else { connectionsAccepted += 1 }; lock.unlock()
    }

    func connectionClosed() { lock.lock(); connectionsOpen -= 1; lock.unlock() }

    func connectionTimedOut(state: String) { lock.lock(); connectionTimeouts[state, default: 0] += 1; lock.unlock() }

    /// The exposition text: the counters, the OCSP cache and the age of every CRL served.
    func render(crls: [PublishedCRL], cache: RevocationService.CacheFigures, generations: Int, now: Date) -> String {
        lock.lock()
        var requests = self.requests, responses = responseStatuses, statuses = certificateStatuses
        for (i, count) in responseCounts.enumerated() where count > 0 { responses[responseNames[i], default: 0] += count }
        for (i, name) in ["good", "revoked", "certificateHold", "unknown"].enumerated() where certificateCounts[i] > 0 {
            statuses[name, default: 0] += certificateCounts[i]
        }
        if fastPosts > 0 { requests[RequestKey(route: "/ocsp", method: "POST", status: 200), default: 0] += fastPosts }
        if fastGets > 0 { requests[RequestKey(route: "/ocsp/{request}", method: "GET", status: 200), default: 0] += fastGets }
        if ceilingPosts > 0 { requests[RequestKey(route: RevocationServer.benchmarkCeilingPath, method: "POST", status: 200), default: 0] += ceilingPosts }
        let hits = cacheHits, misses = cacheMisses
        let open = connectionsOpen, accepted = connectionsAccepted, refused = connectionsRefused, timeouts = connectionTimeouts
        lock.unlock()
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) { out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" }
        func label(_ v: String) -> String { v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }

        family("jpki_http_requests_total", "counter", "HTTP requests by route, method and status.")
        for (k, v) in requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            out += "jpki_http_requests_total{route=\"\(label(k.route))\",method=\"\(k.method)\",status=\"\(k.status)\"} \(v)\n"
        }
        family("jpki_ocsp_responses_total", "counter", "OCSP responses by responseStatus (RFC 6960).")
        for (k, v) in responses.sorted(by: { $0.key < $1.key }) { out += "jpki_ocsp_responses_total{status=\"\(k)\"} \(v)\n" }
        family("jpki_ocsp_answers_total", "counter", "Certificate statuses answered: good, revoked, certificateHold, unknown.")
        for (k, v) in statuses.sorted(by: { $0.key < $1.key }) { out += "jpki_ocsp_answers_total{status=\"\(k)\"} \(v)\n" }
        family("jpki_ocsp_cache_total", "counter", "Successful OCSP answers served from the pre-signed cache (hit) or signed for the request (miss).")
        out += "jpki_ocsp_cache_total{result=\"hit\"} \(hits)\njpki_ocsp_cache_total{result=\"miss\"} \(misses)\n"
        family("jpki_ocsp_cached_answers", "gauge", "Pre-signed OCSP answers held, by tier (known certificates; answers saying unknown).")
        out += "jpki_ocsp_cached_answers{tier=\"known\"} \(cache.knownEntries)\njpki_ocsp_cached_answers{tier=\"unknown\"} \(cache.unknownEntries)\n"
        family("jpki_ocsp_cache_bytes", "gauge", "Bytes held by the OCSP answer cache, by tier.")
        out += "jpki_ocsp_cache_bytes{tier=\"known\"} \(cache.knownBytes)\njpki_ocsp_cache_bytes{tier=\"unknown\"} \(cache.unknownBytes)\n"
        family("jpki_ocsp_cache_budget_bytes", "gauge", "The byte budget of the known tier (serve --ocsp-cache-mb).")
        out += "jpki_ocsp_cache_budget_bytes \(cache.knownBudget)\n"
        family("jpki_ocsp_cache_evictions_total", "counter", "Answers evicted, least recently used first.")
        out += "jpki_ocsp_cache_evictions_total \(cache.evictions)\n"
        family("jpki_connections_open", "gauge", "HTTP connections open now.")
        out += "jpki_connections_open \(open)\n"
        family("jpki_connections_total", "counter", "HTTP connections, accepted or refused over the connection limit (serve --max-connections).")
        out += "jpki_connections_total{result=\"accepted\"} \(accepted)\njpki_connections_total{result=\"refused\"} \(refused)\n"
        family("jpki_connection_timeouts_total", "counter", "Connections closed by a timeout, by the state they were in: idle, request (body unfinished), write.")
        for state in ["idle", "request", "write"] { out += "jpki_connection_timeouts_total{state=\"\(state)\"} \(timeouts[state] ?? 0)\n" }
        family("jpki_crl_generations_total", "counter", "CRL generations since start.")
        out += "jpki_crl_generations_total \(generations)\n"
        family("jpki_crl_age_seconds", "gauge", "Seconds since thisUpdate of each CRL served (sandbox clock).")
        for crl in crls { out += "jpki_crl_age_seconds{\(Self.labels(crl))} \(Int(now.timeIntervalSince(crl.thisUpdate)))\n" }
        family("jpki_crl_next_update_seconds", "gauge", "Seconds until nextUpdate of each CRL served (sandbox clock).")
        for crl in crls { out += "jpki_crl_next_update_seconds{\(Self.labels(crl))} \(Int(crl.nextUpdate.timeIntervalSince(now)))\n" }
        family("jpki_crl_number", "gauge", "cRLNumber of each CRL served.")
        for crl in crls { out += "jpki_crl_number{\(Self.labels(crl))} \(crl.number)\n" }
        family("jpki_crl_entries", "gauge", "Revoked certificates listed in each CRL served.")
        for crl in crls { out += "jpki_crl_entries{\(Self.labels(crl))} \(crl.entries)\n" }
        family("jpki_uptime_seconds", "gauge", "Seconds since the server started.")
        out += "jpki_uptime_seconds \(Int(Date().timeIntervalSince(started)))\n"
        return out
    }

    static func labels(_ crl: PublishedCRL) -> String {
        // A root generation after the first adds its number (a one-generation sandbox's labels are unchanged).
        "kind=\"\(crl.kind.rawValue)\",scope=\"\(crl.municipalityCode ?? "full")\"" + (crl.generation > 1 ? ",generation=\"\(crl.generation)\"" : "")
    }
}
