import Foundation
import JPKICA

/// Counters for `/metrics`, in the Prometheus text format (version 0.0.4).
public final class ServerMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [RequestKey: Int] = [:]
    private var responseStatuses: [String: Int] = [:]
    private var certificateStatuses: [String: Int] = [:]
    private var cacheHits = 0
    private var cacheMisses = 0
    let started = Date()

    struct RequestKey: Hashable { let route: String; let method: String; let status: Int }

    public init() {}

    func request(route: String, method: String, status: Int) {
        lock.lock(); requests[RequestKey(route: route, method: method, status: status), default: 0] += 1; lock.unlock()
    }

    func ocsp(_ answer: OCSPAnswer) {
        lock.lock()
        responseStatuses[answer.responseStatus.name, default: 0] += 1
        for status in answer.certificateStatuses { certificateStatuses[status, default: 0] += 1 }
        if answer.responseStatus == .successful {
            if answer.fromCache { cacheHits += 1 } else { cacheMisses += 1 }
        }
        lock.unlock()
    }

    /// The exposition text: the counters, the OCSP cache and the age of every CRL served.
    func render(crls: [PublishedCRL], cachedAnswers: Int, generations: Int, now: Date) -> String {
        lock.lock()
        let requests = self.requests, responses = responseStatuses, statuses = certificateStatuses
        let hits = cacheHits, misses = cacheMisses
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
        family("jpki_ocsp_cached_answers", "gauge", "Pre-signed OCSP answers held.")
        out += "jpki_ocsp_cached_answers \(cachedAnswers)\n"
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
        "kind=\"\(crl.kind.rawValue)\",scope=\"\(crl.municipalityCode ?? "full")\""
    }
}
