internal import COpenSSL
internal import CJPKIShims
import Foundation

/// A relying party's side of revocation checking: ask an OCSP responder (RFC 6960) or fetch a CRL
/// over HTTP, and check the answer's signature against the issuer. Used by `verify`.
public enum RevocationClient {
    public enum Status: Sendable, Equatable {
        case good
        /// Revoked at a time, with the CRLReason code (6 = certificateHold).
        case revoked(Date, reason: Int?)
        /// The responder does not know the certificate.
        case unknown
    }

    public struct ClientError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// `http://host[:port]/path` → ("host:port", "/path").
    static func split(_ url: String) throws(ClientError) -> (String, String) {
        guard url.hasPrefix("http://") else { throw ClientError(description: "only http:// URLs are supported (\(url))") }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let host = String(rest[..<slash])
        guard !host.isEmpty else { throw ClientError(description: "no host in \(url)") }
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        return (host.contains(":") ? host : host + ":80", path)
    }

    /// Asks the responder at `url` about `certificate` (CertID hashed with SHA-1, with a nonce), and
    /// checks that the response is signed by `issuer` or a responder it delegated to.
    /// The answer must be fresh at `now` (thisUpdate ≤ now ≤ nextUpdate, five minutes' leeway): pass the
    /// clock the responder runs on (the sandbox clock), not necessarily this machine's.
    public static func ocsp(url: String, certificate: Certificate, issuer: Certificate, now: Date = Date()) throws(ClientError) -> Status {
        let (host, path) = try split(url)
        guard let request = OCSP_REQUEST_new() else { throw ClientError(description: "OCSP_REQUEST_new failed") }
        defer { OCSP_REQUEST_free(request) }
        guard let id = OCSP_cert_to_id(EVP_sha1(), certificate.pointer, issuer.pointer) else { throw ClientError(description: "OCSP_cert_to_id failed") }
        // The request owns `id` once added; keep a copy to look the answer up.
        guard let lookup = OCSP_CERTID_dup(id), OCSP_request_add0_id(request, id) != nil else {
            throw ClientError(description: "cannot build the OCSP request")
        }
        defer { OCSP_CERTID_free(lookup) }
        OCSP_request_add1_nonce(request, nil, -1)

        guard let bio = BIO_new_connect(host) else { throw ClientError(description: "cannot connect to \(host)") }
        defer { BIO_free_all(bio) }
        guard let response = OCSP_sendreq_bio(bio, path, request) else {
            throw ClientError(description: "no OCSP answer from \(url): \(OpenSSLError("OCSP_sendreq_bio").description)")
        }
        defer { OCSP_RESPONSE_free(response) }
        let status = OCSP_response_status(response)
        guard status == OCSP_RESPONSE_STATUS_SUCCESSFUL else {
            throw ClientError(description: "the OCSP responder answered \(String(cString: OCSP_response_status_str(Int(status))))")
        }
        guard let basic = OCSP_response_get1_basic(response) else { throw ClientError(description: "the OCSP response has no basic response") }
        defer { OCSP_BASICRESP_free(basic) }
        guard OCSP_check_nonce(request, basic) > 0 else { throw ClientError(description: "the OCSP response does not echo our nonce") }
        guard let store = X509_STORE_new() else { throw ClientError(description: "X509_STORE_new failed") }
        defer { X509_STORE_free(store) }
        X509_STORE_add_cert(store, issuer.pointer)
        // A root-signed response need not carry the root: offer the issuer as a candidate signer
        // (as `openssl ocsp -issuer` does); a delegated responder's certificate comes in the response.
        guard let candidates = jpki_sk_X509_new_null() else { throw ClientError(description: "sk_X509_new_null failed") }
        defer { jpki_sk_X509_free(candidates) }
        _ = jpki_sk_X509_push(candidates, issuer.pointer)
        guard OCSP_basic_verify(basic, candidates, store, 0) == 1 else {
            throw ClientError(description: "the OCSP response's signature does not verify: \(OpenSSLError("OCSP_basic_verify").description)")
        }
        var certStatus: Int32 = -1, reason: Int32 = -1
        var revoked: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?
        var thisUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?
        var nextUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?
        guard OCSP_resp_find_status(basic, lookup, &certStatus, &reason, &revoked, &thisUpdate, &nextUpdate) == 1 else {
            throw ClientError(description: "the OCSP response does not answer for this certificate")
        }
        try checkFreshness(thisUpdate: thisUpdate.map { Certificate.date(UnsafePointer($0)) },
                           nextUpdate: nextUpdate.map { Certificate.date(UnsafePointer($0)) }, now: now, what: "OCSP response")
        switch certStatus {
        case V_OCSP_CERTSTATUS_GOOD: return .good
        case V_OCSP_CERTSTATUS_REVOKED: return .revoked(Certificate.date(UnsafePointer(revoked)), reason: reason >= 0 ? Int(reason) : nil)
        default: return .unknown
        }
    }

    /// Fetches the CRL at `url`, checks it is signed by `issuer`, and looks `certificate` up in it.
    public static func crl(url: String, certificate: Certificate, issuer: Certificate, now: Date = Date()) throws(ClientError) -> Status {
        _ = try split(url)
        guard let crl = X509_CRL_load_http(url, nil, nil, 10) else {
            throw ClientError(description: "cannot fetch the CRL at \(url): \(OpenSSLError("X509_CRL_load_http").description)")
        }
        defer { X509_CRL_free(crl) }
        guard let key = X509_get0_pubkey(issuer.pointer), X509_CRL_verify(crl, key) == 1 else {
            ERR_clear_error()
            throw ClientError(description: "the CRL at \(url) is not signed by the issuer")
        }
        try checkFreshness(thisUpdate: Certificate.date(X509_CRL_get0_lastUpdate(crl)),
                           nextUpdate: X509_CRL_get0_nextUpdate(crl).map { Certificate.date($0) }, now: now, what: "CRL")
        var entry: OpaquePointer?
        let found = X509_CRL_get0_by_serial(crl, &entry, X509_get0_serialNumber(certificate.pointer))
        guard found == 1, let entry else { return .good }
        let date = Certificate.date(X509_REVOKED_get0_revocationDate(entry))
        var reason: Int?
        if let raw = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nil, nil) {
            let enumerated = raw.assumingMemoryBound(to: ASN1_ENUMERATED.self)
            reason = Int(ASN1_ENUMERATED_get(enumerated))
            ASN1_ENUMERATED_free(enumerated)
        }
        return .revoked(date, reason: reason)
    }

    /// thisUpdate ≤ now + 5 min and, when given, now − 5 min ≤ nextUpdate.
    static func checkFreshness(thisUpdate: Date?, nextUpdate: Date?, now: Date, what: String) throws(ClientError) {
        let leeway: TimeInterval = 300
        if let thisUpdate, thisUpdate > now.addingTimeInterval(leeway) {
            throw ClientError(description: "the \(what) was produced after \(now) (thisUpdate \(thisUpdate)): clocks disagree")
        }
        if let nextUpdate, nextUpdate < now.addingTimeInterval(-leeway) {
            throw ClientError(description: "the \(what) is stale: its nextUpdate \(nextUpdate) has passed")
        }
    }
}
