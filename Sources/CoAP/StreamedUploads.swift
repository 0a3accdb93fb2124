/// The streamed Block1 uploads in progress (server role, `EndpointConfiguration.block1Streaming`),
/// with their count per peer, so `CoAPEndpoint` can cap them. They hold no body: where the
/// next block must start, which block the application is answering, and the last block it
/// accepted (to answer a repeat of it again).
struct StreamedUploads<Peer: Hashable & Sendable> {
    /// One upload in progress.
    struct Upload {
        /// Distinguishes this upload from an earlier one at the same key (a restart).
        var generation: Int
        /// The offset the next block must have.
        var nextOffset: Int64
        /// When it is forgotten unless its next block arrives (EXCHANGE_LIFETIME after the last).
        var expiry: Instant
        /// The last block delivered, without payload (to report an abandonment).
        var request: CoAPMessage
        /// The exchange of the block the application has not answered yet.
        var pending: ExchangeID?
        /// The last block the application answered 2.31, as that answer's Block1 value.
        var accepted: BlockValue?
    }

    private(set) var uploads: [UploadKey<Peer>: Upload] = [:]
    private var countByPeer: [Peer: Int] = [:]

    /// Uploads in progress over all peers.
    var count: Int { uploads.count }

    /// Uploads in progress from `peer`.
    func count(of peer: Peer) -> Int { countByPeer[peer] ?? 0 }

    subscript(key: UploadKey<Peer>) -> Upload? {
        get { uploads[key] }
    }

    /// Starts (or restarts) the upload at `key`.
    mutating func start(_ key: UploadKey<Peer>, _ upload: Upload) {
        if uploads.updateValue(upload, forKey: key) == nil { countByPeer[key.peer, default: 0] += 1 }
    }

    /// Changes the upload at `key`, if it is in progress.
    mutating func update(_ key: UploadKey<Peer>, _ change: (inout Upload) -> Void) {
        guard uploads[key] != nil else { return }
        change(&uploads[key]!)
    }

    /// Removes the upload at `key` and returns it.
    @discardableResult
    mutating func remove(_ key: UploadKey<Peer>) -> Upload? {
        guard let upload = uploads.removeValue(forKey: key) else { return nil }
        let left = (countByPeer[key.peer] ?? 1) - 1
        countByPeer[key.peer] = left > 0 ? left : nil
        return upload
    }

    /// Removes and returns every upload whose expiry is not after `now`.
    mutating func expire(at now: Instant) -> [(key: UploadKey<Peer>, upload: Upload)] {
        var expired: [(key: UploadKey<Peer>, upload: Upload)] = []
        for (key, upload) in uploads where upload.expiry <= now {
            remove(key)
            expired.append((key, upload))
        }
        return expired
    }

    /// The upload of another peer than `key`'s to the same resource (same method and options).
    func other(than key: UploadKey<Peer>) -> Upload? {
        uploads.first { $0.key.bytes == key.bytes && $0.key.peer != key.peer }?.value
    }

    /// The earliest expiry among the uploads of `peer` (of all peers when `nil`).
    func earliestExpiry(of peer: Peer? = nil) -> Instant? {
        var earliest: Instant? = nil
        for (key, upload) in uploads where peer == nil || key.peer == peer {
            if earliest.map({ upload.expiry < $0 }) ?? true { earliest = upload.expiry }
        }
        return earliest
    }
}
