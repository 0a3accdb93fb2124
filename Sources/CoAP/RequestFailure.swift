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
