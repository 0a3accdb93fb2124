/// What a peer's Observe option asks for in a GET/FETCH (RFC 7641 §2).
public enum ObserveAction: Sendable, Hashable { case register, deregister }

/// A request a peer sent us; answer it with `CoAPEndpoint.respond(to:with:at:)`.
public struct IncomingRequest<Peer: Hashable & Sendable>: Sendable {
    public let exchange: ExchangeID
    public let peer: Peer
    /// The request; for a Block1 transfer, the last block's message with the whole body as
    /// payload (for a streamed one, see `streamedBlock`: this block's message and bytes).
    public let message: CoAPMessage
    public let observe: ObserveAction?
    /// For a streamed Block1 upload (`EndpointConfiguration.block1Streaming`): this block, whose
    /// bytes alone are `message.payload`. Answer 2.31 Continue to take the next block (not for
    /// the last one, which gets the final response); any other answer ends the upload.
    public var streamedBlock: StreamedBlock? = nil
}
