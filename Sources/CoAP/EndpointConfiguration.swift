/// Everything tunable about a `CoAPEndpoint`.
public struct EndpointConfiguration: Hashable, Sendable {
    public var transmission = TransmissionParameters()
    /// Largest block we send or ask for (RFC 7959 SZX; 6 = 1024 bytes). Lower it for small MTUs.
    public var preferredBlockSZX: UInt8 = 6
    /// Largest request body we reassemble from Block1 and largest response we reassemble from
    /// Block2; larger transfers are refused (4.13 with Size1 / `RequestFailure.bodyTooLarge`).
    public var maximumBodySize: Int = 1 << 20
    /// Responses remembered for duplicate detection (oldest evicted first when full).
    public var duplicateCacheCapacity: Int = 512
    /// Large response bodies kept to serve later Block2 requests without asking the application.
    public var blockCacheCapacity: Int = 8
    /// Token length of requests we originate (1...8).
    public var tokenLength: Int = 4
    /// A notification is sent confirmable at least this often (RFC 7641 §4.5: at least every 24 h).
    public var confirmableNotificationInterval: Duration = .seconds(24 * 3600)
    /// How long we wait for a separate response after an empty ACK, or for any response to a NON
    /// request. `nil` uses EXCHANGE_LIFETIME.
    public var responseTimeout: Duration? = nil

    /// Whether the application evaluates If-Match / If-None-Match (RFC 7252 §5.10.8). When
    /// false, requests carrying them are answered 4.02 Bad Option, as for any unsupported
    /// critical option, so a conditional PUT is never applied unconditionally.
    public var supportsConditionalRequests = false

    public init() {}

    var effectiveResponseTimeout: Duration { responseTimeout ?? transmission.exchangeLifetime }
}
