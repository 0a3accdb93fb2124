/// Identifies one Block1 upload (server role) across its requests: the peer, the method and
/// the Uri-Host, Uri-Port, Uri-Path, Uri-Query and Accept options (RFC 7959 §2.5: the blocks of
/// one request body are requests to the same resource with the same method).
///
/// Unlike `ResourceKey` it never includes the payload: a FETCH body (RFC 8132) identifies the
/// request only once it is complete, and each Block1 block carries a different part of it. Nor
/// the token: RFC 7959 lets a client change the token from block to block.
struct UploadKey<Peer: Hashable>: Hashable {
    var peer: Peer
    var bytes: [UInt8]

    init(peer: Peer, request message: CoAPMessage) {
        self.peer = peer
        bytes = ResourceKey<Peer>.identifyingBytes(of: message)
    }
}

/// The Block1 request bodies being reassembled (server role), with how many there are and how
/// many bytes they hold, per peer and in total, so `CoAPEndpoint` can cap them
/// (`EndpointConfiguration.block1Limits`). Every change goes through this type so the counts
/// always match the table.
struct Block1Uploads<Peer: Hashable> {
    /// One upload in progress.
    struct Upload {
        var body: [UInt8]
        /// When it is forgotten unless its next block arrives (EXCHANGE_LIFETIME after the last).
        var expiry: Instant
    }

    /// Uploads in progress and bytes they hold.
    struct Usage: Equatable {
        var count = 0
        var bytes = 0
    }

    private var uploads: [UploadKey<Peer>: Upload] = [:]
    private var usageByPeer: [Peer: Usage] = [:]
    /// Over all peers.
    private(set) var total = Usage()

    /// Uploads in progress and bytes held for `peer`.
    func usage(of peer: Peer) -> Usage { usageByPeer[peer] ?? Usage() }

    /// The bytes received so far of the upload at `key`, if it is in progress and has not
    /// expired at `now`. (A count, not the upload: holding a copy of it would make the next
    /// append copy the whole body.)
    func received(_ key: UploadKey<Peer>, at now: Instant) -> Int? {
        guard let upload = uploads[key], upload.expiry > now else { return nil }
        return upload.body.count
    }

    /// Starts an upload with an empty body, replacing any earlier one at `key`.
    mutating func start(_ key: UploadKey<Peer>, expiry: Instant) {
        remove(key)
        uploads[key] = Upload(body: [], expiry: expiry)
        account(key.peer, count: 1, bytes: 0)
    }

    /// Appends `payload` to the upload at `key` and moves its expiry.
    mutating func append(_ payload: [UInt8], to key: UploadKey<Peer>, expiry: Instant) {
        guard uploads[key] != nil else { return }
        uploads[key]!.body.append(contentsOf: payload)  // in place: no copy of the body
        uploads[key]!.expiry = expiry
        account(key.peer, count: 0, bytes: payload.count)
    }

    /// Removes the upload at `key` and returns it.
    @discardableResult
    mutating func remove(_ key: UploadKey<Peer>) -> Upload? {
        guard let upload = uploads.removeValue(forKey: key) else { return nil }
        account(key.peer, count: -1, bytes: -upload.body.count)
        return upload
    }

    /// Forgets every upload whose expiry is not after `now`.
    mutating func expire(at now: Instant) {
        for (key, upload) in uploads where upload.expiry <= now { remove(key) }
    }

    /// The earliest expiry among the uploads of `peer` (of all peers when `nil`).
    func earliestExpiry(of peer: Peer? = nil) -> Instant? {
        var earliest: Instant? = nil
        for (key, upload) in uploads where peer == nil || key.peer == peer {
            if earliest.map({ upload.expiry < $0 }) ?? true { earliest = upload.expiry }
        }
        return earliest
    }

    private mutating func account(_ peer: Peer, count: Int, bytes: Int) {
        var usage = usageByPeer[peer] ?? Usage()
        usage.count += count
        usage.bytes += bytes
        usageByPeer[peer] = usage.count == 0 ? nil : usage
        total.count += count
        total.bytes += bytes
    }
}
