/// A download protocol of Firmware Update Protocol Support (/5/0/8), as objects/oma/5.xml
/// numbers them, with the URI scheme that selects it.
public enum FirmwareProtocol: Int, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// 0: CoAP (RFC 7252) with block-wise transfer.
    case coap = 0
    /// 1: CoAP over DTLS with block-wise transfer.
    case coaps = 1
    /// 2: HTTP 1.1.
    case http = 2
    /// 3: HTTPS 1.1.
    case https = 3
    /// 4: CoAP over TCP (RFC 8323).
    case coapOverTCP = 4
    /// 5: CoAP over TLS (RFC 8323).
    case coapOverTLS = 5

    /// The (lower-case) URI scheme naming this protocol.
    public var scheme: String {
        switch self {
        case .coap: "coap"
        case .coaps: "coaps"
        case .http: "http"
        case .https: "https"
        case .coapOverTCP: "coap+tcp"
        case .coapOverTLS: "coaps+tcp"
        }
    }

    /// The protocol a URI scheme names (compared case-insensitively), nil for any other scheme.
    public init?(scheme: String) {
        let lower = String(scheme.lowercased())
        guard let found = Self.allCases.first(where: { $0.scheme == lower }) else { return nil }
        self = found
    }

    public var description: String { scheme }
}

/// Firmware Update Delivery Method (/5/0/9).
public enum FirmwareDeliveryMethod: Int, Hashable, Sendable, CustomStringConvertible {
    /// 0: only Package URI (the agent downloads).
    case pullOnly = 0
    /// 1: only Package (the server writes the package).
    case pushOnly = 1
    /// 2: both.
    case both = 2

    public var description: String {
        switch self {
        case .pullOnly: "pull only"
        case .pushOnly: "push only"
        case .both: "push and pull"
        }
    }
}
