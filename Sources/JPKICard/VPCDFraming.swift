import NIOCore

/// A message of vsmartcard's vpcd protocol, as pcscd's vpcd driver sends it to the card.
///
/// Each message is a frame: a 2-byte big-endian length, then that many bytes. A 1-byte payload is a
/// control message; a longer one is a command APDU.
public enum VPCDMessage: Sendable, Equatable {
    case powerOff        // 00
    case powerOn         // 01
    case reset           // 02
    case getATR          // 04: the only control message that is answered (with the ATR)
    /// A control byte the protocol does not define: logged and ignored (no answer).
    case unknownControl(UInt8)
    case apdu([UInt8])
    /// A zero-length frame (not sent by vpcd; ignored).
    case empty

    public init(payload: [UInt8]) {
        switch payload.count {
        case 0: self = .empty
        case 1:
            switch payload[0] {
            case 0x00: self = .powerOff
            case 0x01: self = .powerOn
            case 0x02: self = .reset
            case 0x04: self = .getATR
            default: self = .unknownControl(payload[0])
            }
        default: self = .apdu(payload)
        }
    }
}

/// Splits the byte stream from vpcd into frames (2-byte big-endian length, then the payload). A
/// partial frame waits for the rest; a connection closed mid-frame drops it.
public struct VPCDFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = VPCDMessage
    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        let payload = buffer.readBytes(length: Int(length)) ?? []
        context.fireChannelRead(Self.wrapInboundOut(VPCDMessage(payload: payload)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // Whatever is left is a frame cut by the closed connection: dropped.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// Frames an answer (an ATR or a response APDU) for vpcd.
public struct VPCDFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = [UInt8]
    public init() {}

    public func encode(data: [UInt8], out: inout ByteBuffer) throws {
        guard data.count <= Int(UInt16.max) else { throw FrameTooLong(count: data.count) }
        out.writeInteger(UInt16(data.count))
        out.writeBytes(data)
    }
}

/// An answer longer than a vpcd frame can carry (65535 bytes); the applet never makes one.
public struct FrameTooLong: Error, CustomStringConvertible {
    public let count: Int
    public var description: String { "an answer of \(count) bytes does not fit a vpcd frame (65535 at most)" }
}
