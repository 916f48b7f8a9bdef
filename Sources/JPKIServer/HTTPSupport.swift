import DERKit
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Closes the connection once a response marked `Connection: close` is written. The server marks
/// refusals whose request body it will not read (too large): without this, the HTTP/1.1 loop would
/// read and discard the rest of the body to keep the connection alive.
final class CloseAfterRefusalHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart
    private var closeAfterEnd = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            closeAfterEnd = head.headerFields[.connection]?.lowercased() == "close"
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closeAfterEnd else { context.write(data, promise: promise); return }
            closeAfterEnd = false
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// An HTTP/1.0 request without keep-alive is the last on its connection (RFC 9112 §9.3): the client
/// reads the response until the connection closes (ab without -k, scripts that read to EOF, some
/// older OCSP clients). The conversion to HTTP types drops the version, so Hummingbird and the OCSP
/// fast path saw such a request as HTTP/1.1 and kept the connection open until the idle timeout. This
/// handler sits before the conversion and marks such requests `Connection: close`, which both honour.
final class HTTP10ConnectionClose: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var head) = unwrapInboundIn(data), !head.isKeepAlive,
           !head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "close" }) {
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.fireChannelRead(wrapInboundOut(.head(head)))
            return
        }
        context.fireChannelRead(data)
    }

    /// Puts the handler in front of the HTTP/1 → HTTP types conversion of `pipeline` (called on the
    /// channel's event loop when the connection's handlers are added).
    static func install(in pipeline: ChannelPipeline) {
        guard let codec = try? pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self) else { return }
        try? pipeline.syncOperations.addHandler(HTTP10ConnectionClose(), position: .before(codec.handler))
    }
}

/// HTTP dates (RFC 9110 §5.6.7, IMF-fixdate): `Sun, 06 Nov 1994 08:49:37 GMT`.
enum HTTPDate {
    static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let dayCount = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - dayCount * 86_400
        let (year, month, day) = DERTime.civil(dayCount)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let weekday = days[Int(((dayCount % 7) + 7) % 7)]
        return "\(weekday), \(two(day)) \(months[Int(month - 1)]) \(year) \(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60)) GMT"
    }
}

/// The request path after a prefix, percent-decoded (RFC 3986 §2.1); nil for a bad escape.
func percentDecoded(_ text: Substring) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count)
    var iterator = text.utf8.makeIterator()
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
    while let c = iterator.next() {
        if c == 0x25 {
            guard let a = iterator.next().flatMap(hex), let b = iterator.next().flatMap(hex) else { return nil }
            out.append(a << 4 | b)
        } else {
            out.append(c)
        }
    }
    return out
}

/// Base64 of an OCSP GET request (RFC 6960 Appendix A.1): the standard alphabet, also the URL-safe
/// one, padding optional; nil for anything else.
func base64Decoded(_ bytes: [UInt8]) -> [UInt8]? {
    var text = String(decoding: bytes, as: UTF8.self)
        .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 != 0x20 && $0 != 0x0A && $0 != 0x0D }) else { return nil }
    while text.utf8.count % 4 != 0 { text += "=" }
    return Data(base64Encoded: text).map { [UInt8]($0) }
}
