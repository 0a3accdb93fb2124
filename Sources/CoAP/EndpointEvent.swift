/// Identifies a request this endpoint originated (client role).
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public var description: String { "req#\(rawValue)" }
}

/// Identifies a request this endpoint received and has not answered yet (server role).
public struct ExchangeID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public var description: String { "exch#\(rawValue)" }
}

/// Identifies an observation a peer registered with us (RFC 7641 server role).
public struct ObservationID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public var description: String { "obs#\(rawValue)" }
}

/// A request to send: method, options (Uri-Path, Content-Format …) and payload.
/// The endpoint assigns message ID and token, and splits a large payload into Block1 blocks.
public struct CoAPRequest: Hashable, Sendable {
    public var method: CoAPCode
    public var options: [CoAPOption]
    public var payload: [UInt8]
    public var confirmable: Bool

    public init(_ method: CoAPCode, options: [CoAPOption] = [], payload: [UInt8] = [], confirmable: Bool = true) {
        self.method = method
        self.options = options.isSortedByNumber ? options : options.sortedByNumber()
        self.payload = payload
        self.confirmable = confirmable
    }

    /// A request for `path` ("/rd", "3/0/1"); `query` items become Uri-Query options.
    public init(
        _ method: CoAPCode, path: String, query: [String] = [], contentFormat: UInt16? = nil,
        payload: [UInt8] = [], confirmable: Bool = true
    ) {
        var options: [CoAPOption] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            options.append(CoAPOption(.uriPath, string: String(segment)))
        }
        if let contentFormat { options.append(CoAPOption(.contentFormat, uint: UInt32(contentFormat))) }
        for item in query { options.append(CoAPOption(.uriQuery, string: item)) }
        self.init(method, options: options, payload: payload, confirmable: confirmable)
    }
}

/// A response to send: code, options and payload. The endpoint picks type, message ID and token,
/// and serves a large payload block by block (Block2).
public struct CoAPResponse: Hashable, Sendable {
    public var code: CoAPCode
    public var options: [CoAPOption]
    public var payload: [UInt8]

    public init(_ code: CoAPCode, options: [CoAPOption] = [], payload: [UInt8] = []) {
        self.code = code
        self.options = options.isSortedByNumber ? options : options.sortedByNumber()
        self.payload = payload
    }

    public init(_ code: CoAPCode, contentFormat: UInt16, payload: [UInt8]) {
        self.init(code, options: [CoAPOption(.contentFormat, uint: UInt32(contentFormat))], payload: payload)
    }

    /// An error response with a diagnostic payload (RFC 7252 §5.5.2).
    public static func error(_ code: CoAPCode, _ diagnostic: String) -> CoAPResponse {
        CoAPResponse(code, payload: Array(diagnostic.utf8))
    }
}

/// What a peer's Observe option asks for in a GET/FETCH (RFC 7641 §2).
public enum ObserveAction: Sendable, Hashable { case register, deregister }

/// A request a peer sent us; answer it with `CoAPEndpoint.respond(to:with:at:)`.
public struct IncomingRequest<Peer: Hashable & Sendable>: Sendable {
    public let exchange: ExchangeID
    public let peer: Peer
    /// The request; for a Block1 transfer, the last block's message with the whole body as payload.
    public let message: CoAPMessage
    public let observe: ObserveAction?
}

/// Why a request we sent produced no response.
public enum RequestFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// No ACK after MAX_RETRANSMIT retransmissions, or no response in time.
    case timeout
    /// The peer answered with a Reset.
    case reset
    /// The response body would exceed `maximumBodySize`.
    case bodyTooLarge
    /// A block-wise transfer could not be completed.
    case blockTransferFailed(String)
    /// The request could not be encoded.
    case encoding(CoAPEncodingError)
    /// Cancelled by the application.
    case cancelled

    public var description: String {
        switch self {
        case .timeout: "no response (timeout)"
        case .reset: "peer answered with Reset"
        case .bodyTooLarge: "response body too large"
        case .blockTransferFailed(let why): "block-wise transfer failed: \(why)"
        case .encoding(let error): "cannot encode request: \(error)"
        case .cancelled: "cancelled"
        }
    }
}

/// Why an observation ended.
public enum ObservationEnd: Sendable, Hashable {
    /// GET with Observe = 1.
    case deregistered
    /// The observer answered a notification with a Reset.
    case reset
    /// A confirmable notification was never acknowledged.
    case timeout
    /// The observer registered again with a new request on the same token.
    case replaced
    /// Cancelled by the application.
    case cancelled
}

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
    /// A datagram that is not valid CoAP arrived and was dropped or reset (for logs).
    case malformedDatagram(Peer, CoAPDecodingError)
}

/// A datagram the outer layer must send.
public struct OutgoingDatagram<Peer: Hashable & Sendable>: Sendable {
    public let peer: Peer
    public let bytes: [UInt8]
}
