// Client role: sending requests, matching responses, Block1 sending and Block2 fetching.

extension CoAPEndpoint {
    /// Sends a request to `peer`. A payload larger than one block goes out with Block1; a
    /// response served with Block2 is fetched block by block and delivered whole as
    /// `.response(id, message)`. Failure arrives as `.requestFailed(id, reason)`.
    public mutating func send(_ request: CoAPRequest, to peer: Peer, at now: Instant) -> RequestID {
        let id = RequestID(rawValue: makeIdentifier())
        var exchange = ClientExchange(peer: peer, request: request, isPing: false)
        let szx = configuration.preferredBlockSZX
        if request.payload.count > 16 << Int(szx) {
            exchange.block1 = BlockValue(number: 0, more: true, szx: szx)
        }
        clientExchanges[id] = exchange
        guard request.payload.count <= min(configuration.maximumBodySize, (16 << Int(szx)) << 20) else {
            fail(id, .bodyTooLarge)
            return id
        }
        transmitNext(id, at: now)
        startWaitingRequests(at: now)
        return id
    }

    /// Sends a CoAP ping (an empty CON); answered by `.pong(id)` or `.requestFailed(id, .timeout)`.
    public mutating func ping(_ peer: Peer, at now: Instant) -> RequestID {
        let id = RequestID(rawValue: makeIdentifier())
        clientExchanges[id] = ClientExchange(peer: peer, request: CoAPRequest(.empty), isPing: true)
        transmitNext(id, at: now)
        startWaitingRequests(at: now)
        return id
    }

    /// Abandons a request: no event follows for it. Its retransmissions stop.
    public mutating func cancel(_ id: RequestID, at now: Instant) {
        guard let exchange = clientExchanges[id] else { return }
        stopRetransmitting(exchange)
        releaseSlot(id)
        if let token = clientExchanges.removeValue(forKey: id)?.token { requestsByToken[token] = nil }
        startWaitingRequests(at: now)
    }

    /// Requests sent and not finished yet.
    public var pendingRequestCount: Int { clientExchanges.count }

    // MARK: - Sending

    /// Sends the exchange's next message: the request, its next Block1 block, or the request
    /// for the next Block2 block. Waits for a free NSTART slot if the peer has none.
    mutating func transmitNext(_ id: RequestID, at now: Instant) {
        guard var exchange = clientExchanges[id] else { return }
        let confirmable = exchange.request.confirmable || exchange.isPing
        if confirmable, !exchange.holdsSlot {
            guard requestsInFlight[exchange.peer, default: 0] < configuration.transmission.nstart else {
                waitingForSlot[exchange.peer, default: FIFO()].append(id)
                return
            }
            requestsInFlight[exchange.peer, default: 0] += 1
            exchange.holdsSlot = true
        }
        requestsByToken[exchange.token] = nil

        var message: CoAPMessage
        if exchange.isPing {
            message = .empty(.confirmable, messageID: makeMessageID())
        } else {
            let request = exchange.request
            exchange.token = makeToken()
            requestsByToken[exchange.token] = id
            message = CoAPMessage(type: confirmable ? .confirmable : .nonConfirmable, code: request.method,
                                  messageID: makeMessageID(), token: exchange.token, options: request.options)
            if let block1 = exchange.block1 {
                let end = min(block1.offset + block1.size, request.payload.count)
                message.payload = Array(request.payload[block1.offset..<end])
                message.block1 = block1
                if block1.number == 0 { message.size1 = UInt32(request.payload.count) }
            } else if let block2 = exchange.block2 {
                message.block2 = block2
                message.removeOption(.observe)
                if request.method == .fetch { message.payload = request.payload }
            } else {
                message.payload = request.payload
                // Early negotiation (RFC 7959 §2.4): ask for small blocks from the first response.
                let szx = configuration.preferredBlockSZX
                if szx < 6, request.method == .get || request.method == .fetch, message.block2 == nil {
                    message.block2 = BlockValue(number: 0, more: false, szx: szx)
                }
            }
        }
        exchange.messageID = message.messageID
        clientExchanges[id] = exchange
        do {
            try transmit(message, to: exchange.peer, owner: .request(id), at: now)
        } catch {
            return fail(id, .encoding(error))
        }
        if !confirmable { awaitResponse(id, at: now) }
    }

    mutating func stopRetransmitting(_ exchange: ClientExchange) {
        if let messageID = exchange.messageID {
            transmissions[TransmissionKey(peer: exchange.peer, messageID: messageID)] = nil
        }
    }

    /// Arms the response time-out (after an empty ACK, or after sending a NON request).
    mutating func awaitResponse(_ id: RequestID, at now: Instant) {
        guard clientExchanges[id] != nil else { return }
        let generation = makeIdentifier()
        clientExchanges[id]!.deadlineGeneration = generation
        compactTimersIfNeeded()
        timers.schedule(.responseDeadline(id, generation: generation), at: now + configuration.effectiveResponseTimeout)
    }

    mutating func releaseSlot(_ id: RequestID) {
        guard let exchange = clientExchanges[id], exchange.holdsSlot else { return }
        clientExchanges[id]!.holdsSlot = false
        let peer = exchange.peer
        requestsInFlight[peer, default: 1] -= 1
        if requestsInFlight[peer] == 0 { requestsInFlight[peer] = nil }
        if waitingForSlot[peer] != nil { peersWithFreedSlot.append(peer) }
    }

    /// Starts requests that waited for an NSTART slot (run at the end of each entry point, so a
    /// slot is never handed over in the middle of processing a message).
    mutating func startWaitingRequests(at now: Instant) {
        while let peer = peersWithFreedSlot.popLast() {
            while requestsInFlight[peer, default: 0] < configuration.transmission.nstart,
                  let next = waitingForSlot[peer]?.popFirst() {
                if waitingForSlot[peer]?.isEmpty == true { waitingForSlot[peer] = nil }
                transmitNext(next, at: now)
            }
        }
    }

