/// A sans-IO CoAP endpoint (RFC 7252, 7959, 7641) for both roles at once: it serves requests
/// from peers and sends requests of its own, over one message layer.
///
/// The endpoint never touches a socket or a clock. The outer layer feeds it datagrams with
/// `receive(_:from:at:)` and the passing of time with `advance(to:)`, then drains
/// `nextDatagram()` (what to send) and `nextEvent()` (what the application must handle), and
/// sleeps until `nextDeadline`. Everything is deterministic for a given seed and input, so
/// retransmission, deduplication and block-wise transfers are testable with a virtual clock.
///
/// Message layer: CON/NON/ACK/RST, message IDs and tokens, retransmission with exponential
/// back-off and jitter, NSTART, duplicate detection that replays the cached answer, piggybacked
/// and separate responses, CoAP ping. Above it: Block1/Block2 in both roles, and Observe
/// (server role).
public struct CoAPEndpoint<Peer: Hashable & Sendable> {
    public let configuration: EndpointConfiguration

    var random: SplitMix64
    var lastMessageID: UInt16
    var lastIdentifier = 0

    // Output queues drained by the outer layer.
    var outgoing = FIFO<OutgoingDatagram<Peer>>()
    var events = FIFO<EndpointEvent<Peer>>()
    var timers = TimerQueue<TimerPayload>()
    /// The heap size at which the next new timer first drops the dead entries (see
    /// `compactTimersIfNeeded`).
    var timerCompactionThreshold = 64

    // Message layer.
    var duplicates: DuplicateCache<Peer>
    /// EXCHANGE_LIFETIME and NON_LIFETIME of `configuration.transmission`, derived once: each is
    /// `Duration` arithmetic with a `Double` factor (128-bit integer work), and every received
    /// request needs one.
    let exchangeLifetime: Duration
    let nonLifetime: Duration
    var transmissions: [TransmissionKey: Transmission] = [:]

    // Server role.
    var exchanges: [ExchangeID: ServerExchange] = [:]
    var uploads = Block1Uploads<Peer>()
    var streams = StreamedUploads<Peer>()
    var representations: [ResourceKey<Peer>: CachedRepresentation] = [:]
    /// When the pending `.expireCaches` timer fires (nil: none pending).
    var cacheExpiryDeadline: Instant?
    var observations: [ObservationID: Observation] = [:]
    var observationsByToken: [PeerToken: ObservationID] = [:]

    // Client role.
    var clientExchanges: [RequestID: ClientExchange] = [:]
    var requestsByToken: [Token: RequestID] = [:]
    var requestsInFlight: [Peer: Int] = [:]
    var waitingForSlot: [Peer: FIFO<RequestID>] = [:]
    /// Peers whose NSTART slot was freed while requests wait for it.
    var peersWithFreedSlot: [Peer] = []

    /// Creates an endpoint. `seed` drives message IDs, tokens and jitter: pass a secure random
    /// value in production, a constant in tests.
    public init(configuration: EndpointConfiguration = EndpointConfiguration(), seed: UInt64) {
        self.configuration = configuration
        random = SplitMix64(seed: seed)
        lastMessageID = UInt16(truncatingIfNeeded: random.next())
        duplicates = DuplicateCache(capacity: configuration.duplicateCacheCapacity)
        exchangeLifetime = configuration.transmission.exchangeLifetime
        nonLifetime = configuration.transmission.nonLifetime
    }

    // MARK: - Output

    /// The next datagram to send, if any.
    public mutating func nextDatagram() -> OutgoingDatagram<Peer>? { outgoing.popFirst() }

    /// Hands every pending datagram to `send`, in order (one access to the endpoint for all).
    public mutating func drainDatagrams(_ send: (OutgoingDatagram<Peer>) -> Void) {
        while let datagram = outgoing.popFirst() { send(datagram) }
    }

    /// The next event for the application, if any.
    public mutating func nextEvent() -> EndpointEvent<Peer>? { events.popFirst() }

    /// When `advance(to:)` must be called next; `nil` when no timer is pending.
    /// (May be slightly early after a cancellation; an early call is harmless.)
    public var nextDeadline: Instant? { timers.earliest }

    // MARK: - Input

    /// Processes one received datagram.
    public mutating func receive(_ datagram: [UInt8], from peer: Peer, at now: Instant) {
        datagram.withUnsafeBytes { receive($0, from: peer, at: now) }
    }

