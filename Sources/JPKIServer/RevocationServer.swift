import Foundation
import HTTPTypes
import Hummingbird
import JPKICA
import JPKIDomain
import Logging
import NIOCore
import ServiceLifecycle

/// `jpki-sandbox serve`: the OCSP responder, the CRLs and the roots over HTTP (Hummingbird 2).
///
/// | route | answer |
/// |---|---|
/// | `POST /ocsp` (`application/ocsp-request`) | RFC 6960 response |
/// | `GET /ocsp/{percent-encoded base64}` | the same, with RFC 5019 caching headers |
/// | `GET /crl/sign.crl`, `/crl/auth.crl` | full CRLs (DER) |
/// | `GET /crl/{sign,auth}/{municipality code}.crl` | a municipality's partition |
/// | `GET /ca/sign-root.pem`, `/ca/auth-root.pem` | the roots (and `…-ocsp.pem`, delegated responders) |
/// | `GET /healthz`, `GET /metrics` | readiness, Prometheus text |
public struct RevocationServer: Sendable {
    /// Request bodies (and decoded GET requests) larger than this are refused without being read:
    /// a real OCSP request for a few certificates is a few hundred bytes.
    public static let maximumRequestBytes = 4096

    public let service: RevocationService
    public let metrics = ServerMetrics()
    let host: String
    let port: Int
    let limits: ConnectionLimits
    let connections = ConnectionCounter()
    let logger: Logger

    public init(service: RevocationService, host: String, port: Int, limits: ConnectionLimits = ConnectionLimits(), logger: Logger) {
        self.service = service; self.host = host; self.port = port; self.limits = limits; self.logger = logger
    }

