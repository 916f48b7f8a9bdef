import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The bounds every connection of `serve` lives under (issue 8: a connection must never be able to
/// hold a descriptor for ever, and the descriptors must never run out).
public struct ConnectionLimits: Sendable {
    /// Connections open at once; past it a new connection is answered 503 and closed.
    public var maximumConnections: Int
    /// No request in progress and nothing in flight (also a request head that never completes).
    public var idleTimeout: TimeAmount
    /// From a request's head to the end of its body.
    public var requestTimeout: TimeAmount
    /// A response the client does not read (the socket stays unwritable).
    public var writeTimeout: TimeAmount

    public init(maximumConnections: Int = ConnectionLimits.defaultMaximumConnections, idleTimeout: TimeAmount = .seconds(120),
                requestTimeout: TimeAmount = .seconds(30), writeTimeout: TimeAmount = .seconds(30)) {
        self.maximumConnections = maximumConnections; self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout; self.writeTimeout = writeTimeout
    }

    /// Half of the process's descriptor limit (the rest stays for the database, files and the
    /// refusals themselves), at most 10,000.
    public static var defaultMaximumConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 1_000_000 else { return 10_000 }
        return max(16, min(10_000, Int(limit.rlim_cur) / 2))
    }
}

/// Counts the open connections across event loops.
final class ConnectionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var open = 0
    /// Takes a place; false when the limit is reached (the place is taken anyway, and given back on close).
    func opened(limit: Int) -> Bool { lock.lock(); defer { lock.unlock() }; open += 1; return open <= limit }
    func closed() { lock.lock(); open -= 1; lock.unlock() }
    var current: Int { lock.lock(); defer { lock.unlock() }; return open }
}

/// First handler after the HTTP codec on every connection: enforces `ConnectionLimits`.
///
/// States: idle (nothing in progress: closed after `idleTimeout`, which also bounds a request head
/// that never completes, since the codec passes nothing on until it has), reading (a head arrived,
/// its end not yet: closed after `requestTimeout`), answering (responses in flight: closed when the
/// client leaves the socket unwritable for `writeTimeout`). Over the connection limit, the first
/// request is answered 503 and the connection closed; one that sends nothing is closed after a
/// second. CONNECT (which would take the connection out of HTTP) is answered 405 and closed.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private let counter: ConnectionCounter
    private let metrics: ServerMetrics
    private var counted = false
    private var refused = false
    private var closing = false
    /// A request whose head was read and whose end was not.
    private var readingSince: NIODeadline?
    /// Requests passed on whose response has not ended.
    private var inFlight = 0
    private var lastActivity = NIODeadline.now()
    private var unwritableSince: NIODeadline?
    private var check: Scheduled<Void>?

    init(limits: ConnectionLimits, counter: ConnectionCounter, metrics: ServerMetrics) {
        self.limits = limits; self.counter = counter; self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        HTTP10ConnectionClose.install(in: context.pipeline)
        counted = true
        refused = !counter.opened(limit: limits.maximumConnections)
        metrics.connectionOpened(refused: refused)
        let shortest: TimeAmount = min(limits.idleTimeout, limits.requestTimeout, limits.writeTimeout, TimeAmount.seconds(4))
        interval = max(TimeAmount.milliseconds(50), min(TimeAmount.seconds(1), TimeAmount.nanoseconds(shortest.nanoseconds / 4)))
        scheduleCheck(context)
    }

    private var interval = TimeAmount.seconds(1)

    private func scheduleCheck(_ context: ChannelHandlerContext) {
        guard counted, !closing else { return }
        check = context.eventLoop.assumeIsolated().scheduleTask(in: interval) { [self] in
            expire(context)
            scheduleCheck(context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) { release() }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    private func release() {
        check?.cancel(); check = nil
        if counted { counted = false; counter.closed(); metrics.connectionClosed() }
    }

    private func expire(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        let now = NIODeadline.now()
        let reason: String?
        if refused, now - lastActivity >= .seconds(1) {
            reason = "refused"
        } else if let since = readingSince {
            reason = now - since >= limits.requestTimeout ? "request" : nil
        } else if inFlight > 0 {
            reason = unwritableSince.map { now - $0 >= limits.writeTimeout } == true ? "write" : nil
        } else {
            reason = now - lastActivity >= limits.idleTimeout ? "idle" : nil
        }
        guard let reason else { return }
        closing = true
        if reason != "refused" { metrics.connectionTimedOut(state: reason) }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if refused {
                answerAndClose(context, .serviceUnavailable, "the server has too many connections open; try again shortly\n")
                return
            }
            if head.method == .connect {
                answerAndClose(context, .methodNotAllowed, "CONNECT is not served here\n")
                return
            }
            readingSince = .now()
        case .body:
            break
        case .end:
            readingSince = nil
            inFlight += 1
            lastActivity = .now()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            inFlight = max(0, inFlight - 1)
            lastActivity = .now()
        }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        unwritableSince = context.channel.isWritable ? nil : .now()
        context.fireChannelWritabilityChanged()
    }

    private func answerAndClose(_ context: ChannelHandlerContext, _ status: HTTPResponse.Status, _ text: String) {
        closing = true
        let body = context.channel.allocator.buffer(string: text)
        let head = HTTPResponse(status: status, headerFields: [
            .contentType: "text/plain; charset=utf-8", .contentLength: String(body.readableBytes), .connection: "close",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
