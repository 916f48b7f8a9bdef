import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A card inserted into pcscd's vpcd reader: dials the driver (which listens), then answers its
/// frames until stopped. A closed connection (pcscd restarted, or it removed the card) is dialled
/// again every second, so the card comes back by itself; its state is in the register, not here.
public final class VirtualCardReader: Sendable {
    public let host: String
    public let port: Int
    let services: any CardServices
    let logger: Logger
    let state = NIOLockedValueBox(State())

    struct State {
        var stopped = false
        var channel: (any Channel)?
    }

    public init(host: String, port: Int, services: any CardServices, logger: Logger) {
        self.host = host; self.port = port; self.services = services; self.logger = logger
    }

    /// Ends `run`: closes the connection (pcscd sees the card removed) and dials no more.
    public func stop() {
        let channel = state.withLockedValue { s -> (any Channel)? in
            s.stopped = true
            return s.channel
        }
        channel?.close(promise: nil)
    }

    var stopped: Bool { state.withLockedValue { $0.stopped } }

    /// Serves the card until `stop()`. `connected` is called after each successful dial,
    /// `unreachable` once per run of failed dials (with the error).
    public func run(connected: @Sendable () -> Void = {}, unreachable: @Sendable (any Error) -> Void = { _ in }) async {
        var reportedFailure = false
        while !stopped {
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: host, port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(QuickAck())
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(VPCDFrameDecoder()))
                            try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(VPCDFrameEncoder()))
                            return try NIOAsyncChannel<VPCDMessage, [UInt8]>(wrappingChannelSynchronously: channel)
                        }.map { (channel, $0) }
                    }
                let closeNow = state.withLockedValue { s -> Bool in
                    s.channel = channel.0
                    return s.stopped
                }
                if closeNow { try? await channel.0.close() ; break }
                reportedFailure = false
                connected()
                try await serve(channel.1)
                logger.info("vpcd closed the connection", metadata: ["reader": "\(host):\(port)"])
            } catch {
                if !stopped && !reportedFailure {
                    reportedFailure = true
                    unreachable(error)
                }
            }
            state.withLockedValue { $0.channel = nil }
            if stopped { break }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// One connection: a fresh power-on session per connection (re-inserting a card).
    func serve(_ channel: NIOAsyncChannel<VPCDMessage, [UInt8]>) async throws {
        var applet = JPKIApplet(services: services)
        try await channel.executeThenClose { inbound, outbound in
            for try await message in inbound {
                switch message {
                case .powerOff, .powerOn, .reset:
                    applet.reset()
                    logger.debug("control \(message)")
                case .getATR:
                    try await outbound.write(JPKIApplet.atr)
                case .unknownControl(let byte):
                    logger.warning("vpcd control byte \(String(format: "%02X", byte)) is not defined (00 power off, 01 power on, 02 reset, 04 ATR): ignored")
                case .empty:
                    logger.warning("empty vpcd frame: ignored")
                case .apdu(let bytes):
                    let start = ContinuousClock.now
                    let response = applet.process(bytes)
                    let elapsed = ContinuousClock.now - start
                    logger.debug("\(Self.describe(bytes)) -> \(response.status) (\(response.data.count) bytes, \(Self.milliseconds(elapsed)) ms)")
                    try await outbound.write(response.bytes)
                }
            }
        }
    }

    /// One log line's view of a command APDU. VERIFY and CHANGE REFERENCE DATA carry PINs: their data,
    /// and the bytes of anything that does not parse (it may be a PIN with a wrong length), are never
    /// shown; a signature's DigestInfo is shown by length only.
    static func describe(_ bytes: [UInt8]) -> String {
        guard case .success(let c) = CommandAPDU.parse(bytes) else { return "apdu (malformed, \(bytes.count) bytes)" }
        var text = "apdu \(c.headerText)"
        if !c.data.isEmpty {
            switch c.ins {
            case 0x20, 0x24: text += " data=<redacted, \(c.data.count) bytes>"
            case 0xA4: text += " data=" + c.data.map { String(format: "%02X", $0) }.joined(separator: " ")
            default: text += " data=<\(c.data.count) bytes>"
            }
        }
        if let le = c.le { text += " Le=\(le)" }
        return text
    }

    static func milliseconds(_ d: Duration) -> String {
        let (s, atto) = d.components
        return String(format: "%.2f", Double(s) * 1000 + Double(atto) / 1e15)
    }
}

/// Acknowledges every segment at once (Linux TCP_QUICKACK, which the kernel clears again, so it is set
/// after each read). vpcd sends a frame's 2-byte length and its payload in two writes, with Nagle's
/// algorithm on: the payload waits for the ACK of the length, and a delayed ACK held every APDU for
/// about 40 ms.
final class QuickAck: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        Self.set(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        Self.set(context)
        context.fireChannelRead(data)
    }

    static func set(_ context: ChannelHandlerContext) {
        #if os(Linux)
        let option = ChannelOptions.Types.SocketOption(level: SocketOptionLevel(IPPROTO_TCP), name: SocketOptionName(TCP_QUICKACK))
        _ = try? context.channel.syncOptions?.setOption(option, value: 1)
        #endif
    }
}