    /// Serves until SIGINT or SIGTERM (then finishes the requests in flight and returns).
    /// `onListening` gets the address actually bound (the port is chosen by the system for 0).
    public func run(onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }) async throws {
        try await service.crls.bringUpToDate(now: service.now())
        var app = makeApplication(onListening: onListening)
        app.addServices(MaintenanceService(service: service, logger: logger))
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        logger.info("stopped")
    }

    /// The application without signal handling, for callers that run it in their own ServiceGroup
    /// (the demo).
    public func makeApplication(onListening: @escaping @Sendable (String, Int) async -> Void) -> Application<OCSPFirstResponder> {
        let logger = self.logger
        return Application(
            responder: OCSPFirstResponder(router: makeRouter().buildResponder(), service: service, metrics: metrics),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [ConnectionGuard(limits: limits, counter: connections, metrics: metrics),
                                            OCSPFastPath(service: service, metrics: metrics), CloseAfterRefusalHandler()],
                idleTimeout: nil)),   // ConnectionGuard closes idle connections (Hummingbird's timer does not see the fast path's requests)
            configuration: .init(address: .hostname(host, port: port), serverName: "jpki-sandbox"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("listening", metadata: ["url": "http://\(host):\(port)"])
                await onListening(host, port)
            },
            logger: logger)
    }

    /// `POST /ocsp`. Client errors are answered, not thrown.
    static func ocspPost(_ request: Request, service: RevocationService, metrics: ServerMetrics) async -> Response {
        let type = request.headers[.contentType]
        guard type == "application/ocsp-request"
            || type?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/ocsp-request" else {
            return plain(.unsupportedMediaType, "an OCSP request is POSTed as application/ocsp-request\n")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maximumRequestBytes {
            return Self.tooLarge()
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumRequestBytes)
        } catch is NIOTooManyBytesError {
            return Self.tooLarge()
        } catch {
            return plain(.badRequest, "could not read the request body\n")
        }
        let answer = service.answer(requestDER: Array(buffer: body))
        metrics.ocsp(answer)
        return Self.ocspResponse(answer, get: false, request: request, now: service.now())
    }

    /// `GET /ocsp/{percent-encoded base64}` (RFC 6960 Appendix A.1).
    static func ocspGet(_ request: Request, service: RevocationService, metrics: ServerMetrics) -> Response {
        // The raw path, not a router's split of it: base64 holds '/' and may hold "//".
        let path = request.uri.path
        let encoded = path.dropFirst("/ocsp/".count)
        guard encoded.utf8.count <= Self.maximumRequestBytes * 2 else {
            return plain(.uriTooLong, "an OCSP GET request must be under \(Self.maximumRequestBytes) bytes\n")
        }
        let answer: OCSPAnswer
        if let text = percentDecoded(encoded), let der = base64Decoded(text), der.count <= Self.maximumRequestBytes {
            answer = service.answer(requestDER: der)
        } else {
            answer = service.answer(requestDER: [])   // malformedRequest
        }
        metrics.ocsp(answer)
        return Self.ocspResponse(answer, get: true, request: request, now: service.now())
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: AccessMiddleware(metrics: metrics, logger: logger))
        let service = self.service, metrics = self.metrics

        router.get("/crl/**") { request, _ -> Response in
            let path = String(request.uri.path.dropFirst("/crl/".count))
            service.refresh()   // a change committed by the CLI a moment ago is in this CRL
            guard let crl = try await service.crls.crl(path: path, now: service.now()) else {
                throw HTTPError(.notFound, message: "no CRL \(path): /crl/sign.crl, /crl/auth.crl or /crl/{sign,auth}/{municipality code}.crl")
            }
            if request.headers[.ifNoneMatch] == crl.etag { return Response(status: .notModified, headers: [.eTag: crl.etag]) }
            return Response(status: .ok, headers: [
                .contentType: "application/pkix-crl", .eTag: crl.etag,
                .lastModified: HTTPDate.format(crl.thisUpdate), .expires: HTTPDate.format(crl.nextUpdate),
                // Regenerated at every change: caches may keep it but must ask again.
                .cacheControl: "no-cache",
            ], body: .init(byteBuffer: ByteBuffer(bytes: crl.der)))
        }

        router.get("/ca/:file") { _, context -> Response in
            let file = context.parameters.get("file") ?? ""
            for kind in CertificateKind.allCases {
                if file == "\(kind.rawValue)-root.pem" {
                    return Self.pem(service.sandbox.root(kind).pem)
                }
                if file == "\(kind.rawValue)-ocsp.pem", let cert = service.responderCertificate(kind), let pem = try? cert.pem() {
                    return Self.pem(pem)
                }
            }
            // Only the names above exist: nothing else under the home, keys above all, is ever served.
            throw HTTPError(.notFound, message: "/ca/sign-root.pem and /ca/auth-root.pem are the roots")
        }

        router.get("/healthz") { _, _ -> Response in
            let ready = service.isHealthy
            return Response(status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: ready ? "{\"status\":\"ok\"}\n" : "{\"status\":\"unavailable\"}\n")))
        }

        router.get("/metrics") { _, _ -> Response in
            let text = metrics.render(crls: await service.crls.all, cache: service.cacheFigures,
                                      generations: await service.crls.generations, now: service.now())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        return router
    }

    static func pem(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/x-pem-file"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// 413, and the connection closed after it (CloseAfterRefusalHandler) so the body is never read.
    static func tooLarge() -> Response {
        Response(status: .contentTooLarge, headers: [.connection: "close", .contentType: "text/plain"],
                 body: .init(byteBuffer: ByteBuffer(string: "an OCSP request must be under \(maximumRequestBytes) bytes\n")))
    }

    /// The OCSP answer with its headers; for GET of a nonce-less answer, RFC 5019 §6 caching headers.
    static func ocspResponse(_ answer: OCSPAnswer, get: Bool, request: Request, now: Date) -> Response {
        var headers: HTTPFields = [.contentType: "application/ocsp-response"]
        if get, let cache = answer.cacheable {
            if request.headers[.ifNoneMatch] == cache.etag {
                return Response(status: .notModified, headers: [.eTag: cache.etag])
            }
            let maxAge = max(0, Int(cache.nextUpdate.timeIntervalSince(now)))
            headers[.cacheControl] = "max-age=\(maxAge), public, no-transform, must-revalidate"
            headers[.eTag] = cache.etag
            headers[.lastModified] = HTTPDate.format(cache.thisUpdate)
            headers[.expires] = HTTPDate.format(cache.nextUpdate)
        } else {
            headers[.cacheControl] = "no-store"
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.der)))
    }
}