    /// Ends an exchange with `event`.
    mutating func finish(_ id: RequestID, with event: EndpointEvent<Peer>) {
        releaseSlot(id)
        if let exchange = clientExchanges.removeValue(forKey: id), !exchange.isPing {
            requestsByToken[exchange.token] = nil
        }
        events.append(event)
    }

    mutating func fail(_ id: RequestID, _ failure: RequestFailure) {
        finish(id, with: .requestFailed(id, failure))
    }

    // MARK: - Receiving responses

    /// A response that is not piggybacked: a separate CON/NON response.
    mutating func receiveSeparateResponse(_ message: CoAPMessage, from peer: Peer, at now: Instant) {
        let key = DuplicateCache<Peer>.Key(peer: peer, messageID: message.messageID)
        guard !replayIfDuplicate(key, at: now) else { return }
        if case .badCriticalOption = message.checkOptions(conditionalRequests: true) {
            // §5.4.1: a response with an unrecognised critical option is rejected (§4.2, §4.3).
            if message.type == .confirmable { sendEmpty(.reset, messageID: message.messageID, to: peer) }
            return
        }
        guard let id = requestsByToken[message.token], let exchange = clientExchanges[id], exchange.peer == peer else {
            // Not ours (any more): reject a CON with Reset (§4.2), ignore a NON.
            if message.type == .confirmable { sendEmpty(.reset, messageID: message.messageID, to: peer) }
            return
        }
        if message.type == .confirmable {
            let ack: [UInt8] = [0x60, 0, UInt8(message.messageID >> 8), UInt8(truncatingIfNeeded: message.messageID)]
            outgoing.append(OutgoingDatagram(peer: peer, bytes: ack))
            duplicates.insert(key, .answered(ack), expiry: now + exchangeLifetime)
        } else {
            duplicates.insert(key, .pending, expiry: now + nonLifetime)
        }
        // The response implies the request arrived (its ACK may have been lost).
        stopRetransmitting(exchange)
        releaseSlot(id)
        handleResponse(message, for: id, at: now)
    }

    /// Continues or completes an exchange with a response that matched it.
    mutating func handleResponse(_ message: CoAPMessage, for id: RequestID, at now: Instant) {
        guard var exchange = clientExchanges[id] else { return }
        exchange.deadlineGeneration = 0  // disarm the response time-out

        // Block1: the peer asks for the next block (2.31), or for smaller blocks (4.13).
        if let sent = exchange.block1 {
            let serverBlock = message.block1
            if message.code == .continue, sent.more {
                let szx = min(sent.szx, serverBlock?.szx ?? sent.szx)
                let nextOffset = sent.offset + sent.size
                let total = exchange.request.payload.count
                let size = 16 << Int(szx)
                guard nextOffset < total, nextOffset / size <= Int(BlockValue.maximumNumber) else {
                    clientExchanges[id] = exchange
                    return fail(id, .blockTransferFailed("peer asked for a block beyond the body"))
                }
                exchange.block1 = BlockValue(number: UInt32(nextOffset / size), more: nextOffset + size < total, szx: szx)
                clientExchanges[id] = exchange
                return transmitNext(id, at: now)
            }
            if message.code == .requestEntityTooLarge, let smaller = serverBlock?.szx, smaller < sent.szx,
               exchange.restarts < 3 {
                exchange.restarts += 1
                exchange.block1 = BlockValue(number: 0, more: true, szx: smaller)
                clientExchanges[id] = exchange
                return transmitNext(id, at: now)
            }
            exchange.block1 = nil
        }

        // Block2: collect the body and ask for the next block (unless the caller drives it).
        if !exchange.deliversSingleBlock, let block = message.block2, block.more || block.number > 0 || exchange.block2 != nil {
            if block.number == 0 || exchange.block2 == nil {
                exchange.body = []
                exchange.eTag = message.eTag
            }
            if message.eTag != exchange.eTag {
                // The representation changed mid-transfer: start again from block 0 (a few times).
                guard exchange.restarts < 3 else {
                    clientExchanges[id] = exchange
                    return fail(id, .blockTransferFailed("representation kept changing"))
                }
                exchange.restarts += 1
                exchange.body = []
                exchange.block2 = BlockValue(number: 0, more: false, szx: block.szx)
                clientExchanges[id] = exchange
                return transmitNext(id, at: now)
            }
            guard block.offset == exchange.body.count else {
                clientExchanges[id] = exchange
                return fail(id, .blockTransferFailed("expected offset \(exchange.body.count), got \(block.offset)"))
            }
            exchange.body.append(contentsOf: message.payload)
            guard exchange.body.count <= configuration.maximumBodySize else {
                clientExchanges[id] = exchange
                return fail(id, .bodyTooLarge)
            }
            if block.more {
                let szx = min(block.szx, configuration.preferredBlockSZX)
                guard exchange.body.count / (16 << Int(szx)) <= Int(BlockValue.maximumNumber) else {
                    clientExchanges[id] = exchange
                    return fail(id, .bodyTooLarge)
                }
                exchange.block2 = BlockValue(number: UInt32(exchange.body.count / (16 << Int(szx))), more: false, szx: szx)
                clientExchanges[id] = exchange
                return transmitNext(id, at: now)
            }
            var whole = message
            whole.payload = exchange.body
            whole.removeOption(.block2)
            clientExchanges[id] = exchange
            return finish(id, with: .response(id, whole))
        }
        clientExchanges[id] = exchange
        finish(id, with: .response(id, message))
    }
}