    /// Processes one received datagram read straight from a receive buffer (no intermediate copy).
    public mutating func receive(_ datagram: UnsafeRawBufferPointer, from peer: Peer, at now: Instant) {
        defer { removeDeadEarliestTimers() }
        let message: CoAPMessage
        do {
            message = try CoAPMessage(decoding: datagram)
        } catch {
            events.append(.malformedDatagram(peer, error))
            // RFC 7252 §4.2: a malformed CON is rejected with a Reset; anything else is dropped.
            if let header = MessageHeader(peeking: datagram), header.version == 1, header.type == .confirmable {
                sendEmpty(.reset, messageID: header.messageID, to: peer)
            }
            return
        }
        switch message.type {
        case .confirmable, .nonConfirmable:
            if message.isEmpty {
                // CoAP ping (§4.3): an empty CON is answered with a Reset; an empty NON is ignored.
                if message.type == .confirmable { sendEmpty(.reset, messageID: message.messageID, to: peer) }
                return
            }
            if message.code.isRequest {
                receiveRequest(message, from: peer, at: now)
            } else {
                receiveSeparateResponse(message, from: peer, at: now)
            }
            startWaitingRequests(at: now)
        case .acknowledgement:
            if message.code.isRequest { return }  // format error in an ACK: silently ignored
            receiveAcknowledgement(message, from: peer, at: now)
            startWaitingRequests(at: now)
        case .reset:
            guard message.isEmpty else { return }
            receiveReset(messageID: message.messageID, from: peer)
            startWaitingRequests(at: now)
        }
    }

    /// Fires every timer due at `now`: retransmissions, response time-outs, cache expiry.
    public mutating func advance(to now: Instant) {
        while let payload = timers.popDue(at: now) {
            switch payload {
            case .retransmit(let key, let generation):
                retransmit(key, generation: generation, at: now)
            case .responseDeadline(let id, let generation):
                if let exchange = clientExchanges[id], exchange.deadlineGeneration == generation {
                    fail(id, .timeout)
                }
            case .expireCaches:
                expireCaches(at: now)
            }
        }
        startWaitingRequests(at: now)
    }

    // MARK: - Identifiers

    mutating func makeMessageID() -> UInt16 {
        lastMessageID &+= 1
        return lastMessageID
    }

    mutating func makeIdentifier() -> Int {
        lastIdentifier += 1
        return lastIdentifier
    }

    /// A fresh random token not used by any of our outstanding requests.
    mutating func makeToken() -> Token {
        while true {
            let token = Token(value: random.next(), count: min(max(configuration.tokenLength, 1), 8))
            if requestsByToken[token] == nil { return token }
        }
    }
}

// MARK: - Internal state types

extension CoAPEndpoint {
    struct TransmissionKey: Hashable {
        var peer: Peer
        var messageID: UInt16
    }

    struct PeerToken: Hashable {
        var peer: Peer
        var token: Token
    }

    enum TimerPayload {
        case retransmit(TransmissionKey, generation: Int)
        case responseDeadline(RequestID, generation: Int)
        case expireCaches
    }

    /// What a confirmable message we sent belongs to.
    enum TransmissionOwner {
        case request(RequestID)
        case separateResponse
        case notification(ObservationID)
    }

    /// A confirmable message awaiting its ACK.
    struct Transmission {
        var datagram: [UInt8]
        var owner: TransmissionOwner
        var retransmissions: Int
        var timeout: Duration
        var deadline: Instant
        var generation: Int
    }

    /// A request we received and the application has not answered yet.
    struct ServerExchange {
        let peer: Peer
        let request: CoAPMessage
        let observe: ObserveAction?
        /// The last block of a Block1 transfer, echoed in the final response (or the block of
        /// a streamed upload, echoed in its answer).
        let block1: BlockValue?
        /// The streamed upload this block (not the last) belongs to.
        var stream: StreamRef? = nil
        /// A separate response was promised by an empty ACK.
        var acknowledged = false
    }

    /// A streamed upload as one of its blocks' exchanges names it.
    struct StreamRef {
        var key: UploadKey<Peer>
        var generation: Int
    }

    /// An observation a peer registered with us.
    struct Observation {
        let peer: Peer
        let token: Token
        let request: CoAPMessage
        var sequence: UInt32
        var lastConfirmable: Instant
        /// The confirmable notification awaiting its ACK, if any.
        var inFlightMessageID: UInt16?
        /// The most recent notification's message ID (to match a Reset to a NON notification).
        var lastMessageID: UInt16?
    }

