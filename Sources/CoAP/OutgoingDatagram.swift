/// A datagram the outer layer must send.
public struct OutgoingDatagram<Peer: Hashable & Sendable>: Sendable {
    public let peer: Peer
    public let bytes: [UInt8]
}
