// Server role: receiving requests, answering them, Block1 reassembly and Block2 serving.

extension CoAPEndpoint {
    /// Answers a request received as `.request(_)`. A CON request that has not been
    /// acknowledged yet gets a piggybacked response; after `acknowledgeLater` the response goes
    /// out as a separate CON. A body larger than one block is served with Block2.
    ///
    /// For a GET/FETCH with Observe = 0, pass `acceptObservation: true` to register the
    /// observation with a 2.05/2.03 response; its ID is returned and `notify` sends later
    /// notifications. Otherwise the response carries no Observe option, which tells the client it
    /// is not registered (RFC 7641 §3.1): a resource that never changes must not accept.
    @discardableResult
    public mutating func respond(
        to id: ExchangeID, with response: CoAPResponse, acceptObservation: Bool = false, at now: Instant
    ) -> ObservationID? {
        guard let exchange = exchanges.removeValue(forKey: id) else { return nil }
        let request = exchange.request
        let peer = exchange.peer
        var message = CoAPMessage(type: .acknowledgement, code: response.code, token: request.token)
        message.options = response.options
        message.payload = response.payload

        if let block1 = exchange.block1 {
            message.block1 = BlockValue(number: block1.number, more: false, szx: block1.szx)
        }
        if let stream = exchange.stream {
            // A block of a streamed upload: 2.31 asks for the next one (at our block size).
            var continuing: BlockValue? = nil
            if response.code == .continue, let block1 = exchange.block1 {
                continuing = BlockValue(number: block1.number, more: true,
                                        szx: min(block1.szx, configuration.preferredBlockSZX))
                message.block1 = continuing
            }
            streamedBlockAnswered(stream, exchange: id, continuing: continuing, at: now)
        }
        sliceForBlock2(&message, requested: request.block2, request: request, peer: peer, at: now)

        var observation: ObservationID? = nil
        if exchange.observe == .register, acceptObservation,
           message.code == .content || message.code == .valid {
            let key = PeerToken(peer: peer, token: request.token)
            // A new registration on the same token continues its sequence numbers (RFC 7641 §3.4).
            var sequence: UInt32 = 0
            if let previous = observationsByToken[key] {
                sequence = ((observations[previous]?.sequence ?? 0) + 1) & 0xFF_FFFF
                endObservation(previous, .replaced)
            }
            let newID = ObservationID(rawValue: makeIdentifier())
            observations[newID] = Observation(
                peer: peer, token: request.token, request: request, sequence: sequence, lastConfirmable: now)
            observationsByToken[key] = newID
            message.observe = sequence
            observation = newID
        }

        do {
            if request.type == .confirmable, !exchange.acknowledged {
                message.messageID = request.messageID
                let bytes = try transmit(message, to: peer, owner: nil, at: now)
                duplicates.setAnswer(bytes, for: .init(peer: peer, messageID: request.messageID))
            } else {
                message.type = request.type == .confirmable ? .confirmable : .nonConfirmable
                message.messageID = makeMessageID()
                try transmit(message, to: peer, owner: .separateResponse, at: now)
            }
        } catch {
            if let observation { endObservation(observation, .cancelled) }
            return respondWithEncodingFailure(exchange, at: now)
        }
        return observation
    }

    /// Sends an empty ACK now and promises a separate response (RFC 7252 §5.2.2): use it when
    /// the answer will take longer than the peer's ACK timeout. No-op for NON requests.
    public mutating func acknowledgeLater(_ id: ExchangeID) {
        guard var exchange = exchanges[id], exchange.request.type == .confirmable, !exchange.acknowledged else { return }
        exchange.acknowledged = true
        exchanges[id] = exchange
        sendEmpty(.acknowledgement, messageID: exchange.request.messageID, to: exchange.peer)
        let ack: [UInt8] = [0x60, 0, UInt8(exchange.request.messageID >> 8),
                            UInt8(truncatingIfNeeded: exchange.request.messageID)]
        duplicates.setAnswer(ack, for: .init(peer: exchange.peer, messageID: exchange.request.messageID))
    }

    /// Requests received and not answered yet.
    public var pendingExchangeCount: Int { exchanges.count }

    private mutating func respondWithEncodingFailure(_ exchange: ServerExchange, at now: Instant) -> ObservationID? {
        let id = ExchangeID(rawValue: makeIdentifier())
        exchanges[id] = ServerExchange(peer: exchange.peer, request: exchange.request, observe: nil, block1: nil,
                                       acknowledged: exchange.acknowledged)
        respond(to: id, with: .error(.internalServerError, "response cannot be encoded"), at: now)
        return nil
    }

    // MARK: - Receiving

