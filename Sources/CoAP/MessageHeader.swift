/// The fixed 4-byte CoAP header, readable even when the rest of a datagram is malformed,
/// so the message layer can decide between a Reset and a silent drop (RFC 7252 §4.2, §4.3).
public struct MessageHeader: Hashable, Sendable {
    public var version: UInt8
    public var type: MessageType
    public var tokenLength: UInt8
    public var code: CoAPCode
    public var messageID: UInt16

    /// Reads the header of `bytes`; `nil` when fewer than 4 bytes.
    @inlinable
    public init?(peeking bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 4 else { return nil }
        let first = bytes[0]
        version = first >> 6
        type = MessageType(rawValue: (first >> 4) & 3)!
        tokenLength = first & 0x0F
        code = CoAPCode(rawValue: bytes[1])
        messageID = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
    }

    public init?(peeking bytes: [UInt8]) {
        guard let header = bytes.withUnsafeBytes({ MessageHeader(peeking: $0) }) else { return nil }
        self = header
    }
}
