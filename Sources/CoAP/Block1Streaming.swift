/// Which Block1 uploads the application takes block by block instead of the engine
/// reassembling them in memory (server role), and the caps on those streamed uploads.
///
/// A request matching one of `rules` whose body spans several blocks reaches the application
/// once per block (`IncomingRequest.streamedBlock`, the block's bytes as payload). The
/// application answers each block: 2.31 Continue to take the next one (the engine adds the
/// Block1 option), any other code to end the upload (for the last block: the final response).
/// The engine keeps the order (4.08 for a block out of sequence), the size limit (4.13 with
/// Size1), restarts at block 0, answers a repeated block it already accepted with 2.31 again,
/// and forgets an upload EXCHANGE_LIFETIME after its last block; when it ends an upload the
/// application had started taking, the application hears of it (`.uploadAbandoned`). It holds
/// no body: a streamed upload costs a few hundred bytes whatever its size.
public struct Block1Streaming: Hashable, Sendable {
    /// The requests that stream; none by default (every Block1 body is reassembled).
    public var rules: [Block1StreamRule] = []
    /// Largest body of a streamed upload (bytes). 2^30 is the most RFC 7959 can carry with
    /// 1024-byte blocks (2^20 block numbers); a larger Size1, or a block beyond it, gets 4.13
    /// with this size in Size1.
    public var maximumBodySize: Int64 = 1 << 30
    /// Streamed uploads in progress over all peers; a new one beyond gets 5.03 + Max-Age.
    public var uploads: Int = 4
    /// Streamed uploads in progress from one peer; a new one beyond gets 5.03 + Max-Age.
    public var uploadsPerPeer: Int = 2

    public init() {}

    public init(rules: [Block1StreamRule], maximumBodySize: Int64 = 1 << 30, uploads: Int = 4, uploadsPerPeer: Int = 2) {
        self.rules = rules
        self.maximumBodySize = maximumBodySize
        self.uploads = uploads
        self.uploadsPerPeer = uploadsPerPeer
    }

    /// Whether `request`'s Block1 body is streamed to the application.
    public func streams(_ request: CoAPMessage) -> Bool {
        guard !rules.isEmpty else { return false }
        let path = request.uriPath
        return rules.contains { $0.matches(method: request.code, path: path) }
    }
}

/// One kind of request whose Block1 body is streamed: a method and a Uri-Path pattern.
public struct Block1StreamRule: Hashable, Sendable {
    /// The request method (PUT for an LwM2M Write of a resource).
    public var method: CoAPCode
    /// The Uri-Path, one entry per segment; `nil` matches any one segment (`["5", nil, "0"]`
    /// matches `/5/0/0` and `/5/1/0`, not `/5/0` nor `/5/0/0/1`).
    public var path: [String?]

    public init(method: CoAPCode, path: [String?]) {
        self.method = method
        self.path = path
    }

    /// Whether a request with `method` on Uri-Path `segments` matches.
    public func matches(method: CoAPCode, path segments: [String]) -> Bool {
        guard method == self.method, segments.count == path.count else { return false }
        for (pattern, segment) in zip(path, segments) where pattern != nil && pattern != segment { return false }
        return true
    }
}

/// One block of a streamed Block1 upload, as the application receives it: the request's
/// payload is this block's bytes only.
public struct StreamedBlock: Hashable, Sendable {
    /// The Block1 option of the request (number, more flag, size).
    public let block: BlockValue
    /// Where the block's bytes go in the whole body. Offset 0 starts (or restarts) the upload.
    public let offset: Int64

    public init(block: BlockValue, offset: Int64) {
        self.block = block
        self.offset = offset
    }

    /// Whether this is the last block: answer it with the final response (2.04, 2.01 …).
    public var isLast: Bool { !block.more }
}

/// A streamed upload the engine ended before its last block reached the application, so the
/// application can drop what it received (`EndpointEvent.uploadAbandoned`).
public struct AbandonedUpload<Peer: Hashable & Sendable>: Sendable {
    /// The peer uploading.
    public let peer: Peer
    /// The upload's last request delivered to the application, without payload (method, Uri-Path …).
    public let request: CoAPMessage
    /// Bytes the application was given (the offset the next block would have had).
    public let received: Int64
    public let reason: UploadAbandonment
}

/// Why the engine ended a streamed upload.
public enum UploadAbandonment: Sendable, Hashable {
    /// No block for EXCHANGE_LIFETIME.
    case expired
    /// A block out of sequence arrived (answered 4.08 Request Entity Incomplete).
    case outOfOrder
    /// The body grew beyond `Block1Streaming.maximumBodySize` (answered 4.13 with Size1).
    case tooLarge
}