    /// A request we sent, through all the messages of its block-wise transfer.
    struct ClientExchange {
        let peer: Peer
        let request: CoAPRequest
        let isPing: Bool
        var token: Token = .empty
        /// The latest message sent for this exchange (a CON awaiting its ACK, or a NON).
        var messageID: UInt16?
        /// The Block1 block to send next (or in flight).
        var block1: BlockValue?
        /// The Block2 block to ask for next; `nil` before the first response.
        var block2: BlockValue?
        /// Block2 body reassembled so far.
        var body: [UInt8] = []
        var eTag: [UInt8]?
        var restarts = 0
        var deadlineGeneration = 0
        var holdsSlot = false
        /// Set by ``sendBlockRequest(_:block2:to:at:)``: the Block2 response is delivered as it
        /// is (the caller drives the transfer, one block at a time), never reassembled here.
        var deliversSingleBlock = false
    }
}

// MARK: - Message-layer primitives

extension CoAPEndpoint {
    /// Queues an empty ACK or RST.
    mutating func sendEmpty(_ type: MessageType, messageID: UInt16, to peer: Peer) {
        let bytes: [UInt8] = [0x40 | type.rawValue << 4, 0, UInt8(messageID >> 8), UInt8(truncatingIfNeeded: messageID)]
        outgoing.append(OutgoingDatagram(peer: peer, bytes: bytes))
    }

    /// Encodes and queues `message`; a confirmable one with an `owner` is retransmitted until
    /// acknowledged. Returns the datagram.
    @discardableResult
    mutating func transmit(
        _ message: CoAPMessage, to peer: Peer, owner: TransmissionOwner?, at now: Instant
    ) throws(CoAPEncodingError) -> [UInt8] {
        let bytes = try message.encoded()
        outgoing.append(OutgoingDatagram(peer: peer, bytes: bytes))
        if message.type == .confirmable, let owner {
            compactTimersIfNeeded()
            let parameters = configuration.transmission
            let jitter = 1 + (parameters.ackRandomFactor - 1) * Double(random.next() >> 11) / Double(1 << 53)
            let timeout = parameters.ackTimeout * jitter
            let key = TransmissionKey(peer: peer, messageID: message.messageID)
            let generation = makeIdentifier()
            transmissions[key] = Transmission(
                datagram: bytes, owner: owner, retransmissions: 0, timeout: timeout,
                deadline: now + timeout, generation: generation)
            timers.schedule(.retransmit(key, generation: generation), at: now + timeout)
        }
        return bytes
    }

    mutating func retransmit(_ key: TransmissionKey, generation: Int, at now: Instant) {
        guard var transmission = transmissions[key], transmission.generation == generation else { return }
        guard transmission.retransmissions < configuration.transmission.maxRetransmit else {
            transmissions[key] = nil
            switch transmission.owner {
            case .request(let id): fail(id, .timeout)
            case .notification(let id): endObservation(id, .timeout)
            case .separateResponse: break
            }
            return
        }
        transmission.retransmissions += 1
        transmission.timeout = transmission.timeout * 2
        transmission.deadline = now + transmission.timeout
        transmissions[key] = transmission
        outgoing.append(OutgoingDatagram(peer: key.peer, bytes: transmission.datagram))
        timers.schedule(.retransmit(key, generation: generation), at: transmission.deadline)
    }

    mutating func receiveAcknowledgement(_ message: CoAPMessage, from peer: Peer, at now: Instant) {
        let key = TransmissionKey(peer: peer, messageID: message.messageID)
        guard let transmission = transmissions[key] else { return }
        switch transmission.owner {
        case .request(let id):
            guard let exchange = clientExchanges[id] else {
                transmissions[key] = nil
                return
            }
            // A piggybacked response must carry our token; otherwise it is not our answer.
            if !message.isEmpty, message.token != exchange.token { return }
            // §5.4.1: a response with an unrecognised critical option must be rejected, and
            // rejecting an ACK means ignoring it (§4.2): the request keeps being retransmitted.
            if !message.isEmpty, case .badCriticalOption = message.checkOptions(conditionalRequests: true) { return }
            transmissions[key] = nil
            releaseSlot(id)
            if exchange.isPing {
                finish(id, with: .pong(id))
            } else if message.isEmpty {
                awaitResponse(id, at: now)
            } else {
                handleResponse(message, for: id, at: now)
            }
        case .separateResponse:
            transmissions[key] = nil
        case .notification(let id):
            transmissions[key] = nil
            observations[id]?.inFlightMessageID = nil
        }
    }

