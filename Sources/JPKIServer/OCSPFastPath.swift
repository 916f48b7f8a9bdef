import Foundation
import HTTPTypes
import JPKICA
import NIOCore
import NIOHTTPTypes

/// Answers OCSP requests straight from the channel pipeline, on the network thread, before they
/// become Hummingbird requests; everything else goes on to Hummingbird unchanged. A pre-signed
/// answer is a dictionary lookup: the cost of a request is then the HTTP parsing and writing alone,
/// not the hops to and from the task that would run a route handler.
///
/// It takes a request only when nothing else is in flight on the connection, so that pipelined
/// responses stay in order, and only a well-formed one (`POST /ocsp` of the right type with a
/// `Content-Length` under the limit, or a `GET /ocsp/…` that decodes, without conditions); anything
/// else is handed on to Hummingbird as it came, whose routes give the same answers.
final class OCSPFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let service: RevocationService
    private let metrics: ServerMetrics
    /// Benchmarks only (`serve --benchmark-ceiling FILE`, hidden): these bytes are the answer to
    /// `POST /benchmark/ceiling`, through the same parsing, counting and writing as a cached answer
    /// but without the lookup: the ceiling of this server for an answer of that size.
    private let ceiling: [UInt8]?
    private enum State { case idle, capturing(HTTPRequest, ByteBuffer), forwarding }
    private var state = State.idle
    /// Requests handed to Hummingbird whose response has not ended yet.
    private var inFlight = 0

    init(service: RevocationService, metrics: ServerMetrics, ceiling: [UInt8]? = nil) {
        self.service = service
        self.metrics = metrics
        self.ceiling = ceiling
    }

    /// The path of the benchmark's canned answer (only with `ceiling`).
    static let ceilingPath = RevocationServer.benchmarkCeilingPath

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), _):
            if inFlight == 0, Self.candidate(head, ceiling: ceiling != nil) {
                state = .capturing(head, context.channel.allocator.buffer(capacity: 0))
            } else {
                state = .forwarding
                inFlight += 1
                context.fireChannelRead(data)
            }
        case (.body(var part), .capturing(let head, var body)):
            body.writeBuffer(&part)
            state = .capturing(head, body)
        case (.end, .capturing(let head, let body)):
            state = .idle
            if !answer(head, body, context: context) {
                inFlight += 1
                context.fireChannelRead(wrapInboundOut(.head(head)))
                if body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
                context.fireChannelRead(wrapInboundOut(.end(nil)))
            }
        case (.end, _):
            state = .idle
            context.fireChannelRead(data)
        default:
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { inFlight = max(0, inFlight - 1) }
        context.write(data, promise: promise)
    }

    /// POST /ocsp of the right type with a small declared length, or GET /ocsp/… without conditions.
    static func candidate(_ head: HTTPRequest, ceiling: Bool = false) -> Bool {
        guard let path = head.path else { return false }
        if head.method == .post, path == "/ocsp" || (ceiling && path == ceilingPath) {
            guard head.headerFields[.contentType] == "application/ocsp-request",
                  let length = head.headerFields[.contentLength].flatMap(Int.init), length <= RevocationServer.maximumRequestBytes
            else { return false }
            return true
        }
        return head.method == .get && path.hasPrefix("/ocsp/") && head.headerFields[.ifNoneMatch] == nil
    }

    /// Writes the answer, or returns false for a GET whose path does not decode (Hummingbird answers it).
    private func answer(_ head: HTTPRequest, _ body: ByteBuffer, context: ChannelHandlerContext) -> Bool {
        let get = head.method == .get
        if let ceiling, !get, head.path == Self.ceilingPath {
            metrics.ceilingAnswered()
            write(ceiling, cacheable: nil, get: false, head, context: context)
            return true
        }
        let der: [UInt8]
        if get {
            guard let path = head.path, let text = percentDecoded(path.dropFirst("/ocsp/".count)), let decoded = base64Decoded(text),
                  decoded.count <= RevocationServer.maximumRequestBytes else { return false }
            der = decoded
        } else {
            der = Array(buffer: body)
        }
        // From the cache when it can; else parsed, looked up and signed here too (a few hundred
        // microseconds of RSA on this thread, as a single-threaded responder would spend them).
        let answer = service.answer(requestDER: der)
        metrics.ocspAnswered(answer, get: get)
        write(answer.der, cacheable: answer.cacheable, get: get, head, context: context)
        return true
    }

    /// The response: the answer's bytes with their headers (RFC 5019 caching headers for a GET).
    private func write(_ der: [UInt8], cacheable: OCSPAnswer.Cacheable?, get: Bool, _ head: HTTPRequest, context: ChannelHandlerContext) {
        var fields: HTTPFields = [.contentType: "application/ocsp-response", .contentLength: String(der.count)]
        if get, let cache = cacheable {
            let maxAge = max(0, Int(cache.nextUpdate.timeIntervalSince(service.now())))
            fields[.cacheControl] = "max-age=\(maxAge), public, no-transform, must-revalidate"
            fields[.eTag] = cache.etag
            fields[.lastModified] = HTTPDate.format(cache.thisUpdate)
            fields[.expires] = HTTPDate.format(cache.nextUpdate)
        } else {
            fields[.cacheControl] = "no-store"
        }
        let connection = head.headerFields[.connection]?.lowercased()
        if connection == "keep-alive" { fields[.connection] = "keep-alive" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: der))), promise: nil)
        if connection == "close" {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
