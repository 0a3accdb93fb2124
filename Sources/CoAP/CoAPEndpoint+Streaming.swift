// Server role: Block1 uploads streamed to the application block by block
// (`EndpointConfiguration.block1Streaming`; RFC 7959 §2.3, §2.5, §2.9).

extension CoAPEndpoint {
    /// Streamed Block1 uploads in progress (`EndpointConfiguration.block1Streaming`).
    public var streamedUploadCount: Int { streams.count }

    /// Handles one block of a request whose body streams. Returns false when the request is a
    /// body in one block (block 0 without the M bit): it then goes the ordinary way, whole (an
    /// upload in progress at the same key is replaced by it, as a new block 0 restarts one).
    mutating func receiveStreamedBlock(_ message: CoAPMessage, _ block: BlockValue, from peer: Peer,
                                       at now: Instant) -> Bool {
        let key = UploadKey(peer: peer, request: message)
        let settings = configuration.block1Streaming
        let limit = settings.maximumBodySize
        let lifetime = exchangeLifetime
        // An expired upload is gone even if the expiry timer has not fired yet.
        if let upload = streams[key], upload.expiry <= now { abandon(key, .expired) }
        if let announced = message.size1, Int64(announced) > limit {
            abandon(key, .tooLarge)
            answer(message, from: peer, tooLarge(limit), at: now)
            return true
        }
        if block.number == 0 {
            guard block.more else {
                streams.remove(key)
                return false
            }
            if streams[key] == nil, let refusal = streamRefusal(key, at: now) {
                answer(message, from: peer, refusal, at: now)
                return true
            }
            // A new block 0 restarts the upload (§2.5); the application sees offset 0.
            streams.start(key, .init(generation: makeIdentifier(), nextOffset: 0, expiry: now + lifetime,
                                     request: message.withoutPayload, pending: nil, accepted: nil))
        }
        guard let upload = streams[key] else {
            answer(message, from: peer, .error(.requestEntityIncomplete, "no upload in progress: start at block 0"), at: now)
            return true
        }
        let offset = Int64(block.number) * Int64(block.size)
        if upload.pending != nil {
            // The application is still answering a block. A repeat of it (a new message ID) is
            // dropped: its answer will come. Anything else is out of sequence.
            if upload.request.block1?.number == block.number, block.number > 0 { return true }
            return refuseOutOfOrder(key, message, from: peer, expected: upload.nextOffset, at: now)
        }
        if let accepted = upload.accepted, accepted.number == block.number, block.more,
           offset + Int64(block.size) == upload.nextOffset {
            // A repeat of the block already accepted (its 2.31 was lost): the same answer again.
            answer(message, from: peer, CoAPResponse(.continue, options: [CoAPOption(.block1, uint: accepted.rawValue)]),
                   at: now)
            return true
        }
        guard offset == upload.nextOffset, !block.more || message.payload.count == block.size else {
            return refuseOutOfOrder(key, message, from: peer, expected: upload.nextOffset, at: now)
        }
        // Compared by subtraction: no overflow whatever the configured limit.
        guard Int64(message.payload.count) <= limit - offset else {
            abandon(key, .tooLarge)
            answer(message, from: peer, tooLarge(limit), at: now)
            return true
        }
        let id = ExchangeID(rawValue: makeIdentifier())
        if block.more {
            streams.update(key) {
                $0.nextOffset = offset + Int64(message.payload.count)
                $0.pending = id
                $0.request = message.withoutPayload
                $0.expiry = now + lifetime
            }
            scheduleCacheExpiry(at: now + lifetime)
        } else {
            streams.remove(key)  // the last block: the application gives the final response
        }
        exchanges[id] = ServerExchange(peer: peer, request: message, observe: nil, block1: block,
                                       stream: block.more ? StreamRef(key: key, generation: upload.generation) : nil)
        events.append(.request(IncomingRequest(exchange: id, peer: peer, message: message, observe: nil,
                                               streamedBlock: StreamedBlock(block: block, offset: offset))))
        return true
    }

    /// The application answered a streamed block that was not the last: 2.31 Continue lets the
    /// upload go on; anything else ends it (the application's decision: no event).
    mutating func streamedBlockAnswered(_ stream: StreamRef, exchange id: ExchangeID, continuing: BlockValue?,
                                        at now: Instant) {
        guard let upload = streams[stream.key], upload.generation == stream.generation, upload.pending == id else { return }
        guard let continuing else {
            streams.remove(stream.key)
            return
        }
        let lifetime = exchangeLifetime
        streams.update(stream.key) {
            $0.pending = nil
            $0.accepted = continuing
            $0.expiry = now + lifetime
        }
        scheduleCacheExpiry(at: now + lifetime)
    }

    /// Forgets the upload at `key`, telling the application (if there was one).
    mutating func abandon(_ key: UploadKey<Peer>, _ reason: UploadAbandonment) {
        guard let upload = streams.remove(key) else { return }
        events.append(.uploadAbandoned(AbandonedUpload(peer: key.peer, request: upload.request,
                                                       received: upload.nextOffset, reason: reason)))
    }

    /// Forgets the expired streamed uploads, telling the application.
    mutating func expireStreams(at now: Instant) {
        for (key, upload) in streams.expire(at: now) {
            events.append(.uploadAbandoned(AbandonedUpload(peer: key.peer, request: upload.request,
                                                           received: upload.nextOffset, reason: .expired)))
        }
    }

    private mutating func refuseOutOfOrder(_ key: UploadKey<Peer>, _ message: CoAPMessage, from peer: Peer,
                                           expected: Int64, at now: Instant) -> Bool {
        abandon(key, .outOfOrder)
        answer(message, from: peer, .error(.requestEntityIncomplete, "expected the block at offset \(expected)"), at: now)
        return true
    }

    private func tooLarge(_ limit: Int64) -> CoAPResponse {
        CoAPResponse(.requestEntityTooLarge, options: [CoAPOption(.size1, uint: UInt32(clamping: limit))],
                     payload: Array("request body larger than \(limit) bytes".utf8))
    }

    /// Why a new streamed upload at `key` cannot start now: 5.03 Service Unavailable with a
    /// Max-Age (RFC 7252 §5.9.3.4) of the seconds until the upload in its way expires; `nil`
    /// when it may start. One upload per resource at a time: another peer's upload to the same
    /// resource is never broken by a newcomer.
    private func streamRefusal(_ key: UploadKey<Peer>, at now: Instant) -> CoAPResponse? {
        let settings = configuration.block1Streaming
        let reason: String
        let expiry: Instant?
        if let other = streams.other(than: key) {
            (reason, expiry) = ("another peer's upload to this resource is in progress", other.expiry)
        } else if streams.count(of: key.peer) >= settings.uploadsPerPeer {
            (reason, expiry) = ("\(streams.count(of: key.peer)) uploads in progress from this peer",
                                streams.earliestExpiry(of: key.peer))
        } else if streams.count >= settings.uploads {
            (reason, expiry) = ("\(streams.count) uploads in progress", streams.earliestExpiry())
        } else {
            return nil
        }
        let lifetime = exchangeLifetime
        let wait = (expiry ?? now + lifetime) - now
        let seconds = max(1, min(wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0),
                                 lifetime.components.seconds + 1))
        return CoAPResponse(.serviceUnavailable, options: [CoAPOption(.maxAge, uint: UInt32(clamping: seconds))],
                            payload: Array("no room for another upload (\(reason)): retry later".utf8))
    }
}

extension CoAPMessage {
    /// The message without its payload (the options identify the request).
    var withoutPayload: CoAPMessage {
        var copy = self
        copy.payload = []
        return copy
    }
}