    mutating func receiveReset(messageID: UInt16, from peer: Peer) {
        let key = TransmissionKey(peer: peer, messageID: messageID)
        if let transmission = transmissions.removeValue(forKey: key) {
            switch transmission.owner {
            case .request(let id):
                if clientExchanges[id]?.isPing == true { finish(id, with: .pong(id)) } else { fail(id, .reset) }
            case .notification(let id):
                endObservation(id, .reset)
            case .separateResponse:
                break
            }
            return
        }
        // A Reset to a non-confirmable request: the peer rejected it.
        if let id = clientExchanges.first(where: { $0.value.peer == peer && $0.value.messageID == messageID })?.key {
            fail(id, .reset)
            return
        }
        // A Reset to a non-confirmable notification cancels the observation too (RFC 7641 §3.6).
        if let id = observations.first(where: { $0.value.peer == peer && $0.value.lastMessageID == messageID })?.key {
            endObservation(id, .reset)
        }
    }

    /// Whether `key` names a message received recently; if so, re-sends what we answered then
    /// (nothing if we have not answered yet). Expired entries are purged first.
    mutating func replayIfDuplicate(_ key: DuplicateCache<Peer>.Key, at now: Instant) -> Bool {
        duplicates.purge(at: now)
        guard let entry = duplicates.lookup(key, at: now) else { return false }
        if case .answered(let bytes) = entry { outgoing.append(OutgoingDatagram(peer: key.peer, bytes: bytes)) }
        return true
    }

    /// Timers are cancelled lazily (an acknowledged message's retransmission entry stays in the
    /// heap until its deadline, where its stale generation makes it a no-op). Before a new timer
    /// is added to a heap that has reached `timerCompactionThreshold`, the dead entries are
    /// dropped and the threshold becomes twice what is left: the heap holds at most about twice
    /// the live timers (plus 64), at an amortised O(1) per timer.
    mutating func compactTimersIfNeeded() {
        guard timers.count >= timerCompactionThreshold else { return }
        var queue = timers
        timers = TimerQueue()  // `queue` holds the only reference: filtered in place
        queue.removeAll { !isLive($0) }
        timers = queue
        timerCompactionThreshold = max(64, 2 * timers.count)
    }

    /// Drops the dead entries at the front of the timer heap (a message acknowledged before its
    /// retransmission time), so `nextDeadline` does not wake the owner for nothing.
    mutating func removeDeadEarliestTimers() {
        var queue = timers
        timers = TimerQueue()  // `queue` holds the only reference: changed in place
        queue.removeStaleEarliest { !isLive($0) }
        timers = queue
    }

    /// Whether firing `payload` would still do something (what `advance(to:)` checks).
    func isLive(_ payload: TimerPayload) -> Bool {
        switch payload {
        case .retransmit(let key, let generation):
            return transmissions[key]?.generation == generation
        case .responseDeadline(let id, let generation):
            return clientExchanges[id]?.deadlineGeneration == generation
        case .expireCaches:
            return true
        }
    }

    /// Makes sure the caches are purged at `deadline` or earlier. One timer is pending at a
    /// time (not one per block received, which a stream of blocks would pile up in the heap).
    mutating func scheduleCacheExpiry(at deadline: Instant) {
        if let pending = cacheExpiryDeadline, pending <= deadline { return }
        cacheExpiryDeadline = deadline
        timers.schedule(.expireCaches, at: deadline)
    }

    mutating func expireCaches(at now: Instant) {
        duplicates.purge(at: now)
        uploads.expire(at: now)
        expireStreams(at: now)
        representations = representations.filter { $0.value.expiry > now }
        if let pending = cacheExpiryDeadline, pending <= now { cacheExpiryDeadline = nil }
        // Next purge: when the first of what is left expires.
        let next = [uploads.earliestExpiry(), streams.earliestExpiry(), representations.values.map(\.expiry).min()]
            .compactMap { $0 }.min()
        if let next { scheduleCacheExpiry(at: next) }
    }
}