/// Sends OCSP requests straight to the responder and everything else through the router: the OCSP
/// routes are the hot ones (tens of thousands of requests a second), and skip route resolution and
/// the middleware chain; they are counted here instead.
public struct OCSPFirstResponder: HTTPResponder {
    public typealias Context = BasicRequestContext
    let router: RouterResponder<BasicRequestContext>
    let service: RevocationService
    let metrics: ServerMetrics

    public func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        var response: Response
        let route: String
        if request.method == .post && (path == "/ocsp" || path == "/ocsp/") {
            response = await RevocationServer.ocspPost(request, service: service, metrics: metrics)
            route = "/ocsp"
        } else if request.method == .get && path.hasPrefix("/ocsp/") {
            response = RevocationServer.ocspGet(request, service: service, metrics: metrics)
            route = "/ocsp/{request}"
        } else {
            return try await router.respond(to: request, context: context)
        }
        metrics.request(route: route, method: request.method.rawValue, status: response.status.code)
        keepAlive(request, &response)
        return response
    }
}

/// HTTP/1.0 clients that ask for keep-alive (ab -k) keep the connection only when told so.
func keepAlive(_ request: Request, _ response: inout Response) {
    if response.headers[.connection] == nil, let asked = request.headers[.connection], asked.lowercased() == "keep-alive" {
        response.headers[.connection] = "keep-alive"
    }
}

/// Counts every request by route and status, and logs it at debug level (info would cost more than
/// an answer from the cache).
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let status: Int
        do {
            var response = try await next(request, context)
            status = response.status.code
            record(request, context, status)
            keepAlive(request, &response)
            return response
        } catch let error as any HTTPResponseError {
            record(request, context, error.status.code)
            throw error
        } catch {
            record(request, context, 500)
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw error
        }
    }

    func record(_ request: Request, _ context: Context, _ status: Int) {
        let route = context.endpointPath.map(Self.routeLabel) ?? "unmatched"
        metrics.request(route: route, method: request.method.rawValue, status: status)
        if logger.logLevel <= .debug {
            logger.debug("request", metadata: ["method": "\(request.method)", "path": "\(request.uri.path.prefix(200))", "status": "\(status)"])
        }
    }

    /// Route patterns as labels: `/ocsp/**` → `/ocsp/{request}`.
    static func routeLabel(_ pattern: String) -> String {
        switch pattern {
        case "/ocsp/**": "/ocsp/{request}"
        case "/crl/**": "/crl/{file}"
        case "/ca/:file", "/ca/{file}": "/ca/{file}"
        default: pattern
        }
    }
}

/// Keeps the server's view fresh without requests: every half second it applies changes committed
/// by other processes and regenerates stale CRLs (so a burst of revocations makes one generation),
/// and renews CRLs at half their validity, long before nextUpdate.
struct MaintenanceService: Service {
    let service: RevocationService
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            service.refresh()
            do {
                try await service.crls.bringUpToDate(now: service.now())
            } catch {
                logger.error("CRL generation failed; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// A server started in-process (the demo): its port, and a way to stop it.
public final class RunningServer: Sendable {
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) { self.port = port; self.group = group; self.task = task }

    /// Finishes the requests in flight, then returns.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

extension RevocationServer {
    /// Starts serving in this process (no signal handling) and returns once it listens.
    public func start() async throws -> RunningServer {
        try await service.crls.bringUpToDate(now: service.now())
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = makeApplication { _, port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app, MaintenanceService(service: service, logger: logger)], logger: logger))
        let task = Task<Void, any Error> {
            defer { continuation.finish() }
            try await group.run()
        }
        for await port in ports { return RunningServer(port: port, group: group, task: task) }
        try await task.value   // it stopped before listening: its error
        throw CancellationError()
    }
}
