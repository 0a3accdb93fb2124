/// Something the application must act on or may log.
public enum EndpointEvent<Peer: Hashable & Sendable>: Sendable {
    /// A request to answer (server role).
    case request(IncomingRequest<Peer>)
    /// The final response to a request we sent (Block2 bodies reassembled).
    case response(RequestID, CoAPMessage)
    /// A request we sent failed.
    case requestFailed(RequestID, RequestFailure)
    /// A ping we sent was answered.
    case pong(RequestID)
    /// An observation registered with us ended.
    case observationEnded(ObservationID, ObservationEnd)
    /// A streamed Block1 upload ended before its last block: expired, or refused by the engine
    /// (4.08, 4.13). Drop what was received of it.
    case uploadAbandoned(AbandonedUpload<Peer>)
    /// A datagram that is not valid CoAP arrived and was dropped or reset (for logs).
    case malformedDatagram(Peer, CoAPDecodingError)
}
