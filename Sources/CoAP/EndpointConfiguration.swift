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
    /// Caps on the Block1 request bodies being reassembled at once (server role), so peers that
    /// start uploads and never finish them cannot take the memory. See `Block1Limits`.
    public var block1Limits = Block1Limits()
    /// Block1 uploads handed to the application block by block instead of being reassembled
    /// (firmware images); they hold no memory in the engine and are not counted by
    /// `block1Limits`. None by default. See `Block1Streaming`.
    public var block1Streaming = Block1Streaming()
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

/// Caps on the Block1 uploads in progress (request bodies being reassembled, server role), per
/// peer and over all peers. An upload is forgotten EXCHANGE_LIFETIME after its last block.
///
/// A new upload that would exceed a count, or whose first block (or announced Size1) would exceed
/// a byte budget, is refused with 5.03 Service Unavailable and a Max-Age telling when an upload
/// in its way expires (RFC 7252 §5.9.3.4); an upload in progress whose next block would exceed a
/// byte budget is dropped with 4.13 Request Entity Too Large (RFC 7959 §2.9.3: the server "does
/// not currently have the resources to store blocks"). A request body in a single block is never
/// stored, so it is never refused by these caps. The defaults suit a gateway managed by a few
/// servers: a few concurrent uploads each, a few MiB in all.
public struct Block1Limits: Hashable, Sendable {
    /// Uploads in progress over all peers.
    public var uploads: Int = 16
    /// Uploads in progress from one peer.
    public var uploadsPerPeer: Int = 4
    /// Bytes held by all uploads in progress. Keep it ≥ `maximumBodySize`, or the largest
    /// bodies are refused (the smaller of the two is what a body may reach).
    public var bytes: Int = 4 << 20
    /// Bytes held by the uploads in progress of one peer (same remark).
    public var bytesPerPeer: Int = 2 << 20

    public init() {}

    public init(uploads: Int, uploadsPerPeer: Int, bytes: Int, bytesPerPeer: Int) {
        self.uploads = uploads
        self.uploadsPerPeer = uploadsPerPeer
        self.bytes = bytes
        self.bytesPerPeer = bytesPerPeer
    }
}