    mutating func receiveRequest(_ message: CoAPMessage, from peer: Peer, at now: Instant) {
        let key = DuplicateCache<Peer>.Key(peer: peer, messageID: message.messageID)
        guard !replayIfDuplicate(key, at: now) else { return }
        let lifetime = message.type == .confirmable ? exchangeLifetime : nonLifetime
        duplicates.insert(key, .pending, expiry: now + lifetime)

        guard message.code.detail <= CoAPCode.iPatch.detail else {
            return answer(message, from: peer, .error(.methodNotAllowed, "unknown method \(message.code)"), at: now)
        }
        switch message.checkOptions(conditionalRequests: configuration.supportsConditionalRequests) {
        case .acceptable:
            break
        case .badCriticalOption(let number):
            // §5.4.1: 4.02 for a CON request; a NON message is silently ignored.
            guard message.type == .confirmable else { return }
            return answer(message, from: peer, .error(.badOption, "unrecognized critical option \(number.rawValue)"), at: now)
        case .reservedBlockSize(let number):
            return answer(message, from: peer, .error(.badRequest, "reserved block size (SZX 7) in \(number)"), at: now)
        case .proxyRequested:
            return answer(message, from: peer, .error(.proxyingNotSupported, "not a proxy"), at: now)
        }

        var observe: ObserveAction? = nil
        if message.code == .get || message.code == .fetch, let value = message.observe,
           message.firstValue(.observe)!.count <= 3 {
            observe = value == 0 ? .register : value == 1 ? .deregister : nil
        }
        if observe == .deregister,
           let id = observationsByToken[PeerToken(peer: peer, token: message.token)] {
            endObservation(id, .deregistered)
        }

        var request = message
        var lastBlock1: BlockValue? = nil
        if let block1 = message.block1, configuration.block1Streaming.streams(message),
           receiveStreamedBlock(message, block1, from: peer, at: now) {
            return
        }
        if let block1 = message.block1 {
            guard let body = reassembleBlock1(message, block1, from: peer, at: now) else { return }
            request.payload = body
            lastBlock1 = block1
        }

        // A later block of a cached representation, looked up with the whole request body (a FETCH
        // sent with Block1 again, its last block asking for Block2 block n: RFC 7959 §2.7).
        let id = ExchangeID(rawValue: makeIdentifier())
        exchanges[id] = ServerExchange(peer: peer, request: request, observe: observe, block1: lastBlock1)
        if observe != .register, let block2 = message.block2, block2.number > 0,
           let cached = representations[ResourceKey(peer: peer, request: request)], cached.expiry > now {
            var response = CoAPResponse(cached.code, options: cached.options, payload: cached.body)
            response.options.removeAll { $0.number == .observe }
            respond(to: id, with: response, at: now)
            return
        }
        events.append(.request(IncomingRequest(exchange: id, peer: peer, message: request, observe: observe)))
    }

    /// Answers a request directly, without involving the application.
    mutating func answer(_ request: CoAPMessage, from peer: Peer, _ response: CoAPResponse, at now: Instant) {
        let id = ExchangeID(rawValue: makeIdentifier())
        exchanges[id] = ServerExchange(peer: peer, request: request, observe: nil, block1: nil)
        respond(to: id, with: response, at: now)
    }

    /// Adds one Block1 block to its upload (RFC 7959 §2.5). Returns the whole body when `block`
    /// is the last one; otherwise answers 2.31 Continue, or refuses the block itself: 4.08 for a
    /// block out of sequence, 4.13 for a body over the limit, 5.03 (new upload) or 4.13 (upload
    /// in progress) when the caps of `EndpointConfiguration.block1Limits` leave no room.
    private mutating func reassembleBlock1(
        _ message: CoAPMessage, _ block: BlockValue, from peer: Peer, at now: Instant
    ) -> [UInt8]? {
        let key = UploadKey(peer: peer, request: message)
        let caps = configuration.block1Limits
        // No body can be larger than what one peer's uploads may hold.
        let limit = min(configuration.maximumBodySize, caps.bytesPerPeer, caps.bytes)
        let tooLarge = CoAPResponse(.requestEntityTooLarge, options: [CoAPOption(.size1, uint: UInt32(clamping: limit))],
                                    payload: Array("request body larger than \(limit) bytes".utf8))
        if let announced = message.size1, announced > limit {
            uploads.remove(key)
            answer(message, from: peer, tooLarge, at: now)
            return nil
        }
        let lifetime = exchangeLifetime
        if block.number == 0 {
            // A new block 0 restarts the upload (§2.5).
            uploads.remove(key)
            if !block.more {
                // A body in one block is never stored: it goes to the application at once.
                guard message.payload.count <= limit else {
                    answer(message, from: peer, tooLarge, at: now)
                    return nil
                }
                return message.payload
            }
            let known = max(Int(clamping: message.size1 ?? 0), message.payload.count)
            if let refusal = block1Refusal(for: peer, size: known, at: now) {
                answer(message, from: peer, refusal, at: now)
                return nil
            }
            uploads.start(key, expiry: now + lifetime)
        }
        // An expired upload is gone even if the expiry timer has not fired yet.
        guard let received = uploads.received(key, at: now), block.offset == received,
              !block.more || message.payload.count == block.size else {
            let expected = uploads.remove(key)?.body.count ?? 0
            answer(message, from: peer, .error(.requestEntityIncomplete, "expected the block at offset \(expected)"), at: now)
            return nil
        }
        // Bounds are compared by subtraction (what is held never exceeds them): no overflow on
        // 32-bit targets whatever the configured limits.
        guard message.payload.count <= limit - received else {
            uploads.remove(key)
            answer(message, from: peer, tooLarge, at: now)
            return nil
        }
        // Room for this block in the byte budgets (the upload's own bytes count already).
        let peerFits = message.payload.count <= caps.bytesPerPeer - uploads.usage(of: peer).bytes
        let totalFits = message.payload.count <= caps.bytes - uploads.total.bytes
        guard peerFits, totalFits else {
            uploads.remove(key)
            let which = peerFits ? "all" : "this peer's"
            answer(message, from: peer, .error(.requestEntityTooLarge,
                                               "no room for more of this request body now (\(which) uploads in progress hold too much)"),
                   at: now)
            return nil
        }
        guard block.more else {
            var body = uploads.remove(key)?.body ?? []
            body.append(contentsOf: message.payload)
            return body
        }
        uploads.append(message.payload, to: key, expiry: now + lifetime)
        scheduleCacheExpiry(at: now + lifetime)
        let szx = min(block.szx, configuration.preferredBlockSZX)
        var response = CoAPResponse(.continue)
        response.options = [CoAPOption(.block1, uint: BlockValue(number: block.number, more: true, szx: szx).rawValue)]
        answer(message, from: peer, response, at: now)
        return nil
    }

    /// Why a new upload from `peer` whose first `size` bytes are known cannot start now, as the
    /// response to send: 5.03 Service Unavailable with a Max-Age (RFC 7252 §5.9.3.4) of the
    /// seconds until an upload in its way expires. `nil` when it fits within every cap.
    private func block1Refusal(for peer: Peer, size: Int, at now: Instant) -> CoAPResponse? {
        let caps = configuration.block1Limits
        let mine = uploads.usage(of: peer)
        let reason: String
        let blocking: Peer?  // whose uploads must expire to make room (nil: anyone's)
        if mine.count >= caps.uploadsPerPeer {
            (reason, blocking) = ("\(mine.count) uploads in progress from this peer", peer)
        } else if size > caps.bytesPerPeer - mine.bytes {
            (reason, blocking) = ("this peer's uploads in progress hold \(mine.bytes) bytes", peer)
        } else if uploads.total.count >= caps.uploads {
            (reason, blocking) = ("\(uploads.total.count) uploads in progress", nil)
        } else if size > caps.bytes - uploads.total.bytes {
            (reason, blocking) = ("uploads in progress hold \(uploads.total.bytes) bytes", nil)
        } else {
            return nil
        }
        let lifetime = exchangeLifetime
        let wait = (uploads.earliestExpiry(of: blocking) ?? now + lifetime) - now
        let seconds = max(1, min(wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0),
                                 lifetime.components.seconds + 1))
        return CoAPResponse(.serviceUnavailable, options: [CoAPOption(.maxAge, uint: UInt32(clamping: seconds))],
                            payload: Array("no room for another upload (\(reason)): retry later".utf8))
    }

    /// Cuts a response body larger than one block into Block2 blocks (RFC 7959 §2.4) and keeps
    /// the whole body for the peer's later block requests.
    mutating func sliceForBlock2(
        _ message: inout CoAPMessage, requested: BlockValue?, request: CoAPMessage, peer: Peer, at now: Instant
    ) {
        guard message.code.isSuccess else { return }  // errors are never split
        let szx = min(requested?.szx ?? configuration.preferredBlockSZX, configuration.preferredBlockSZX)
        let size = 16 << Int(szx)
        let body = message.payload
        let offset = requested?.offset ?? 0
        if offset == 0, body.count <= size {
            if requested != nil { message.block2 = BlockValue(number: 0, more: false, szx: szx) }
            return
        }
        guard offset < body.count else {
            message = CoAPMessage(type: message.type, code: .badOption, messageID: message.messageID,
                                  token: message.token, payload: Array("block beyond end of representation".utf8))
            return
        }
        guard offset / size <= Int(BlockValue.maximumNumber) else {
            message = CoAPMessage(type: message.type, code: .requestEntityTooLarge, messageID: message.messageID,
                                  token: message.token, payload: Array("block number beyond 2^20".utf8))
            return
        }
        if message.eTag == nil { message.eTag = fnv1a32(body) }
        let end = min(offset + size, body.count)
        message.payload = Array(body[offset..<end])
        message.block2 = BlockValue(number: UInt32(offset / size), more: end < body.count, szx: szx)
        if offset == 0 || request.size2 != nil { message.size2 = UInt32(body.count) }

        guard end < body.count else { return }
        var options = message.options
        options.removeAll { $0.number == .block2 || $0.number == .size2 || $0.number == .observe || $0.number == .block1 }
        let key = ResourceKey(peer: peer, request: request)
        if representations[key] == nil, representations.count >= configuration.blockCacheCapacity,
           let oldest = representations.min(by: { $0.value.expiry < $1.value.expiry })?.key {
            representations[oldest] = nil
        }
        let lifetime = exchangeLifetime
        representations[key] = CachedRepresentation(code: message.code, options: options, body: body, expiry: now + lifetime)
        scheduleCacheExpiry(at: now + lifetime)
    }
}
